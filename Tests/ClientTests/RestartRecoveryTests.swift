// Servers restarting under live clients (issue 14, must-show 4): a producer and a push consumer of the Swift
// client keep running while the NameServer is killed (-9) and restarted, then while the broker is stopped
// with SIGTERM and restarted on its port and store. Both recover by themselves, each within 60 s, and every
// message acknowledged SEND_OK is consumed at least once.

import ApusTestSupport
import Client
import Foundation
import Synchronization
import XCTest

final class RestartRecoveryTests: XCTestCase {
    /// Sends "m-<n>" in a loop until stopped, recording what was acknowledged and when the last one was.
    final class Traffic: Sendable {
        let acknowledged = Mutex<Set<String>>([])
        let failures = Mutex<Int>(0)
        let stopped = Atomic<Bool>(false)
        var count: Int { acknowledged.withLock { $0.count } }
        var snapshot: Set<String> { acknowledged.withLock { $0 } }
    }

    func testClientsRecoverFromANameServerAndABrokerRestartAndLoseNothingAcknowledged() async throws {
        let cluster = try Cluster(extraConfig: ["registerNameServerPeriod": "10000"])
        addTeardownBlock { await cluster.stopAll() }
        try await cluster.startNamesrv()
        try await cluster.startBroker()
        let topic = "RestartTopic"
        try await cluster.createTopic(topic, queues: 4)
        var config = cluster.clientConfig
        config.pollNameServerIntervalMs = 1_000
        config.heartbeatBrokerIntervalMs = 1_000
        let producer = Producer(group: "restart_pg", config: config)
        try await producer.start()
        addTeardownBlock { await producer.shutdown() }
        let collector = Collector()
        let consumer = try await startPushConsumer(cluster, group: "restart_cg", topic: topic, name: "c", collector: collector,
                                                   config: config)
        addTeardownBlock { await consumer.shutdown() }

        let traffic = Traffic()
        let sender = Task {
            var n = 0
            while !traffic.stopped.load(ordering: .relaxed) {
                let body = "m-\(n)"
                n += 1
                do {
                    let r = try await producer.send(Message(topic: topic, body: body))
                    if r.sendStatus == .sendOK { _ = traffic.acknowledged.withLock { $0.insert(body) } }
                } catch {
                    traffic.failures.withLock { $0 += 1 }
                    try? await Task.sleep(for: .milliseconds(50))  // a down broker answers at once; do not spin
                }
            }
        }
        try await waitUntil("traffic flowing") { traffic.count >= 200 }

        // The NameServer dies; sends go on with the routes the clients hold.
        let namesrvPort = try XCTUnwrap(Int(cluster.namesrvAddr.split(separator: ":").last ?? ""))
        await cluster.namesrv?.kill9()
        let atKill = traffic.count
        try await waitUntil("sends while the NameServer is down") { traffic.count >= atKill + 200 }
        // It comes back empty; the broker registers again within its period, and clients route through it.
        try await cluster.startNamesrv(listenPort: namesrvPort)
        try await waitUntil("the broker registered with the new NameServer", timeout: .seconds(60)) {
            (try? await runToCompletion(try findBinary("mqadmin", env: "APUS_MQADMIN"),
                                        ["topicRoute", "-n", cluster.namesrvAddr, "-t", topic]))?.stdout.contains(cluster.brokerAddr) == true
        }

        // The broker stops in order (SIGTERM) and comes back on its port and store.
        let beforeBrokerStop = traffic.count
        await cluster.stopBroker()
        try await cluster.startBroker(listenPort: cluster.brokerPort)
        let restarted = ContinuousClock.now
        try await waitUntil("sends succeed after the broker restart", timeout: .seconds(60)) {
            traffic.count >= beforeBrokerStop + 200
        }
        XCTAssertLessThan(ContinuousClock.now - restarted, .seconds(60))
        traffic.stopped.store(true, ordering: .relaxed)
        await sender.value

        let acknowledged = traffic.snapshot
        print("restarts: \(acknowledged.count) acknowledged, \(traffic.failures.withLock { $0 }) sends failed while a server was down")
        do {
            try await waitUntil("every acknowledged message consumed", timeout: .seconds(60)) {
                collector.distinctBodies.isSuperset(of: acknowledged)
            }
        } catch {
            let missing = acknowledged.subtracting(collector.distinctBodies)
            XCTFail("\(missing.count) acknowledged messages never consumed, e.g. \(missing.sorted().prefix(10))")
        }
    }
}
