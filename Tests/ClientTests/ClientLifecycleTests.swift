// Lifecycle of client objects (issue 9, Must-show 4): a producer and a push consumer started, used and shut
// down 20 times in one process against real mqnamesrv/mqbroker processes leave no thread, descriptor or
// client instance behind.

import ApusTestSupport
import Client
import Foundation
import XCTest

final class ClientLifecycleTests: XCTestCase {
    static func threadCount() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? -1 }
    static func fdCount() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1 }

    func round(_ cluster: Cluster, _ i: Int, collector: Collector) async throws {
        let producer = Producer(group: "LifePG", config: cluster.clientConfig)
        try await producer.start()
        let r = try await producer.send(Message(topic: "LifeTopic", body: Array("round \(i)".utf8)))
        XCTAssertEqual(r.sendStatus, .sendOK)
        let consumer = try await startPushConsumer(cluster, group: "LifeCG", topic: "LifeTopic", name: "c", collector: collector)
        try await waitUntil("round \(i) delivered") { collector.distinctBodies.contains("round \(i)") }
        await consumer.shutdown()
        await producer.shutdown()
    }

    func testStartingAndStoppingClientsTwentyTimesLeavesNothingBehind() async throws {
        let cluster = try await Cluster.started()
        addTeardownBlock { await cluster.stopAll() }
        try await cluster.createTopic("LifeTopic", queues: 2)
        let collector = Collector()
        try await round(cluster, 0, collector: collector)  // warm-up: the NIO singleton and Dispatch's workers start once
        try await Task.sleep(for: .milliseconds(500))
        let baseline = (threads: Self.threadCount(), fds: Self.fdCount())
        for i in 1...20 { try await round(cluster, i, collector: collector) }
        let deadline = ContinuousClock.now + .seconds(10)
        var after = (threads: Self.threadCount(), fds: Self.fdCount())
        while (after.threads > baseline.threads || after.fds > baseline.fds) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            after = (Self.threadCount(), Self.fdCount())
        }
        print("client lifecycle: baseline \(baseline.threads) threads / \(baseline.fds) fds, after 20 rounds \(after.threads) / \(after.fds)")
        XCTAssertLessThanOrEqual(after.threads, baseline.threads, "threads left behind")
        XCTAssertLessThanOrEqual(after.fds, baseline.fds, "descriptors left behind")
        XCTAssertEqual(MQClientManager.instanceCount, 0, "client instances left registered")
    }

    func testClientObjectsMoveThroughRocketMQsServiceStates() async throws {
        let cluster = try await Cluster.started()
        addTeardownBlock { await cluster.stopAll() }
        let producer = Producer(group: "StatePG", config: cluster.clientConfig)
        XCTAssertEqual(producer.serviceState, .createJust)
        try await producer.start()
        XCTAssertEqual(producer.serviceState, .running)
        do {
            try await producer.start()
            XCTFail("a second start must fail")
        } catch {
            XCTAssertEqual("\(error)", "The producer service state not OK, maybe started once, RUNNING")
        }
        await producer.shutdown()
        XCTAssertEqual(producer.serviceState, .shutdownAlready)
        await producer.shutdown()  // a second shutdown does nothing
        do {
            try await producer.start()
            XCTFail("a start after shutdown must fail")
        } catch {
            XCTAssertEqual("\(error)", "The producer service state not OK, maybe started once, SHUTDOWN_ALREADY")
        }

        let consumer = PushConsumer(group: "StateCG", config: cluster.clientConfig)
        try consumer.subscribe("StateTopic", "*")
        do {
            try await consumer.start()  // no listener registered
            XCTFail("a start without a listener must fail")
        } catch {
            XCTAssertEqual(consumer.serviceState, .startFailed)
        }
        do {
            try await consumer.start()
            XCTFail("a start after a failed start must fail")
        } catch {
            XCTAssertEqual("\(error)", "The PushConsumer service state not OK, maybe started once, START_FAILED")
        }
    }
}
