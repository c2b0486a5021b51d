// ResetOffsetClientTests: a running Swift PushConsumer against real mqnamesrv/mqbroker processes takes
// `mqadmin resetOffsetByTime` (the broker's RESET_CONSUMER_CLIENT_OFFSET, 220): it consumes again from the
// reset point, and its periodic offset persist never writes the old offset back over the reset one. Its
// offsets are also readable through the broker (INVOKE_BROKER_TO_GET_CONSUMER_STATUS → 221).

import ApusTestSupport
import Client
import Foundation
import Logging
import NIOPosix
import Remoting
import Synchronization
import XCTest

final class ResetOffsetClientTests: XCTestCase {
    func testResetOffsetByTimeRestartsARunningPushConsumerFromTheResetPointAndTheOldOffsetIsNeverPersistedOverIt() async throws {
        let cluster = try await Cluster.started()
        addTeardownBlock { await cluster.stopAll() }
        let topic = "ResetTopic"
        let group = "reset_group"
        try await cluster.createTopic(topic, queues: 2)
        let remoting = RemotingClient(group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "test"))
        addTeardownBlock { await remoting.shutdown() }
        func brokerOffset(_ q: Int32) async -> Int64? {
            let r = try? await remoting.invokeSync(cluster.brokerAddr, .request(.queryConsumerOffset, header: QueryConsumerOffsetRequestHeader(
                consumerGroup: group, topic: topic, queueId: q)))
            guard let r, r.responseCode == .success else { return nil }
            return r.extFields?["offset"].flatMap { Int64($0) }
        }

        let producer = Producer(group: "reset_producer", config: cluster.clientConfig)
        try await producer.start()
        for i in 0..<20 {
            let r = try await producer.send(Message(topic: topic, body: "r-\(i)"), to: MessageQueue(topic: topic, brokerName: "broker-a", queueId: Int32(i % 2)))
            XCTAssertEqual(r.sendStatus, .sendOK)
        }

        // Persist often, so an old offset written back would show within a short window.
        var config = cluster.clientConfig
        config.persistConsumerOffsetIntervalMs = 300
        let deliveries = Mutex<[String]>([])
        // Closed after the reset: redelivered messages wait in the listener, so nothing moves the offset on.
        let holdRedeliveries = Atomic<Bool>(false)
        var options = PushConsumerOptions()
        options.consumeFromWhere = .firstOffset
        let consumer = PushConsumer(group: group, config: config, options: options)
        try consumer.subscribe(topic)
        consumer.registerMessageListener { msgs, _ in
            let seenBefore = deliveries.withLock { d -> Bool in
                let before = msgs.contains { m in d.contains(String(decoding: m.body, as: UTF8.self)) }
                d += msgs.map { String(decoding: $0.body, as: UTF8.self) }
                return before
            }
            while seenBefore && holdRedeliveries.load(ordering: .acquiring) { try? await Task.sleep(for: .milliseconds(10)) }
            return .consumeSuccess
        }
        try await consumer.start()
        addTeardownBlock { await consumer.shutdown() }
        try await waitUntil("20 consumed") { deliveries.withLock { Set($0).count } == 20 }
        try await waitUntil("offsets 10/10 committed at the broker") {
            let a = await brokerOffset(0), b = await brokerOffset(1)
            return a == 10 && b == 10
        }

        holdRedeliveries.store(true, ordering: .releasing)
        let mqadmin = try findBinary("mqadmin", env: "APUS_MQADMIN")
        let reset = try await runToCompletion(mqadmin, ["resetOffsetByTime", "-g", group, "-t", topic, "-s", "0", "-n", cluster.namesrvAddr])
        XCTAssertEqual(reset.status, 0, reset.stdout + reset.stderr)
        let rows = reset.stdout.split(separator: "\n").filter { $0.hasPrefix("broker-a") }.map { $0.split(separator: " ").map(String.init) }
        XCTAssertEqual(rows.sorted { $0[1] < $1[1] }, [["broker-a", "0", "0"], ["broker-a", "1", "0"]])

        // Consumed again from the reset point: the first message of each queue comes back.
        try await waitUntil("redelivery from offset 0", timeout: .seconds(20)) {
            deliveries.withLock { d in d.filter { $0 == "r-0" }.count == 2 && d.filter { $0 == "r-1" }.count == 2 }
        }
        // The client holds the reset offsets (GET_CONSUMER_STATUS_FROM_CLIENT through the broker).
        let status = try await remoting.invokeSync(cluster.brokerAddr, .request(.invokeBrokerToGetConsumerStatus,
            header: GetConsumerStatusRequestHeader(topic: topic, group: group)))
        XCTAssertEqual(status.responseCode, .success, status.remark ?? "")
        let body = try GetConsumerStatusBody.decode(try XCTUnwrap(status.body))
        XCTAssertEqual(body.consumerTable.count, 1)
        XCTAssertEqual(body.consumerTable.values.first.map { Set($0.values) }, [0])
        // Several persist rounds (300 ms) while the redelivered messages are held: the broker keeps 0.
        let window = ContinuousClock.now + .milliseconds(1500)
        while ContinuousClock.now < window {
            let a = await brokerOffset(0), b = await brokerOffset(1)
            XCTAssertEqual(a, 0, "queue 0's reset offset was overwritten")
            XCTAssertEqual(b, 0, "queue 1's reset offset was overwritten")
            if a != 0 || b != 0 { break }
            try await Task.sleep(for: .milliseconds(50))
        }

        // Released: everything is consumed a second time and the offsets move on from the reset point.
        holdRedeliveries.store(false, ordering: .releasing)
        try await waitUntil("20 consumed twice") {
            deliveries.withLock { d in Dictionary(grouping: d, by: { $0 }).values.allSatisfy { $0.count == 2 } && d.count == 40 }
        }
        try await waitUntil("offsets back at 10/10") {
            let a = await brokerOffset(0), b = await brokerOffset(1)
            return a == 10 && b == 10
        }
        await consumer.shutdown()
        await producer.shutdown()
    }
}
