// Orderly push consumers against real mqnamesrv + mqbroker processes (client.md §8.12, broker.md §10): every
// order's messages are seen in queue order even while a second consumer joins and takes half the queues
// (it waits for the first to let go of each queue lock); SUSPEND_CURRENT_QUEUE_A_MOMENT redelivers the same
// message, reconsumeTimes + 1, before anything after it; past maxReconsumeTimes the message goes to the
// group's %DLQ% and the queue moves on.

import ApusTestSupport
import Client
import Foundation
import Remoting
import Synchronization
import XCTest

/// Every listener call, in the order they happened, across consumers.
final class DeliveryLog: Sendable {
    struct Entry: Sendable {
        let consumer: String
        let body: String
        let queueId: Int32
        let queueOffset: Int64
        let reconsumeTimes: Int32
    }
    private let entries = Mutex<[Entry]>([])
    func add(_ consumer: String, _ msgs: [MessageExt]) {
        entries.withLock { e in
            for m in msgs {
                e.append(Entry(consumer: consumer, body: String(decoding: m.body, as: UTF8.self), queueId: m.queueId,
                               queueOffset: m.queueOffset, reconsumeTimes: m.reconsumeTimes))
            }
        }
    }
    var all: [Entry] { entries.withLock { $0 } }
    var distinctBodies: Set<String> { Set(all.map(\.body)) }
}

final class OrderlyConsumerTests: XCTestCase {
    func startOrderly(_ cluster: Cluster, group: String, topic: String, name: String, log: DeliveryLog,
                      options: PushConsumerOptions = PushConsumerOptions(),
                      status: @escaping @Sendable (MessageExt) -> ConsumeOrderlyStatus = { _ in .success })
        async throws -> PushConsumer
    {
        var opts = options
        opts.consumeFromWhere = .firstOffset
        let c = PushConsumer(group: group, config: cluster.clientConfig, options: opts)
        try c.subscribe(topic, "*")
        c.registerMessageListener(orderly: { msgs, context in
            log.add(name, msgs)
            context.suspendCurrentQueueTimeMillis = 100
            return msgs.map(status).contains(.suspendCurrentQueueAMoment) ? .suspendCurrentQueueAMoment : .success
        })
        try await c.start()
        return c
    }

    func sendOrders(_ producer: Producer, topic: String, orders: Int, seqs: Range<Int>) async throws {
        for seq in seqs {
            for order in 0..<orders {
                let m = Message(topic: topic, body: "order-\(order)-\(seq)", keys: ["order-\(order)"])
                let r = try await producer.send(m, selector: { queues, _ in queues[order % queues.count] })
                XCTAssertEqual(r.sendStatus, .sendOK)
            }
        }
    }

    func testOrderIsKeptWhileASecondConsumerTakesHalfTheQueues() async throws {
        let cluster = try await Cluster.started()
        addTeardownBlock { await cluster.stopAll() }
        let topic = "OrderlyTopic"
        try await cluster.createTopic(topic, queues: 8)
        let producer = Producer(group: "orderly_producer", config: cluster.clientConfig)
        try await producer.start()
        let log = DeliveryLog()
        let c1 = try await startOrderly(cluster, group: "orderly_group", topic: topic, name: "c1", log: log)
        let owned = { (c: PushConsumer) in c.assignedQueues.filter { $0.topic == topic }.count }
        try await waitUntil("c1 holds all 8 queues") { owned(c1) == 8 }
        try await sendOrders(producer, topic: topic, orders: 8, seqs: 0..<15)
        try await waitUntil("c1 consumed the first 120") { log.distinctBodies.count == 120 }
        let c2 = try await startOrderly(cluster, group: "orderly_group", topic: topic, name: "c2", log: log)
        try await sendOrders(producer, topic: topic, orders: 8, seqs: 15..<30)
        try await waitUntil("4 + 4 queues", timeout: .seconds(60)) { owned(c1) == 4 && owned(c2) == 4 }
        try await waitUntil("all 240 delivered", timeout: .seconds(60)) { log.distinctBodies.count == 240 }
        XCTAssertTrue(c1.assignedQueues.isDisjoint(with: c2.assignedQueues))
        // Four queues changed hands: consumed by c1 first, then by c2.
        let queuesOf = { (name: String) in Set(log.all.filter { $0.consumer == name }.map(\.queueId)) }
        XCTAssertEqual(queuesOf("c1").count, 8)
        XCTAssertEqual(queuesOf("c2").count, 4)

        // Per order: the listener calls, across both consumers, never go back in sequence (a batch that was in
        // flight when its queue changed hands may be seen twice in a row, never out of order).
        var byOrder: [String: [Int]] = [:]
        for e in log.all {
            let parts = e.body.split(separator: "-")
            byOrder[String(parts[1]), default: []].append(Int(parts[2]) ?? -1)
        }
        XCTAssertEqual(byOrder.count, 8)
        for (order, seqs) in byOrder {
            XCTAssertEqual(Set(seqs), Set(0..<30), "order \(order) complete")
            XCTAssertEqual(seqs, seqs.sorted(), "order \(order) in sequence")
        }
        await c2.shutdown()
        await c1.shutdown()
        await producer.shutdown()
    }

    func testSuspendRedeliversTheSameMessageBeforeTheNextOne() async throws {
        let cluster = try await Cluster.started()
        addTeardownBlock { await cluster.stopAll() }
        let topic = "SuspendTopic"
        try await cluster.createTopic(topic, queues: 1)
        let producer = Producer(group: "suspend_producer", config: cluster.clientConfig)
        try await producer.start()
        for body in ["a", "b", "c"] { _ = try await producer.send(Message(topic: topic, body: body)) }
        let log = DeliveryLog()
        let c = try await startOrderly(cluster, group: "suspend_group", topic: topic, name: "c", log: log) { m in
            String(decoding: m.body, as: UTF8.self) == "b" && m.reconsumeTimes < 2 ? .suspendCurrentQueueAMoment : .success
        }
        try await waitUntil("c delivered") { log.all.contains { $0.body == "c" } }
        XCTAssertEqual(log.all.map(\.body), ["a", "b", "b", "b", "c"])
        XCTAssertEqual(log.all.filter { $0.body == "b" }.map(\.reconsumeTimes), [0, 1, 2])
        await c.shutdown()
        await producer.shutdown()
    }

    func testPastMaxReconsumeTimesTheMessageGoesToTheDeadLetterTopic() async throws {
        let cluster = try await Cluster.started()
        addTeardownBlock { await cluster.stopAll() }
        let topic = "PoisonTopic"
        try await cluster.createTopic(topic, queues: 1)
        let producer = Producer(group: "poison_producer", config: cluster.clientConfig)
        try await producer.start()
        for body in ["x", "y"] { _ = try await producer.send(Message(topic: topic, body: body)) }
        let log = DeliveryLog()
        var options = PushConsumerOptions()
        options.maxReconsumeTimes = 1
        let c = try await startOrderly(cluster, group: "poison_group", topic: topic, name: "c", log: log, options: options) { m in
            String(decoding: m.body, as: UTF8.self) == "x" ? .suspendCurrentQueueAMoment : .success
        }
        try await waitUntil("y delivered") { log.all.contains { $0.body == "y" } }
        XCTAssertEqual(log.all.map(\.body), ["x", "x", "y"])
        XCTAssertEqual(log.all.filter { $0.body == "x" }.map(\.reconsumeTimes), [0, 1])
        // The broker put it in the dead-letter topic: the group held queue locks.
        var readerOptions = LitePullConsumerOptions()
        readerOptions.consumeFromWhere = .firstOffset
        let reader = LitePullConsumer(group: "poison_reader", config: cluster.clientConfig, options: readerOptions)
        try await reader.start()
        try await reader.assign([MessageQueue(topic: "%DLQ%poison_group", brokerName: "broker-a", queueId: 0)])
        var dead: [MessageExt] = []
        try await waitUntil("x in %DLQ%poison_group") {
            dead += await reader.poll(timeoutMs: 500)
            return !dead.isEmpty
        }
        XCTAssertEqual(dead.map { String(decoding: $0.body, as: UTF8.self) }, ["x"])
        XCTAssertEqual(dead.first?.properties["RETRY_TOPIC"], topic)
        await reader.shutdown()
        await c.shutdown()
        await producer.shutdown()
    }
}
