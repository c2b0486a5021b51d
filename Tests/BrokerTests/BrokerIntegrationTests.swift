// Integration tests against real `mqnamesrv` and `mqbroker` processes on loopback (issue 4, Must-show 1):
// mixed-size messages come back byte-identical in queue order, held pulls answer soon after a send,
// committed offsets survive a restart, the NameServer route follows the broker's topics, and a kill -9
// under SYNC_FLUSH loses no acknowledged message.

import ApusTestSupport
import Foundation
import Logging
import NIOCore
import NIOPosix
import Remoting
import XCTest

final class BrokerIntegrationTests: BrokerClusterTestCase {
    func testMixedSizeMessagesComeBackByteIdenticalInQueueOrderWithOffsetsAndProperties() async throws {
        let c = try await start()
        try await c.createTopic("MixedTopic", queues: 4)
        let sizes = [1, 2, 100, 1024, 4095, 4096, 4097, 65_536, 100_000, 500_000, 1_048_576, 7, 33_333]
        var sent: [Int32: [(body: [UInt8], uniq: String, msgId: String, offset: Int64, tag: String)]] = [:]
        for i in 0..<52 {
            let size = sizes[i % sizes.count]
            let body = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) }
            let queueId = Int32(i % 4)
            let tag = "Tag\(i % 3)"
            let r = try await c.send(topic: "MixedTopic", body: body, queueId: queueId,
                                     props: [("WAIT", "true"), ("TAGS", tag), ("KEYS", "key-\(i)"), ("UNIQ_KEY", "UNIQ\(i)")])
            XCTAssertEqual(r.responseCode, .success, r.remark ?? "")
            let h: SendMessageResponseHeader = try r.decodeHeader()
            XCTAssertEqual(h.queueId, queueId)
            XCTAssertEqual(h.transactionId, "UNIQ\(i)")
            XCTAssertEqual(r.extFields?["MSG_REGION"], "DefaultRegion")
            XCTAssertEqual(r.extFields?["TRACE_ON"], "true")
            let expectedOffset = Int64(sent[queueId]?.count ?? 0)
            XCTAssertEqual(h.queueOffset, expectedOffset)
            sent[queueId, default: []].append((body, "UNIQ\(i)", try XCTUnwrap(h.msgId), expectedOffset, tag))
        }
        for q in Int32(0)..<4 {
            _ = try await c.dispatchedMaxOffset(topic: "MixedTopic", queueId: q, atLeast: Int64(sent[q]?.count ?? 0))
            let pulled = try await c.pullAll(group: "MixedGroup", topic: "MixedTopic", queueId: q)
            let expected = sent[q] ?? []
            XCTAssertEqual(pulled.count, expected.count, "queue \(q)")
            for (m, e) in zip(pulled, expected) {
                XCTAssertEqual(m.body, e.body, "queue \(q) offset \(e.offset)")
                XCTAssertEqual(m.queueOffset, e.offset)
                XCTAssertEqual(m.queueId, q)
                XCTAssertEqual(m.topic, "MixedTopic")
                XCTAssertEqual(m.properties["UNIQ_KEY"], e.uniq)
                XCTAssertEqual(m.properties["TAGS"], e.tag)
                XCTAssertEqual(m.properties["CLUSTER"], "TestCluster")
                XCTAssertEqual(m.storeHost, cluster.brokerAddr)
            }
            let awaited1 = try await c.offsetRequest(.getMaxOffset, topic: "MixedTopic", queueId: q)
            XCTAssertEqual(awaited1, Int64(expected.count))
            let awaited2 = try await c.offsetRequest(.getMinOffset, topic: "MixedTopic", queueId: q)
            XCTAssertEqual(awaited2, 0)
        }
        // The same bytes through the copying path (zero-copy is the default for runs of 32 KiB and more).
        let zeroCopied = try await c.pullAll(group: "MixedGroup", topic: "MixedTopic", queueId: 2)
        let toHeap = try await client.invokeSync(cluster.brokerAddr, .request(.updateBrokerConfig, body: ByteBuffer(string: "transferMsgByHeap=true\n")))
        XCTAssertEqual(toHeap.responseCode, .success)
        let copied = try await c.pullAll(group: "MixedGroup", topic: "MixedTopic", queueId: 2)
        XCTAssertEqual(copied, zeroCopied)
        XCTAssertEqual(copied.count, sent[2]?.count)
        // Tag filtering computed by the broker: only Tag1 messages of queue 1, through the whole queue.
        var tagged: [DecodedMessage] = []
        var next: Int64 = 0
        for _ in 0..<100 {
            let r = try await c.pull(group: "MixedGroup", topic: "MixedTopic", queueId: 1, offset: next, subscription: "Tag1 || Nope")
            guard r.responseCode == .success || r.responseCode == .pullRetryImmediately else { break }
            tagged += try RecordDecoder.decodeAll(r.bodyBytes)
            next = try (r.decodeHeader() as PullMessageResponseHeader).nextBeginOffset
        }
        XCTAssertTrue(tagged.allSatisfy { $0.properties["TAGS"] == "Tag1" })
        XCTAssertEqual(tagged.map(\.queueOffset), (sent[1] ?? []).filter { $0.tag == "Tag1" }.map(\.offset))
        // VIEW_MESSAGE_BY_ID with the offset id from the send response; QUERY_MESSAGE by key.
        let first = try XCTUnwrap(sent[2]?.first)
        let physical = Int64(first.msgId.suffix(16), radix: 16) ?? -1
        let view = try await client.invokeSync(cluster.brokerAddr, .request(.viewMessageById, header: ViewMessageRequestHeader(offset: physical)))
        XCTAssertEqual(view.responseCode, .success)
        XCTAssertEqual(try RecordDecoder.decodeAll(view.bodyBytes).first?.body, first.body)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let query = try await client.invokeSync(cluster.brokerAddr, .request(.queryMessage, header: QueryMessageRequestHeader(
            topic: "MixedTopic", key: "key-2", maxNum: 32, beginTimestamp: now - 600_000, endTimestamp: now + 600_000)))
        XCTAssertEqual(query.responseCode, .success, query.remark ?? "")
        XCTAssertTrue(try RecordDecoder.decodeAll(query.bodyBytes).contains { $0.properties["KEYS"] == "key-2" })
    }

    func testHeldPullReturnsWithinTensOfMillisecondsOfASend() async throws {
        let c = try await start()
        try await c.createTopic("HoldTopic", queues: 1)
        let awaited3 = try await c.send(topic: "HoldTopic", body: [1], queueId: 0).responseCode
        XCTAssertEqual(awaited3, .success)
        _ = try await c.dispatchedMaxOffset(topic: "HoldTopic", queueId: 0, atLeast: 1)
        // Parked: offset 1 is the end of the queue.
        let started = ContinuousClock.now
        async let held = c.pull(group: "HoldGroup", topic: "HoldTopic", queueId: 0, offset: 1, sysFlag: 4 | 2,
                                suspendMs: 15_000)
        try await Task.sleep(for: .milliseconds(300))
        let sendAt = ContinuousClock.now
        let awaited4 = try await c.send(topic: "HoldTopic", body: Array("wake".utf8), queueId: 0).responseCode
        XCTAssertEqual(awaited4, .success)
        let r = try await held
        let answeredAt = ContinuousClock.now
        XCTAssertEqual(r.responseCode, .success)
        XCTAssertEqual(try RecordDecoder.decodeAll(r.bodyBytes).map(\.body), [Array("wake".utf8)])
        XCTAssertGreaterThan(sendAt - started, .milliseconds(250), "the pull was answered before the send")
        XCTAssertLessThan(answeredAt - sendAt, .milliseconds(100), "held pull took \(answeredAt - sendAt) after the send")

        // With nothing sent, a held pull answers PULL_NOT_FOUND once its hold time ends.
        let t0 = ContinuousClock.now
        let empty = try await c.pull(group: "HoldGroup", topic: "HoldTopic", queueId: 0, offset: 2, sysFlag: 6, suspendMs: 500)
        XCTAssertEqual(empty.responseCode, .pullNotFound)
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - t0, .milliseconds(450))
        let h: PullMessageResponseHeader = try empty.decodeHeader()
        XCTAssertEqual(h.nextBeginOffset, 2)
        XCTAssertEqual(h.maxOffset, 2)
    }

    func testCommittedOffsetsSurviveABrokerRestart() async throws {
        let c = try await start()
        try await c.createTopic("OffsetTopic", queues: 2)
        for i in 0..<5 { _ = try await c.send(topic: "OffsetTopic", body: [UInt8(i)], queueId: Int32(i % 2)) }
        let update = UpdateConsumerOffsetRequestHeader(consumerGroup: "OffsetGroup", topic: "OffsetTopic", queueId: 0, commitOffset: 3)
        // The group must exist first (a heartbeat or pull creates it).
        _ = try await c.pull(group: "OffsetGroup", topic: "OffsetTopic", queueId: 1, offset: 0, sysFlag: 4 | 1, commitOffset: 2)
        let u = try await client.invokeSync(cluster.brokerAddr, .request(.updateConsumerOffset, header: update))
        XCTAssertEqual(u.responseCode, .success, u.remark ?? "")
        let port = cluster.brokerPort
        let status = await cluster.broker?.stop()
        XCTAssertEqual(status, 0, "SIGTERM is a clean exit")
        XCTAssertFalse(FileManager.default.fileExists(atPath: cluster.storeDirectory.appendingPathComponent("abort").path),
                       "a graceful stop removes the abort file")
        XCTAssertTrue(cluster.broker?.output.value.contains("shutdown OK") ?? false)
        client.closeChannel(to: cluster.brokerAddr)
        try await cluster.startBroker(listenPort: port)
        let c2 = TestClient(client: client, address: cluster.brokerAddr)
        for (q, expected) in [(Int32(0), Int64(3)), (1, 2)] {
            let r = try await client.invokeSync(c2.address, .request(.queryConsumerOffset, header: QueryConsumerOffsetRequestHeader(
                consumerGroup: "OffsetGroup", topic: "OffsetTopic", queueId: q)))
            XCTAssertEqual(r.responseCode, .success)
            XCTAssertEqual(try (r.decodeHeader() as OffsetResponseHeader).offset, expected)
        }
        let text = try String(contentsOf: cluster.storeDirectory.appendingPathComponent("config/consumerOffset.json"), encoding: .utf8)
        XCTAssertTrue(text.contains("\"OffsetTopic@OffsetGroup\":{0:3,1:2}"), text)
        // The messages are still there too.
        let awaited5 = try await c2.offsetRequest(.getMaxOffset, topic: "OffsetTopic", queueId: 0)
        XCTAssertEqual(awaited5, 3)
    }

    func testNameServerRouteFollowsTheBrokersTopicsWithinOneRegistrationPeriod() async throws {
        let c = try await start()
        func route(_ topic: String) async throws -> TopicRouteData? {
            let r = try await client.invokeSync(cluster.namesrvAddr, .request(.getRouteInfoByTopic, header: GetRouteInfoRequestHeader(topic: topic)))
            return r.responseCode == .success ? try TopicRouteData.decode(try XCTUnwrap(r.body)) : nil
        }
        let tbw = try await route("TBW102")
        XCTAssertEqual(tbw?.brokerDatas.first?.brokerAddrs[0], cluster.brokerAddr)
        XCTAssertEqual(tbw?.queueDatas.first?.perm, 7)
        // Auto-created by a send (TBW102 template, client asks for 4 queues) and created by admin.
        let awaited6 = try await c.send(topic: "AutoTopic", body: [1]).responseCode
        XCTAssertEqual(awaited6, .success)
        try await c.createTopic("AdminTopic", queues: 3)
        let deadline = ContinuousClock.now + .seconds(10)
        var auto: TopicRouteData?
        var admin: TopicRouteData?
        while ContinuousClock.now < deadline {
            auto = try await route("AutoTopic")
            admin = try await route("AdminTopic")
            if auto != nil && admin != nil { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        XCTAssertEqual(auto?.queueDatas.first?.writeQueueNums, 4)
        XCTAssertEqual(auto?.queueDatas.first?.perm, 6)
        XCTAssertEqual(admin?.queueDatas.first?.readQueueNums, 3)
        XCTAssertEqual(admin?.brokerDatas.first?.cluster, "TestCluster")
        // A graceful stop unregisters the broker.
        await cluster.broker?.stop()
        let awaited7 = try await route("AdminTopic")
        XCTAssertNil(awaited7)
    }

    func testKill9UnderSyncFlushLosesNoAcknowledgedMessage() async throws {
        let c = try await start(["flushDiskType": "SYNC_FLUSH"], namesrv: false)
        try await c.createTopic("DurableTopic", queues: 2)
        let acked = OutputBox()
        let senders = (0..<8).map { worker in
            Task {
                for i in 0..<100_000 {
                    let body = Array("w\(worker)-m\(i)-".utf8) + [UInt8](repeating: UInt8(i & 0xFF), count: 100 + i % 900)
                    guard let r = try? await c.send(topic: "DurableTopic", body: body, queueId: Int32(worker % 2)),
                          r.responseCode == .success, let h = try? r.decodeHeader() as SendMessageResponseHeader,
                          let q = h.queueId, let off = h.queueOffset
                    else { return }
                    acked.withLock { $0 += "\(q) \(off) \(body.count) \(body.prefix(12).map { String($0) }.joined(separator: ","))\n" }
                }
            }
        }
        while acked.value.split(separator: "\n").count < 300 { try await Task.sleep(for: .milliseconds(5)) }
        await cluster.broker?.kill9()
        for s in senders { await s.value }
        let acks = acked.value.split(separator: "\n").map { $0.split(separator: " ") }
        client.closeChannel(to: cluster.brokerAddr)
        try await cluster.startBroker(listenPort: cluster.brokerPort)
        let c2 = TestClient(client: client, address: cluster.brokerAddr)
        var stored: [Int32: [DecodedMessage]] = [:]
        for q in Int32(0)..<2 { stored[q] = try await c2.pullAll(group: "DurableGroup", topic: "DurableTopic", queueId: q) }
        XCTAssertGreaterThanOrEqual(acks.count, 300)
        for a in acks {
            let q = Int32(a[0]) ?? -1, off = Int(a[1]) ?? -1, size = Int(a[2]) ?? -1
            let list = stored[q] ?? []
            guard off < list.count else { XCTFail("acknowledged message \(q)/\(off) lost after kill -9"); continue }
            XCTAssertEqual(list[off].body.count, size)
            XCTAssertEqual(list[off].body.prefix(12).map { String($0) }.joined(separator: ","), String(a[3]))
        }
    }

    func testPrintConfigShowsTheEffectiveSettings() async throws {
        cluster = try Cluster()
        let conf = cluster.directory.appendingPathComponent("p.conf")
        try "brokerName = broker-p\nlistenPort=12345\nflushDiskType=SYNC_FLUSH\nstorePathRootDir=/tmp/x\n".write(to: conf, atomically: true, encoding: .utf8)
        let p = ChildProcess(binary: try findBinary("mqbroker", env: "APUS_MQBROKER"), arguments: ["-c", conf.path, "-n", "1.2.3.4:9876", "-p"])
        let text: String = try await p.start { $0.contains("deleteWhen=") ? $0 : nil }
        for line in ["brokerName=broker-p", "listenPort=12345", "namesrvAddr=1.2.3.4:9876", "flushDiskType=SYNC_FLUSH",
                     "storePathRootDir=/tmp/x", "haListenPort=12346", "autoCreateTopicEnable=true"] {
            XCTAssertTrue(text.contains(line + "\n"), "missing \(line) in \(text)")
        }
        await p.stop()
    }
}
