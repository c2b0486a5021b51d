// GrpcEndpointTests: a broker and its gRPC endpoint in this process, spoken to by grpc-swift's client over
// loopback with the generated MessagingService stubs: routes, sends, POP receive with ack, redelivery of an
// unacked message with its attempt incremented, ChangeInvisibleDuration, stale receipt handles, the
// committed offset advancing past acked messages only.

import ApusTestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import GrpcAPI
import Logging
import NIOPosix
import Remoting
import Store
import XCTest

@testable import Broker
@testable import BrokerGrpc

final class GrpcEndpointTests: XCTestCase {
    typealias Client = Apache_Rocketmq_V2_MessagingService.Client<HTTP2ClientTransport.Posix>

    /// Runs `body` against a fresh broker (topic `topic` with 2 queues) and its gRPC endpoint; stops both.
    func withEndpoint(topic: String, _ body: (Client, BrokerController) async throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("apus-grpc-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var logger = Logger(label: "grpc-test")
        logger.logLevel = .warning
        var bc = BrokerConfig()
        bc.brokerIP1 = "127.0.0.1"
        bc.listenPort = 0
        bc.namesrvAddr = ""
        var sc = MessageStoreConfig(storePathRootDir: dir)
        sc.mappedFileSizeCommitLogBytes = 8 << 20  // room for a maxMessageSize (4 MiB) body
        sc.messageDelayLevel = "1s 2s"
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let broker = try await BrokerController.start(brokerConfig: bc, storeConfig: sc, group: group, logger: logger)
        _ = broker.topicConfigManager.createTopicIfAbsent(topic, queueNums: 2)
        let server: GrpcMessagingServer
        do {
            server = try await GrpcMessagingServer.start(broker: broker, host: "127.0.0.1", port: 0, logger: logger)
        } catch {
            await broker.shutdown()
            try await group.shutdownGracefully()
            throw error
        }
        do {
            let transport = try HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: server.port),
                                                           transportSecurity: .plaintext)
            try await withGRPCClient(transport: transport) { grpc in
                try await body(Client(wrapping: grpc), broker)
            }
        } catch {
            await server.shutdown()
            await broker.shutdown()
            try await group.shutdownGracefully()
            throw error
        }
        await server.shutdown()
        await broker.shutdown()
        try await group.shutdownGracefully()
    }

    func resource(_ name: String) -> Apache_Rocketmq_V2_Resource {
        var r = Apache_Rocketmq_V2_Resource()
        r.name = name
        return r
    }

    func send(_ client: Client, topic: String, bodies: [String], tag: String? = nil, group: String? = nil) async throws -> [Apache_Rocketmq_V2_SendResultEntry] {
        var req = Apache_Rocketmq_V2_SendMessageRequest()
        for (i, b) in bodies.enumerated() {
            var m = Apache_Rocketmq_V2_Message()
            m.topic = resource(topic)
            m.body = Data(b.utf8)
            m.systemProperties.messageID = "MSGID\(i)-\(b)"
            m.systemProperties.messageType = group == nil ? .normal : .fifo
            if let tag { m.systemProperties.tag = tag }
            if let group { m.systemProperties.messageGroup = group }
            req.messages.append(m)
        }
        let resp = try await client.sendMessage(req)
        XCTAssertEqual(resp.status.code, .ok, resp.status.message)
        return resp.entries
    }

    func receive(_ client: Client, topic: String, group: String, invisibleMs: Int64, pollMs: Int64 = 0) async throws -> (Apache_Rocketmq_V2_Code, [Apache_Rocketmq_V2_Message]) {
        var req = Apache_Rocketmq_V2_ReceiveMessageRequest()
        req.group = resource(group)
        req.messageQueue.topic = resource(topic)
        req.messageQueue.id = -1
        req.batchSize = 32
        req.invisibleDuration = GrpcMessageConverter.duration(ms: invisibleMs)
        req.longPollingTimeout = GrpcMessageConverter.duration(ms: pollMs)
        var filter = Apache_Rocketmq_V2_FilterExpression()
        filter.type = .tag
        filter.expression = "*"
        req.filterExpression = filter
        return try await client.receiveMessage(req) { response in
            var code = Apache_Rocketmq_V2_Code.unspecified
            var messages: [Apache_Rocketmq_V2_Message] = []
            for try await r in response.messages {
                switch r.content {
                case .status(let s)?: code = s.code
                case .message(let m)?: messages.append(m)
                default: break
                }
            }
            return (code, messages)
        }
    }

    func ack(_ client: Client, topic: String, group: String, _ m: Apache_Rocketmq_V2_Message) async throws -> Apache_Rocketmq_V2_Code {
        var req = Apache_Rocketmq_V2_AckMessageRequest()
        req.group = resource(group)
        req.topic = resource(topic)
        var e = Apache_Rocketmq_V2_AckMessageEntry()
        e.messageID = m.systemProperties.messageID
        e.receiptHandle = m.systemProperties.receiptHandle
        req.entries = [e]
        return try await client.ackMessage(req).status.code
    }

    func testRouteNamesEveryQueueAndUnknownTopicsAreNotFound() async throws {
        try await withEndpoint(topic: "GrpcRoute") { client, _ in
            var req = Apache_Rocketmq_V2_QueryRouteRequest()
            req.topic = resource("GrpcRoute")
            let route = try await client.queryRoute(req)
            XCTAssertEqual(route.status.code, .ok)
            XCTAssertEqual(route.messageQueues.map(\.id), [0, 1])
            XCTAssertTrue(route.messageQueues.allSatisfy { $0.permission == .readWrite && $0.broker.id == 0 })
            XCTAssertFalse(route.messageQueues[0].broker.endpoints.addresses.isEmpty)
            req.topic = resource("NoSuchTopic")
            let missing = try await client.queryRoute(req)
            XCTAssertEqual(missing.status.code, .topicNotFound)
        }
    }

    func testReceivedMessagesAreAckedOnceAndUnackedOnesComeBackWithTheNextAttempt() async throws {
        let topic = "GrpcPop", group = "grpc_pop_cg"
        try await withEndpoint(topic: topic) { client, broker in
            let entries = try await send(client, topic: topic, bodies: ["a", "b", "c"], tag: "T1")
            XCTAssertEqual(entries.map(\.status.code), [.ok, .ok, .ok])
            // The store dispatches puts to their queues in the background: receive (each call a long poll)
            // until all three were handed out, each once.
            var first: [Apache_Rocketmq_V2_Message] = []
            let deadline = ContinuousClock.now + .seconds(10)
            while first.count < 3 && ContinuousClock.now < deadline {
                first += try await receive(client, topic: topic, group: group, invisibleMs: 2000, pollMs: 1000).1
            }
            XCTAssertEqual(first.map { String(decoding: $0.body, as: UTF8.self) }.sorted(), ["a", "b", "c"])
            for m in first {
                XCTAssertEqual(m.systemProperties.deliveryAttempt, 1)
                XCTAssertEqual(m.systemProperties.tag, "T1")
                XCTAssertEqual(m.systemProperties.bodyDigest.checksum, GrpcMessageConverter.crc32Hex([UInt8](m.body)))
                XCTAssertTrue(entries.map(\.messageID).contains(m.systemProperties.messageID))
            }
            // Nothing more while the three are invisible.
            let (emptyCode, none) = try await receive(client, topic: topic, group: group, invisibleMs: 2000)
            XCTAssertEqual(emptyCode, .messageNotFound)
            XCTAssertTrue(none.isEmpty)
            // Ack all but "b"; "b" comes back once its 2 s passed, with attempt 2.
            let unacked = try XCTUnwrap(first.first { $0.body == Data("b".utf8) })
            for m in first where m.body != Data("b".utf8) {
                let acked = try await ack(client, topic: topic, group: group, m)
                XCTAssertEqual(acked, .ok)
            }
            let (againCode, again) = try await receive(client, topic: topic, group: group, invisibleMs: 30_000, pollMs: 5000)
            XCTAssertEqual(againCode, .ok)
            XCTAssertEqual(again.map { String(decoding: $0.body, as: UTF8.self) }, ["b"])
            XCTAssertEqual(again.first?.systemProperties.deliveryAttempt, 2)
            // The first delivery's handle is stale; the second one acks.
            let stale = try await ack(client, topic: topic, group: group, unacked)
            XCTAssertEqual(stale, .invalidReceiptHandle)
            let b = try XCTUnwrap(again.first)
            let ackedB = try await ack(client, topic: topic, group: group, b)
            XCTAssertEqual(ackedB, .ok)
            // Every message acked: the committed offsets cover all three.
            let committed = (0..<2).map { broker.consumerOffsetManager.queryOffset(group: group, topic: topic, queueId: Int32($0)) ?? 0 }
            XCTAssertEqual(committed.reduce(0, +), 3)
        }
    }

    func testChangeInvisibleDurationRenewsTheHandleAndMovesTheRedelivery() async throws {
        let topic = "GrpcInvisible", group = "grpc_inv_cg"
        try await withEndpoint(topic: topic) { client, broker in
            _ = try await send(client, topic: topic, bodies: ["x"])
            let (_, got) = try await receive(client, topic: topic, group: group, invisibleMs: 60_000, pollMs: 3000)
            let m = try XCTUnwrap(got.first)
            var change = Apache_Rocketmq_V2_ChangeInvisibleDurationRequest()
            change.group = resource(group)
            change.topic = resource(topic)
            change.receiptHandle = m.systemProperties.receiptHandle
            change.invisibleDuration = GrpcMessageConverter.duration(ms: 200)
            let changed = try await client.changeInvisibleDuration(change)
            XCTAssertEqual(changed.status.code, .ok)
            XCTAssertNotEqual(changed.receiptHandle, m.systemProperties.receiptHandle)
            // The old handle is no longer the message's delivery.
            let again = try await client.changeInvisibleDuration(change)
            XCTAssertEqual(again.status.code, .invalidReceiptHandle)
            let (_, back) = try await receive(client, topic: topic, group: group, invisibleMs: 60_000, pollMs: 3000)
            XCTAssertEqual(back.map(\.systemProperties.deliveryAttempt), [2])
            // Unacked: the committed offset stays before it.
            let committed = (0..<2).map { broker.consumerOffsetManager.queryOffset(group: group, topic: topic, queueId: Int32($0)) ?? 0 }
            XCTAssertEqual(committed.reduce(0, +), 0)
        }
    }

    func testHalfMessagesWaitForEndTransaction() async throws {
        let topic = "GrpcTx", group = "grpc_tx_cg"
        try await withEndpoint(topic: topic) { client, _ in
            var ids: [String: Apache_Rocketmq_V2_SendResultEntry] = [:]
            for body in ["commit", "rollback"] {
                var req = Apache_Rocketmq_V2_SendMessageRequest()
                var m = Apache_Rocketmq_V2_Message()
                m.topic = resource(topic)
                m.body = Data(body.utf8)
                m.systemProperties.messageID = "TX-\(body)"
                m.systemProperties.messageType = .transaction
                req.messages = [m]
                let resp = try await client.sendMessage(req)
                XCTAssertEqual(resp.status.code, .ok, resp.status.message)
                ids[body] = resp.entries.first
            }
            let (nothing, none) = try await receive(client, topic: topic, group: group, invisibleMs: 30_000, pollMs: 600)
            XCTAssertEqual(nothing, .messageNotFound)
            XCTAssertTrue(none.isEmpty)
            for (body, resolution) in [("commit", Apache_Rocketmq_V2_TransactionResolution.commit), ("rollback", .rollback)] {
                var end = Apache_Rocketmq_V2_EndTransactionRequest()
                end.topic = resource(topic)
                end.messageID = ids[body]?.messageID ?? ""
                end.transactionID = ids[body]?.transactionID ?? ""
                end.resolution = resolution
                end.source = .sourceClient
                let ended = try await client.endTransaction(end)
                XCTAssertEqual(ended.status.code, .ok, "\(body): \(ended.status.message)")
            }
            var bad = Apache_Rocketmq_V2_EndTransactionRequest()
            bad.topic = resource(topic)
            bad.transactionID = "not-ours"
            bad.resolution = .commit
            let refused = try await client.endTransaction(bad)
            XCTAssertEqual(refused.status.code, .invalidTransactionID)
            let (code, got) = try await receive(client, topic: topic, group: group, invisibleMs: 30_000, pollMs: 3000)
            XCTAssertEqual(code, .ok)
            XCTAssertEqual(got.map { String(decoding: $0.body, as: UTF8.self) }, ["commit"])
            XCTAssertEqual(got.first?.systemProperties.messageID, "TX-commit")
        }
    }

    func testTelemetryAnswersSettingsAndAnOpenStreamDoesNotHoldTheShutdown() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("apus-grpc-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var logger = Logger(label: "grpc-test")
        logger.logLevel = .warning
        var bc = BrokerConfig()
        bc.brokerIP1 = "127.0.0.1"
        bc.listenPort = 0
        bc.namesrvAddr = ""
        var sc = MessageStoreConfig(storePathRootDir: dir)
        sc.mappedFileSizeCommitLogBytes = 4 << 20
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let broker = try await BrokerController.start(brokerConfig: bc, storeConfig: sc, group: group, logger: logger)
        let server = try await GrpcMessagingServer.start(broker: broker, host: "127.0.0.1", port: 0, logger: logger)
        let transport = try HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: server.port), transportSecurity: .plaintext)
        let answered = AsyncStream<Apache_Rocketmq_V2_Settings>.makeStream()
        let clientTask = Task {
            try await withGRPCClient(transport: transport) { grpc in
                let client = Client(wrapping: grpc)
                var opening = Apache_Rocketmq_V2_TelemetryCommand()
                var settings = Apache_Rocketmq_V2_Settings()
                settings.clientType = .producer
                settings.publishing = Apache_Rocketmq_V2_Publishing()
                opening.settings = settings
                let first = opening
                try await client.telemetry(requestProducer: { writer in
                    try await writer.write(first)
                    // Keeps the stream open, as a running client does, until the server ends it.
                    try await Task.sleep(for: .seconds(60))
                }, onResponse: { response in
                    for try await command in response.messages {
                        if case .settings(let s)? = command.command { answered.continuation.yield(s) }
                    }
                })
            }
        }
        var it = answered.stream.makeAsyncIterator()
        let reply = await it.next()
        XCTAssertEqual(reply?.clientType, .producer)
        XCTAssertEqual(reply?.publishing.maxBodySize, sc.maxMessageSizeBytes)
        let t0 = ContinuousClock.now
        await server.shutdown(gracePeriod: .milliseconds(300))
        XCTAssertLessThan(ContinuousClock.now - t0, .seconds(10), "an open telemetry stream held the shutdown")
        clientTask.cancel()
        _ = await clientTask.result
        await broker.shutdown()
        try await group.shutdownGracefully()
    }

    func testAnOrderlyGroupGetsAQueuesNextMessageOnlyAfterTheLastOneWasAcked() async throws {
        let topic = "GrpcOrderly", group = "grpc_orderly_cg"
        try await withEndpoint(topic: topic) { client, broker in
            var config = SubscriptionGroupConfig(groupName: group)
            config.consumeMessageOrderly = true
            broker.subscriptionGroupManager.update(config)
            _ = try await send(client, topic: topic, bodies: ["o0", "o1", "o2"], group: "g")
            func receiveOne(invisibleMs: Int64 = 30_000, pollMs: Int64 = 0) async throws -> [String] {
                var req = Apache_Rocketmq_V2_ReceiveMessageRequest()
                req.group = resource(group)
                req.messageQueue.topic = resource(topic)
                req.messageQueue.id = -1
                req.batchSize = 1
                req.invisibleDuration = GrpcMessageConverter.duration(ms: invisibleMs)
                req.longPollingTimeout = GrpcMessageConverter.duration(ms: pollMs)
                return try await client.receiveMessage(req) { response in
                    var got: [String] = []
                    for try await r in response.messages {
                        if case .message(let m)? = r.content { got.append(String(decoding: m.body, as: UTF8.self) + "#\(m.systemProperties.deliveryAttempt) " + m.systemProperties.receiptHandle) }
                    }
                    return got
                }
            }
            func body(_ s: String) -> String { String(s.prefix(while: { $0 != " " })) }
            let first = try await receiveOne(invisibleMs: 1500, pollMs: 3000)
            XCTAssertEqual(first.map(body), ["o0#1"])
            // Locked while o0 is in flight, though o1 and o2 are there.
            let locked = try await receiveOne()
            XCTAssertEqual(locked, [])
            // o0's time passes: o0 again, not o1.
            let again = try await receiveOne(pollMs: 3000)
            XCTAssertEqual(again.map(body), ["o0#2"])
            var ack = Apache_Rocketmq_V2_AckMessageRequest()
            ack.group = resource(group)
            ack.topic = resource(topic)
            var e = Apache_Rocketmq_V2_AckMessageEntry()
            e.receiptHandle = String(again.first?.drop(while: { $0 != " " }).dropFirst() ?? "")
            ack.entries = [e]
            let acked = try await client.ackMessage(ack)
            XCTAssertEqual(acked.status.code, .ok)
            let next = try await receiveOne(pollMs: 3000)
            XCTAssertEqual(next.map(body), ["o1#1"])
        }
    }

    func testBodiesUpToMaxMessageSizePassAndLargerOnesAreRefusedByName() async throws {
        try await withEndpoint(topic: "GrpcBig") { client, broker in
            let max = Int(broker.store.config.maxMessageSizeBytes)
            for (size, code) in [(max, Apache_Rocketmq_V2_Code.ok), (max + 1, .messageBodyTooLarge)] {
                var req = Apache_Rocketmq_V2_SendMessageRequest()
                var m = Apache_Rocketmq_V2_Message()
                m.topic = resource("GrpcBig")
                m.body = Data(repeating: 0x61, count: size)
                req.messages = [m]
                let resp = try await client.sendMessage(req)
                XCTAssertEqual(resp.entries.first?.status.code, code, "\(size) bytes: \(resp.status.message)")
            }
        }
    }

    func testForwardToDeadLetterQueueStoresTheMessageThereAndAcksIt() async throws {
        let topic = "GrpcDlq", group = "grpc_dlq_cg"
        try await withEndpoint(topic: topic) { client, broker in
            _ = try await send(client, topic: topic, bodies: ["poison"])
            let (_, got) = try await receive(client, topic: topic, group: group, invisibleMs: 500, pollMs: 3000)
            let m = try XCTUnwrap(got.first)
            var fwd = Apache_Rocketmq_V2_ForwardMessageToDeadLetterQueueRequest()
            fwd.group = resource(group)
            fwd.topic = resource(topic)
            fwd.receiptHandle = m.systemProperties.receiptHandle
            fwd.messageID = m.systemProperties.messageID
            fwd.deliveryAttempt = 1
            fwd.maxDeliveryAttempts = 1
            let answer = try await client.forwardMessageToDeadLetterQueue(fwd)
            XCTAssertEqual(answer.status.code, .ok, answer.status.message)
            // In %DLQ%<group>, with the original message id; gone from the group (acked): no redelivery.
            let dlq = "%DLQ%" + group
            func dead() -> StoredMessage? {
                broker.store.getMessage(topic: dlq, queueId: 0, offset: 0, maxMsgNums: 1).messages.first.flatMap { StoredMessage($0) }
            }
            try await waitUntil("the message in \(dlq)", timeout: .seconds(5)) { dead() != nil }
            XCTAssertEqual(dead().map { String(decoding: $0.body, as: UTF8.self) }, "poison")
            let (code, again) = try await receive(client, topic: topic, group: group, invisibleMs: 30_000, pollMs: 1500)
            XCTAssertEqual(code, .messageNotFound)
            XCTAssertTrue(again.isEmpty)
        }
    }

    func testFifoGroupKeepsToOneQueue() async throws {
        try await withEndpoint(topic: "GrpcFifo") { client, _ in
            let entries = try await send(client, topic: "GrpcFifo", bodies: (0..<6).map { "f\($0)" }, group: "g-1")
            XCTAssertEqual(entries.map(\.offset), Array(0..<6))
        }
    }
}
