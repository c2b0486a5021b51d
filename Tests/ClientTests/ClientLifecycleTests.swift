// Lifecycle of client objects (issue 9, Must-show 4): a producer, a push consumer and a lite pull consumer
// started, used and shut down 20 times in one process against real mqnamesrv/mqbroker processes leave no
// background task (after every round), thread, descriptor or client instance behind. Also: no task in
// Sources/Client is started outside an owner, and a completion send never outlives its producer.

import ApusTestSupport
import Client
import Common
import Foundation
import Synchronization
import XCTest

final class ClientLifecycleTests: XCTestCase {
    static func threadCount() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? -1 }
    static func fdCount() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1 }

    func round(_ cluster: Cluster, _ i: Int, collector: Collector) async throws {
        let tasksBefore = BackgroundTasks.liveCount
        let producer = Producer(group: "LifePG", config: cluster.clientConfig)
        try await producer.start()
        let r = try await producer.send(Message(topic: "LifeTopic", body: Array("round \(i)".utf8)))
        XCTAssertEqual(r.sendStatus, .sendOK)
        let consumer = try await startPushConsumer(cluster, group: "LifeCG", topic: "LifeTopic", name: "c", collector: collector)
        var opts = LitePullConsumerOptions()
        opts.consumeFromWhere = .firstOffset
        let lite = LitePullConsumer(group: "LifeLPG", config: cluster.clientConfig, options: opts)
        try lite.subscribe("LifeTopic")
        try await lite.start()
        XCTAssertGreaterThan(BackgroundTasks.liveCount, tasksBefore, "the clients' jobs and pull loops are owned tasks")
        try await waitUntil("round \(i) delivered") { collector.distinctBodies.contains("round \(i)") }
        var polled: Set<String> = []
        try await waitUntil("round \(i) polled") {
            polled.formUnion(await lite.poll(timeoutMs: 100).map { String(decoding: $0.body, as: UTF8.self) })
            return polled.contains("round \(i)")
        }
        await lite.shutdown()
        await consumer.shutdown()
        await producer.shutdown()
        // Each shutdown awaited what it owned, so the count is back at once: no polling here.
        XCTAssertEqual(BackgroundTasks.liveCount, tasksBefore, "round \(i): background tasks left running")
        XCTAssertEqual(MQClientManager.instanceCount, 0, "round \(i): client instance left registered")
        for c in [producer.serviceState, consumer.serviceState, lite.serviceState] { XCTAssertEqual(c, .shutdownAlready) }
    }

    func testStartingAndStoppingClientsTwentyTimesLeavesNothingBehind() async throws {
        let cluster = try await Cluster.started()
        addTeardownBlock { await cluster.stopAll() }
        try await cluster.createTopic("LifeTopic", queues: 2)
        let collector = Collector()
        try await round(cluster, 0, collector: collector)  // warm-up: the NIO singleton and Dispatch's workers start once
        let baseline = (threads: Self.threadCount(), fds: Self.fdCount(), tasks: BackgroundTasks.liveCount)
        for i in 1...20 { try await round(cluster, i, collector: collector) }
        // Threads of the cooperative pool and Dispatch park and exit on their own schedule: awaited, bounded.
        let tolerance = (threads: 2, fds: 0)
        var after = (threads: Self.threadCount(), fds: Self.fdCount(), tasks: BackgroundTasks.liveCount)
        try? await waitUntil("threads and descriptors back", timeout: .seconds(10)) {
            after = (Self.threadCount(), Self.fdCount(), BackgroundTasks.liveCount)
            return after.threads <= baseline.threads && after.fds <= baseline.fds
        }
        print("client lifecycle: baseline \(baseline.threads) threads / \(baseline.fds) fds / \(baseline.tasks) tasks, "
            + "after 20 rounds \(after.threads) / \(after.fds) / \(after.tasks)")
        XCTAssertLessThanOrEqual(after.threads, baseline.threads + tolerance.threads, "threads left behind")
        XCTAssertLessThanOrEqual(after.fds, baseline.fds + tolerance.fds, "descriptors left behind")
        XCTAssertEqual(after.tasks, baseline.tasks, "background tasks left behind")
        XCTAssertEqual(MQClientManager.instanceCount, 0, "client instances left registered")
    }

    /// A completion send that still had to look up its route when the producer was shut down ends with a
    /// result (its task was the producer's and was awaited); one after shutdown fails at once.
    func testCompletionSendsDoNotOutliveTheirProducer() async throws {
        let cluster = try await Cluster.started()
        addTeardownBlock { await cluster.stopAll() }
        try await cluster.createTopic("LifeAsyncTopic", queues: 1)
        let tasksBefore = BackgroundTasks.liveCount
        let producer = Producer(group: "LifeAsyncPG", config: cluster.clientConfig)
        try await producer.start()
        let results = Mutex<[Result<SendResult, MQClientError>]>([])
        for i in 0..<20 {
            producer.send(Message(topic: "LifeAsyncTopic", body: Array("a\(i)".utf8))) { r in results.withLock { $0.append(r) } }
        }
        await producer.shutdown()
        try await waitUntil("every completion called") { results.withLock { $0.count } == 20 }
        let failed = results.withLock { $0.filter { if case .failure = $0 { true } else { false } }.count }
        print("completion sends at shutdown: \(20 - failed) sent, \(failed) failed")
        XCTAssertEqual(BackgroundTasks.liveCount, tasksBefore)
        let late = Mutex<Result<SendResult, MQClientError>?>(nil)
        producer.send(Message(topic: "LifeAsyncTopic", body: Array("late".utf8))) { r in late.withLock { $0 = r } }
        guard case .failure? = late.withLock({ $0 }) else { return XCTFail("a send after shutdown must fail at once") }
        try await Task.sleep(for: .milliseconds(200))
        XCTAssertEqual(results.withLock { $0.count }, 20, "each completion runs once")
    }

    /// Every task the client library starts belongs to an owner (BackgroundTasks) that its shutdown awaits.
    func testClientSourcesStartNoUnownedTask() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/Client").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: sources.path).filter { $0.hasSuffix(".swift") }
        XCTAssertFalse(files.isEmpty, "no sources at \(sources.path)")
        for f in files {
            let text = try String(contentsOf: sources.appendingPathComponent(f), encoding: .utf8)
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where !line.trimmingCharacters(in: .whitespaces).hasPrefix("//") {
                for pattern in ["Task {", "Task(", "Task.detached", "Task<", "addTask"] where line.contains(pattern) {
                    XCTFail("\(f):\(n + 1) starts or keeps a task outside an owner: \(line)")
                }
            }
        }
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
