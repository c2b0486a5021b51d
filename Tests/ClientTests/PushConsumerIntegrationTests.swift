// Push consumer and producer against real mqnamesrv + mqbroker processes (issue 5, must-show 1 and 4):
// clustering split and rebalance, broadcasting, resume from committed offset, ordered send, compression.

import ApusTestSupport
import Client
import Foundation
import Remoting
import XCTest

final class PushConsumerIntegrationTests: XCTestCase {
    func sendNumbered(_ producer: Producer, topic: String, _ range: Range<Int>, prefix: String = "m") async throws {
        for i in range {
            let r = try await producer.send(Message(topic: topic, body: "\(prefix)-\(i)", tags: "TagA", keys: ["k\(i)"]))
            XCTAssertEqual(r.sendStatus, .sendOK)
        }
    }

    func testTwoConsumersSplitEightQueuesEvenlyAndAThirdJoiningLosesNoMessage() async throws {
        let cluster = try await Cluster.started()
        addTeardownBlock { await cluster.stopAll() }
        let topic = "SplitTopic"
        try await cluster.createTopic(topic, queues: 8)
        let producer = Producer(group: "split_producer", config: cluster.clientConfig)
        try await producer.start()
        let collector = Collector()
        let c1 = try await startPushConsumer(cluster, group: "split_group", topic: topic, name: "c1", collector: collector)
        let c2 = try await startPushConsumer(cluster, group: "split_group", topic: topic, name: "c2", collector: collector)
        let queues = { (c: PushConsumer) in c.assignedQueues.filter { $0.topic == topic }.count }
        try await waitUntil("4 + 4 queues") { queues(c1) == 4 && queues(c2) == 4 }
        XCTAssertTrue(c1.assignedQueues.filter { $0.topic == topic }.isDisjoint(with: c2.assignedQueues))

        try await sendNumbered(producer, topic: topic, 0..<200)
        try await waitUntil("first 200 delivered") { collector.distinctBodies.count == 200 }
        XCTAssertFalse(collector.messages("c1").isEmpty)
        XCTAssertFalse(collector.messages("c2").isEmpty)

        let c3 = try await startPushConsumer(cluster, group: "split_group", topic: topic, name: "c3", collector: collector)
        try await waitUntil("3 + 3 + 2 queues") {
            [queues(c1), queues(c2), queues(c3)].sorted() == [2, 3, 3]
        }
        let union = c1.assignedQueues.union(c2.assignedQueues).union(c3.assignedQueues).filter { $0.topic == topic }
        XCTAssertEqual(union.count, 8)
        try await sendNumbered(producer, topic: topic, 200..<400)
        try await waitUntil("all 400 delivered") { collector.distinctBodies.count == 400 }
        try await waitUntil("c3 consumed some") { !collector.messages("c3").isEmpty }
        XCTAssertEqual(collector.distinctBodies, Set((0..<400).map { "m-\($0)" }))
        await c3.shutdown(); await c2.shutdown(); await c1.shutdown(); await producer.shutdown()
    }

    func testBroadcastingDeliversEveryMessageToEveryConsumer() async throws {
        let cluster = try await Cluster.started()
        addTeardownBlock { await cluster.stopAll() }
        let topic = "BroadcastTopic"
        try await cluster.createTopic(topic, queues: 4)
        let collector = Collector()
        var opts = PushConsumerOptions()
        opts.messageModel = .broadcasting
        var consumers: [PushConsumer] = []
        for name in ["b1", "b2"] {
            var cfg = cluster.clientConfig
            cfg.instanceName = name
            consumers.append(try await startPushConsumer(cluster, group: "bc_group", topic: topic, name: name,
                                                         collector: collector, options: opts, config: cfg))
        }
        try await waitUntil("all queues on both") { consumers.allSatisfy { $0.assignedQueues.count == 4 } }
        let producer = Producer(group: "bc_producer", config: cluster.clientConfig)
        try await producer.start()
        try await sendNumbered(producer, topic: topic, 0..<100)
        let expected = Set((0..<100).map { "m-\($0)" })
        try await waitUntil("both got 100") {
            ["b1", "b2"].allSatisfy { n in Set(collector.messages(n).map { String(decoding: $0.body, as: UTF8.self) }) == expected }
        }
        for c in consumers { await c.shutdown() }
        // Broadcasting offsets live in a local file per client id and group.
        let file = cluster.directory.appendingPathComponent("offsets").path
        let found = FileManager.default.enumerator(atPath: file)?.contains { ($0 as? String)?.hasSuffix("offsets.json") == true }
        XCTAssertEqual(found, true)
        await producer.shutdown()
    }

    func testRestartedConsumerResumesFromItsCommittedOffset() async throws {
        let cluster = try await Cluster.started()
        addTeardownBlock { await cluster.stopAll() }
        let topic = "ResumeTopic"
        try await cluster.createTopic(topic, queues: 4)
        let producer = Producer(group: "resume_producer", config: cluster.clientConfig)
        try await producer.start()
        try await sendNumbered(producer, topic: topic, 0..<40, prefix: "before")
        let first = Collector()
        let c1 = try await startPushConsumer(cluster, group: "resume_group", topic: topic, name: "c", collector: first)
        try await waitUntil("first 40") { first.distinctBodies.count == 40 }
        await c1.shutdown()

        try await sendNumbered(producer, topic: topic, 0..<40, prefix: "after")
        let second = Collector()
        let c2 = try await startPushConsumer(cluster, group: "resume_group", topic: topic, name: "c", collector: second)
        try await waitUntil("next 40") { second.distinctBodies.count >= 40 }
        try await Task.sleep(for: .milliseconds(300))  // a window for any stray redelivery to show up
        XCTAssertEqual(second.distinctBodies, Set((0..<40).map { "after-\($0)" }))
        await c2.shutdown()
        await producer.shutdown()
    }

    func testOrderedSendKeepsPerKeyOrder() async throws {
        let cluster = try await Cluster.started()
        addTeardownBlock { await cluster.stopAll() }
        let topic = "OrderTopic"
        try await cluster.createTopic(topic, queues: 8)
        let producer = Producer(group: "order_producer", config: cluster.clientConfig)
        try await producer.start()
        var sent: [String: [SendResult]] = [:]
        for seq in 0..<20 {
            for orderId in 0..<10 {
                let m = Message(topic: topic, body: "order-\(orderId)-\(seq)", keys: ["order-\(orderId)"])
                let r = try await producer.send(m, selector: { queues, _ in queues[orderId % queues.count] })
                sent["order-\(orderId)", default: []].append(r)
            }
        }
        for (_, results) in sent {
            XCTAssertEqual(Set(results.map(\.messageQueue)).count, 1, "one queue per key")
            XCTAssertEqual(results.map(\.queueOffset), results.map(\.queueOffset).sorted())
        }
        let collector = Collector()
        let c = try await startPushConsumer(cluster, group: "order_group", topic: topic, name: "c", collector: collector)
        try await waitUntil("200 delivered") { collector.distinctBodies.count == 200 }
        var byKey: [String: [(Int64, Int)]] = [:]
        for m in collector.all {
            let parts = String(decoding: m.body, as: UTF8.self).split(separator: "-")
            byKey["order-\(parts[1])", default: []].append((m.queueOffset, Int(parts[2]) ?? -1))
        }
        for (key, pairs) in byKey {
            let inOffsetOrder = pairs.sorted { $0.0 < $1.0 }.map(\.1)
            XCTAssertEqual(inOffsetOrder, Array(0..<20), "stored order of \(key)")
        }
        await c.shutdown()
        await producer.shutdown()
    }

    func testBodyOverThresholdIsStoredZstdCompressedAndReadBackIntact() async throws {
        let cluster = try await Cluster.started()
        addTeardownBlock { await cluster.stopAll() }
        let topic = "CompressTopic"
        try await cluster.createTopic(topic, queues: 1)
        var big = [UInt8]()
        for i in 0..<(64 * 1024) { big.append(UInt8(truncatingIfNeeded: (i * 7) % 251 + (i / 1000))) }
        for (n, type) in [(0, CompressionType.zstd), (1, .zlib), (2, .lz4)] {
            var opts = ProducerOptions()
            opts.compressType = type
            let p = Producer(group: "compress_producer_\(n)", config: cluster.clientConfig, options: opts)
            try await p.start()
            var m = Message(topic: topic, body: big, tags: "T\(n)")
            try m.putUserProperty("kind", "\(type)")
            _ = try await p.send(m)
            await p.shutdown()
        }
        _ = try await Producer(group: "compress_small", config: cluster.clientConfig).sendSmall(topic: topic)
        let collector = Collector()
        let c = try await startPushConsumer(cluster, group: "compress_group", topic: topic, name: "c", collector: collector)
        try await waitUntil("4 delivered") { collector.all.count >= 4 }
        let byTag = Dictionary(collector.all.map { ($0.tags ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(byTag["T0"]?.storedCompression, .zstd)
        XCTAssertEqual((byTag["T0"]?.sysFlag ?? 0) & 0x701, 0x201, "stored sysFlag says zstd")
        XCTAssertEqual(byTag["T1"]?.storedCompression, .zlib)
        XCTAssertEqual(byTag["T2"]?.storedCompression, .lz4)
        for t in ["T0", "T1", "T2"] {
            XCTAssertEqual(byTag[t]?.body, big, "\(t) read back intact")
            XCTAssertLessThan(byTag[t]?.storeSize ?? .max, Int32(big.count), "\(t) stored smaller than the body")
        }
        XCTAssertNil(byTag["small"]?.storedCompression, "bodies under 4 KiB are not compressed")
        await c.shutdown()
    }
}

extension Producer {
    /// Starts, sends one 100-byte message tagged "small", shuts down.
    func sendSmall(topic: String) async throws -> SendResult {
        try await start()
        let r = try await send(Message(topic: topic, body: [UInt8](repeating: 65, count: 100), tags: "small"))
        await shutdown()
        return r
    }
}
