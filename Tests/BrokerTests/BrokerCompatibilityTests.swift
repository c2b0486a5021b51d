// Requests shaped exactly as the Java 4.9 and C++ 2.2 clients send them (remoting.md §9, §17,
// observed-clients.md), against a real broker: JSON answers whose every field those clients read is a
// JSON string, V2 batches, C++ numbers in extFields and AccessKey/Signature fields, heartbeat bodies with
// ordinals, the push-consumer start-up sequence and NOTIFY_CONSUMER_IDS_CHANGED.

import Common
import ApusTestSupport
import Foundation
import Logging
import NIOCore
import NIOPosix
import Remoting
import XCTest

final class BrokerCompatibilityTests: XCTestCase {
    var group: MultiThreadedEventLoopGroup!
    var client: RemotingClient!
    var cluster: Cluster!
    var c: TestClient!

    override func setUp() async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        client = RemotingClient(group: group, logger: Logger(label: "test"))
        cluster = try Cluster()
        try await cluster.startNamesrv()
        try await cluster.startBroker()
        c = TestClient(client: client, address: cluster.brokerAddr)
    }

    override func tearDown() async throws {
        await client.shutdown()
        if let cluster { await cluster.stopAll() }
        try await group.shutdownGracefully()
    }

    func exchange(_ headerJSON: String, body: [UInt8] = []) throws -> (header: JSONValue, serializeType: UInt8, body: [UInt8]) {
        let socket = try RawSocket(port: cluster.brokerPort)
        socket.send(RawFrames.frame(headerJSON: headerJSON, body: body))
        // Skip requests the broker sends first (NOTIFY_CONSUMER_IDS_CHANGED after a heartbeat).
        for _ in 0..<10 {
            let frame = try RawFrames.parse(try XCTUnwrap(socket.readFrame(), "no response"))
            if (frame.header["flag"]?.int64Value ?? 0) & 1 == 1 { return frame }
        }
        throw NSError(domain: "no response frame", code: 1)
    }

    func testCppSendV2WithNumbersAndSignatureFieldsIsAnsweredInJSONWithStringFields() throws {
        let props = "WAIT\u{1}true\u{2}UNIQ_KEY\u{1}C0A8000100002A9F0000000000000001\u{2}TAGS\u{1}TagA\u{2}"
        let escaped = props.replacingOccurrences(of: "\u{1}", with: "\\u0001").replacingOccurrences(of: "\u{2}", with: "\\u0002")
        let header = #"{"code":310,"language":"CPP","version":333,"opaque":17,"flag":0,"remark":"","extFields":{"AccessKey":"","OnsChannel":"ALIYUN","Signature":"","a":"CppGroup","b":"CppTopic","c":"TBW102","d":4,"e":1,"f":0,"g":"1700000000000","h":0,"i":"\#(escaped)","j":"0","k":"false","l":16,"m":"false"}}"# + "\n"
        let r = try exchange(header, body: Array("hello from C++".utf8))
        XCTAssertEqual(r.serializeType, 0, "C++ reads only JSON responses")
        XCTAssertEqual(r.header["code"]?.int64Value, 0, "\(r.header)")
        XCTAssertEqual(r.header["opaque"]?.int64Value, 17)
        let ext = try XCTUnwrap(r.header["extFields"])
        for key in ["msgId", "queueId", "queueOffset", "transactionId", "MSG_REGION", "TRACE_ON"] {
            XCTAssertTrue(ext.isStringMember(key), "\(key) must be a JSON string: \(ext)")
        }
        XCTAssertEqual(ext["queueId"]?.stringValue, "1")
        XCTAssertEqual(ext["queueOffset"]?.stringValue, "0")
        XCTAssertEqual(ext["transactionId"]?.stringValue, "C0A8000100002A9F0000000000000001")
        XCTAssertEqual(ext["msgId"]?.stringValue?.count, 32)
        // An error answer carries the two extra keys too.
        let bad = try exchange(#"{"code":310,"language":"CPP","version":333,"opaque":18,"flag":0,"remark":"","extFields":{"AccessKey":"","OnsChannel":"ALIYUN","Signature":"","a":"CppGroup","b":"CppTopic","c":"TBW102","d":4,"e":9,"f":0,"g":"1","h":0}}"#, body: [1])
        XCTAssertEqual(bad.header["code"]?.int64Value, 29)
        XCTAssertTrue(bad.header["extFields"]?.isStringMember("MSG_REGION") ?? false)
        XCTAssertTrue(bad.header["extFields"]?.isStringMember("TRACE_ON") ?? false)
    }

    func testCppBatchThroughSendV2WithTheBatchFlagStoresEachMessageWithItsOwnProperties() async throws {
        let items: [(body: [UInt8], props: String)] = (0..<3).map { i in
            (Array("batch-\(i)".utf8), "WAIT\u{1}true\u{2}UNIQ_KEY\u{1}ID\(i)\u{2}KEYS\u{1}k\(i)\u{2}")
        }
        let body = RawFrames.batchBody(items)
        let header = #"{"code":310,"language":"CPP","version":333,"opaque":5,"flag":0,"remark":"","extFields":{"AccessKey":"","OnsChannel":"ALIYUN","Signature":"","a":"CppGroup","b":"BatchTopic","c":"TBW102","d":4,"e":0,"f":0,"g":"1700000000000","h":0,"i":"WAIT\u0001true\u0002","j":"0","k":"false","l":16,"m":"true"}}"#
        let r = try exchange(header, body: body)
        XCTAssertEqual(r.header["code"]?.int64Value, 0, "\(r.header)")
        let ext = try XCTUnwrap(r.header["extFields"])
        XCTAssertEqual(ext["msgId"]?.stringValue?.split(separator: ",").count, 3)
        XCTAssertEqual(ext["queueOffset"]?.stringValue, "0")
        // Java sends batches as code 320 with the V2 letters.
        let javaBatch = SendMessageRequestHeader(producerGroup: "JavaGroup", topic: "BatchTopic", queueId: 0,
                                                 bornTimestamp: 1_700_000_000_000, properties: "WAIT\u{1}true\u{2}", batch: true)
        var j = RemotingCommand.request(.sendBatchMessage, body: ByteBuffer(bytes: body))
        j.extFields = javaBatch.toV2ExtFields()
        let jr = try await client.invokeSync(cluster.brokerAddr, j)
        XCTAssertEqual(jr.responseCode, .success, jr.remark ?? "")
        XCTAssertEqual(jr.extFields?["queueOffset"], "3")
        _ = try await c.dispatchedMaxOffset(topic: "BatchTopic", queueId: 0, atLeast: 6)
        let pulled = try await c.pullAll(group: "BatchGroup", topic: "BatchTopic", queueId: 0)
        XCTAssertEqual(pulled.map { String(decoding: $0.body, as: UTF8.self) },
                       ["batch-0", "batch-1", "batch-2", "batch-0", "batch-1", "batch-2"])
        XCTAssertEqual(pulled.map { $0.properties["UNIQ_KEY"] ?? "" }, ["ID0", "ID1", "ID2", "ID0", "ID1", "ID2"])
        XCTAssertEqual(pulled.map(\.queueOffset), [0, 1, 2, 3, 4, 5])
    }

    func testCppPushConsumerPullWithNumbersGetsStringOffsets() async throws {
        try await c.createTopic("CppPullTopic", queues: 1)
        _ = try await c.send(topic: "CppPullTopic", body: [1, 2, 3], queueId: 0, props: [("TAGS", "TagA")])
        _ = try await c.dispatchedMaxOffset(topic: "CppPullTopic", queueId: 0, atLeast: 1)
        let heartbeat = #"{"clientID":"127.0.0.1@1234","consumerDataSet":[{"consumeFromWhere":4,"consumeType":1,"groupName":"CppConsumer","messageModel":1,"subscriptionDataSet":[{"codeSet":[0],"subString":"TagA","subVersion":"1700000000000","tagsSet":["TagA"],"topic":"CppPullTopic"}]}]}"# + "\n"
        let hb = try exchange(#"{"code":34,"language":"CPP","version":333,"opaque":1,"flag":0,"remark":"","extFields":{"AccessKey":"","OnsChannel":"ALIYUN","Signature":""}}"#, body: Array(heartbeat.utf8))
        XCTAssertEqual(hb.header["code"]?.int64Value, 0, "\(hb.header)")
        let pull = #"{"code":11,"language":"CPP","version":333,"opaque":2,"flag":0,"remark":"","extFields":{"AccessKey":"","OnsChannel":"ALIYUN","Signature":"","consumerGroup":"CppConsumer","topic":"CppPullTopic","queueId":0,"queueOffset":"0","maxMsgNums":32,"sysFlag":6,"commitOffset":"0","suspendTimeoutMillis":"15000","subscription":"TagA","subVersion":"1700000000000"}}"#
        let r = try exchange(pull)
        XCTAssertEqual(r.header["code"]?.int64Value, 0, "\(r.header)")
        let ext = try XCTUnwrap(r.header["extFields"])
        for key in ["suggestWhichBrokerId", "nextBeginOffset", "minOffset", "maxOffset"] {
            XCTAssertTrue(ext.isStringMember(key), "\(key) must be a JSON string: \(ext)")
        }
        XCTAssertEqual(ext["nextBeginOffset"]?.stringValue, "1")
        let messages = try RecordDecoder.decodeAll(r.body)
        XCTAssertEqual(messages.first?.body, [1, 2, 3])
        XCTAssertEqual(messages.first?.storeHost, cluster.brokerAddr, "C++ decodes IPv4 store hosts only")
        // QUERY_CONSUMER_OFFSET with a numeric queueId; the offset (when found) is a string.
        let q = try exchange(#"{"code":15,"language":"CPP","version":333,"opaque":3,"flag":0,"remark":"","extFields":{"AccessKey":"","OnsChannel":"ALIYUN","Signature":"","consumerGroup":"CppConsumer","topic":"CppPullTopic","queueId":0,"commitOffset":"1"}}"#)
        XCTAssertEqual(q.header["code"]?.int64Value, 0, "\(q.header)")
        let query = try exchange(#"{"code":14,"language":"CPP","version":333,"opaque":4,"flag":0,"remark":"","extFields":{"AccessKey":"","OnsChannel":"ALIYUN","Signature":"","consumerGroup":"CppConsumer","topic":"CppPullTopic","queueId":0}}"#)
        XCTAssertEqual(query.header["extFields"]?["offset"], .string("1"))
        let maxOffset = try exchange(#"{"code":30,"language":"CPP","version":333,"opaque":5,"flag":0,"remark":"","extFields":{"AccessKey":"","OnsChannel":"ALIYUN","Signature":"","topic":"CppPullTopic","queueId":0}}"#)
        XCTAssertEqual(maxOffset.header["extFields"]?["offset"], .string("1"))
        let unregister = try exchange(#"{"code":35,"language":"CPP","version":333,"opaque":6,"flag":0,"remark":"","extFields":{"AccessKey":"","OnsChannel":"ALIYUN","Signature":"","clientID":"127.0.0.1@1234","producerGroup":"","consumerGroup":"CppConsumer"}}"#)
        XCTAssertEqual(unregister.header["code"]?.int64Value, 0)
    }

    func testJavaPushConsumerStartupSequenceAndNotificationOfMembershipChange() async throws {
        try await c.createTopic("JavaTopic", queues: 2)
        _ = try await c.send(topic: "JavaTopic", body: Array("m0".utf8), queueId: 0, props: [("WAIT", "true"), ("TAGS", "A")])
        _ = try await c.dispatchedMaxOffset(topic: "JavaTopic", queueId: 0, atLeast: 1)
        let notified = OutputBox()
        let first = RemotingClient(group: group, logger: Logger(label: "consumer-1"))
        first.registerProcessor(.notifyConsumerIdsChanged, ClosureRequestProcessor { request, _ in
            notified.withLock { $0 += (request.extFields?["consumerGroup"] ?? "?") + "\n" }
            return nil
        })
        defer { Task { await first.shutdown() } }
        func heartbeat(_ clientID: String, via rc: RemotingClient) async throws -> RemotingCommand {
            let data = HeartbeatData(clientID: clientID, consumerDataSet: [ConsumerData(
                groupName: "JavaGroup",
                subscriptionDataSet: [SubscriptionData(topic: "JavaTopic", subString: "A", tagsSet: ["A"],
                                                       codeSet: [65], subVersion: 1_700_000_000_000),
                                      SubscriptionData(topic: "%RETRY%JavaGroup", subVersion: 1_700_000_000_000)])])
            var r = RemotingCommand.request(.heartBeat, body: data.encode())
            r.version = 409
            return try await rc.invokeSync(cluster.brokerAddr, r)
        }
        let hb = try await heartbeat("127.0.0.1@1#1", via: first)
        XCTAssertEqual(hb.responseCode, .success)
        XCTAssertEqual(hb.extFields?["IS_SUPPORT_HEART_BEAT_V2"], "true")
        let list = try await first.invokeSync(cluster.brokerAddr, .request(.getConsumerListByGroup, header: ConsumerGroupRequestHeader(consumerGroup: "JavaGroup")))
        XCTAssertEqual(try GetConsumerListByGroupResponseBody.decode(try XCTUnwrap(list.body)).consumerIdList, ["127.0.0.1@1#1"])
        let query = try await first.invokeSync(cluster.brokerAddr, .request(.queryConsumerOffset, header: QueryConsumerOffsetRequestHeader(
            consumerGroup: "JavaGroup", topic: "JavaTopic", queueId: 1, setZeroIfNotFound: false)))
        XCTAssertEqual(query.responseCode, .queryNotFound)
        // Pull without the subscription bit: the broker uses the heartbeat's subscription.
        let pull = try await TestClient(client: first, address: cluster.brokerAddr)
            .pull(group: "JavaGroup", topic: "JavaTopic", queueId: 0, offset: 0, sysFlag: 2, suspendMs: 15_000)
        XCTAssertEqual(pull.responseCode, .success, pull.remark ?? "")
        let unknownGroupPull = try await c.pull(group: "NeverHeartbeat", topic: "JavaTopic", queueId: 0, offset: 0, sysFlag: 2)
        XCTAssertEqual(unknownGroupPull.responseCode, .subscriptionNotExist)
        // The retry topic was created by the heartbeat.
        let retryMax = try await c.offsetRequest(.getMaxOffset, topic: "%RETRY%JavaGroup", queueId: 0)
        XCTAssertEqual(retryMax, 0)
        // A second member joins: the first hears NOTIFY_CONSUMER_IDS_CHANGED.
        let second = RemotingClient(group: group, logger: Logger(label: "consumer-2"))
        defer { Task { await second.shutdown() } }
        _ = try await heartbeat("127.0.0.1@2#2", via: second)
        let deadline = ContinuousClock.now + .seconds(5)
        while !notified.value.contains("JavaGroup") && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        XCTAssertTrue(notified.value.contains("JavaGroup"))
        let list2 = try await first.invokeSync(cluster.brokerAddr, .request(.getConsumerListByGroup, header: ConsumerGroupRequestHeader(consumerGroup: "JavaGroup")))
        XCTAssertEqual(try GetConsumerListByGroupResponseBody.decode(try XCTUnwrap(list2.body)).consumerIdList.sorted(), ["127.0.0.1@1#1", "127.0.0.1@2#2"])
        // The second disconnects: it leaves the group at once.
        await second.shutdown()
        let deadline2 = ContinuousClock.now + .seconds(5)
        var ids: [String] = []
        repeat {
            let l = try await first.invokeSync(cluster.brokerAddr, .request(.getConsumerListByGroup, header: ConsumerGroupRequestHeader(consumerGroup: "JavaGroup")))
            ids = (try? GetConsumerListByGroupResponseBody.decode(try XCTUnwrap(l.body)).consumerIdList) ?? []
            if ids.count == 1 { break }
            try await Task.sleep(for: .milliseconds(20))
        } while ContinuousClock.now < deadline2
        XCTAssertEqual(ids, ["127.0.0.1@1#1"])
    }

    func testAdminRequestsAnswerWithTheBodiesToolsRead() async throws {
        try await c.createTopic("StatsTopic", queues: 2)
        _ = try await c.send(topic: "StatsTopic", body: [1], queueId: 1)
        _ = try await c.dispatchedMaxOffset(topic: "StatsTopic", queueId: 1, atLeast: 1)
        // Offset lookups by time: the message's store time finds it; a later time finds the end.
        let earliest = try await client.invokeSync(cluster.brokerAddr, .request(.getEarliestMsgStoretime, header: TopicQueueRequestHeader(topic: "StatsTopic", queueId: 1)))
        let storeTime = try (earliest.decodeHeader() as TimestampResponseHeader).timestamp
        XCTAssertGreaterThan(storeTime, 1_700_000_000_000)
        let emptyQueue = try await client.invokeSync(cluster.brokerAddr, .request(.getEarliestMsgStoretime, header: TopicQueueRequestHeader(topic: "StatsTopic", queueId: 0)))
        XCTAssertEqual(try (emptyQueue.decodeHeader() as TimestampResponseHeader).timestamp, -1)
        for (time, expected) in [(storeTime, Int64(0)), (storeTime + 60_000, 1)] {
            let r = try await client.invokeSync(cluster.brokerAddr, .request(.searchOffsetByTimestamp, header: SearchOffsetRequestHeader(
                topic: "StatsTopic", queueId: 1, timestamp: time)))
            XCTAssertEqual(try (r.decodeHeader() as OffsetResponseHeader).offset, expected, "at \(time)")
        }
        let stats = try await client.invokeSync(cluster.brokerAddr, .request(.getTopicStatsInfo, header: TopicRequestHeader(topic: "StatsTopic")))
        let table = try TopicStatsTable.decode(try XCTUnwrap(stats.body))
        XCTAssertEqual(table.offsetTable[MessageQueue(topic: "StatsTopic", brokerName: "broker-a", queueId: 1)]?.maxOffset, 1)
        XCTAssertEqual(table.offsetTable.count, 2)
        let update = try await client.invokeSync(cluster.brokerAddr, .request(.updateConsumerOffset, header: UpdateConsumerOffsetRequestHeader(
            consumerGroup: "TOOLS_CONSUMER", topic: "StatsTopic", queueId: 1, commitOffset: 1)))
        XCTAssertEqual(update.responseCode, .success)
        let consume = try await client.invokeSync(cluster.brokerAddr, .request(.getConsumeStats, header: GetConsumeStatsRequestHeader(consumerGroup: "TOOLS_CONSUMER")))
        let cs = try ConsumeStats.decode(try XCTUnwrap(consume.body))
        XCTAssertEqual(cs.offsetTable[MessageQueue(topic: "StatsTopic", brokerName: "broker-a", queueId: 1)]?.consumerOffset, 1)
        let runtime = try await client.invokeSync(cluster.brokerAddr, .request(.getBrokerRuntimeInfo))
        let kv = try KVTable.decode(try XCTUnwrap(runtime.body))
        XCTAssertEqual(kv.table["msgPutTotalTodayNow"], "1")
        XCTAssertNotNil(kv.table["putTps"])
        let config = try await client.invokeSync(cluster.brokerAddr, .request(.getBrokerConfig))
        let text = String(decoding: config.bodyBytes, as: UTF8.self)
        XCTAssertTrue(text.contains("brokerName=broker-a\n"), text)
        XCTAssertTrue(text.contains("flushDiskType=ASYNC_FLUSH\n"), text)
        var sg = SubscriptionGroupConfig(groupName: "AdminGroup")
        sg.retryMaxTimes = 3
        let created = try await client.invokeSync(cluster.brokerAddr, .request(.updateAndCreateSubscriptionGroup, body: sg.encode()))
        XCTAssertEqual(created.responseCode, .success)
        let all = try await client.invokeSync(cluster.brokerAddr, .request(.getAllSubscriptionGroupConfig))
        XCTAssertEqual(try SubscriptionGroupWrapper.decode(try XCTUnwrap(all.body)).subscriptionGroupTable["AdminGroup"]?.retryMaxTimes, 3)
        let deleted = try await client.invokeSync(cluster.brokerAddr, .request(.deleteSubscriptionGroup, header: DeleteSubscriptionGroupRequestHeader(groupName: "AdminGroup")))
        XCTAssertEqual(deleted.responseCode, .success)
        let delTopic = try await client.invokeSync(cluster.brokerAddr, .request(.deleteTopicInBroker, header: TopicRequestHeader(topic: "StatsTopic")))
        XCTAssertEqual(delTopic.responseCode, .success)
        let gone = try await c.send(topic: "StatsTopic", body: [1], queueId: 5)
        XCTAssertEqual(gone.responseCode, .invalidParameter, "re-created from TBW102 with 4 queues")
        let persisted = try String(contentsOf: cluster.storeDirectory.appendingPathComponent("config/subscriptionGroup.json"), encoding: .utf8)
        XCTAssertFalse(persisted.contains("AdminGroup"))
    }
}
