// A replica cut off (issue 11, must-show 2b): three brokers of one name (SYNC_MASTER, allAckInSyncStateSet,
// minInSyncReplicas=2) on network-namespace hosts, producers (the Swift client, in this process) sending all
// along. One replica's host link goes down: the master drops it from the SyncStateSet (after
// haMaxTimeSlaveNotCatchup; until then sends wait for it and time out, as in RocketMQ) and keeps acknowledging
// with the two left. The second replica cut too leaves a set of one, below minInSyncReplicas: sends are stored
// but answered IN_SYNC_REPLICAS_NOT_ENOUGH (RocketMQ's SYSTEM_ERROR with that remark). Links back: both replicas
// catch up and rejoin the set, SEND_OK resumes, and each replica's CommitLog equals the master's.
//
// Checks: zero acknowledged messages lost (every SEND_OK body is in the master's CommitLog, which the replicas
// equal); at most one master accepting writes: no election happens here (the controllers' master and epoch
// stay the same throughout, polled), and every SEND_OK any producer got came from that one master's store
// host (`ControllerTraffic.writerRuns`, from the offset message id the broker made); service back after
// healing (new SEND_OKs, set of three). Needs network namespaces (root).

import ApusTestSupport
import Client
import Foundation
import Remoting
import Synchronization
import XCTest

final class ReplicaPartitionTests: XCTestCase {
    func testAReplicaCutOffLeavesTheSetAndRejoinsWithTheMastersLogWhenItReturns() async throws {
        let d = try ControllerDeployment(hostCount: 6, useNetwork: true)
        guard let network = d.network else {
            await d.stopAll()
            throw XCTSkip("skipped: needs network namespaces (root) to cut a host's link")
        }
        typealias T = ControllerFailoverTests
        // Hosts: 0 etcd + controller, 1 controller, 2 NameServer, 3 the first broker (master), 4-5 replicas.
        try await d.startEtcd(hostIndexes: [0])
        try await d.startController(hostIndex: 0)
        try await d.startController(hostIndex: 1)
        try await d.startNamesrv(hostIndex: 2)
        for h in 3...5 { _ = d.addBroker(hostIndex: h) }
        try await d.startBroker(0, extra: T.brokerKeys)
        let wire = ControllerWire()
        try await waitUntil("the first broker elected", timeout: .seconds(30)) { (await T.state(wire, d))?.master != nil }
        for n in 1...2 { try await d.startBroker(n, extra: T.brokerKeys) }
        try await waitUntil("a SyncStateSet of three", timeout: .seconds(60)) { (await T.state(wire, d))?.syncStateSet.count == 3 }
        guard let before = await T.state(wire, d), before.masterAddress == d.brokers[0].address else {
            return XCTFail("the first broker is not master")
        }
        let topic = "ReplicaCutTopic"
        try await ControllerTraffic.createTopic(d, wire, topic)

        // The controllers' view polled all along: the master and its epoch never change.
        let views = Mutex<[String]>([])
        let watch = wire.track(Task {
            while !Task.isCancelled {
                if let s = await T.state(wire, d), s.master != before.master || s.epoch != before.epoch {
                    views.withLock { $0.append("master \(s.master ?? -1) epoch \(s.epoch)") }
                }
                try? await Task.sleep(for: .milliseconds(100))
            }
        })

        let load = try await ProducerLoad(namesrv: d.namesrvAddr, topic: topic, count: 2, name: "replicacut")
        let log = load.log
        try await waitUntil("sends acknowledged by the set of three", timeout: .seconds(30)) { log.count >= 50 }

        // One replica cut off: the set shrinks to two and the master keeps acknowledging.
        try network.cut(network.hosts[4])
        try await waitUntil("the cut-off replica dropped from the SyncStateSet", timeout: .seconds(30)) {
            (await T.state(wire, d))?.syncStateSet.count == 2
        }
        var mark = log.count
        try await waitUntil("sends acknowledged by a set of two", timeout: .seconds(30)) { log.count >= mark + 50 }

        // The second replica cut off: a set of one is below minInSyncReplicas; sends are refused.
        try network.cut(network.hosts[5])
        try await waitUntil("the second replica dropped from the SyncStateSet", timeout: .seconds(30)) {
            (await T.state(wire, d))?.syncStateSet.count == 1
        }
        var refused: CommandRun?
        try await waitUntil("a send refused IN_SYNC_REPLICAS_NOT_ENOUGH", timeout: .seconds(30)) {
            refused = try? await mqadmin("sendMessage", "-n", d.namesrvAddr, "-t", topic, "-p", "alone")
            return (refused.map { $0.stdout + $0.stderr } ?? "").contains("IN_SYNC_REPLICAS_NOT_ENOUGH")
        }
        XCTAssertFalse(refused?.stdout.contains("SEND_OK") == true)

        // Both links back: the replicas catch up, rejoin, and sends are acknowledged again.
        try network.restore(network.hosts[4])
        try network.restore(network.hosts[5])
        try await waitUntil("both replicas back in the SyncStateSet", timeout: .seconds(60)) {
            (await T.state(wire, d))?.syncStateSet.count == 3
        }
        mark = log.count
        try await waitUntil("sends acknowledged by the set of three again", timeout: .seconds(30)) { log.count >= mark + 50 }
        await load.stop()
        watch.cancel()
        await watch.value

        let stored = try await ControllerTraffic.logsEqual(d, wire, master: 0, slots: [0, 1, 2], topic: topic)
        let acked = log.all
        let lost = acked.filter { !stored.contains($0.body) }
        XCTAssertTrue(lost.isEmpty, "\(lost.count) of \(acked.count) acknowledged messages lost, e.g. \(lost.prefix(5).map(\.body))")
        let runs = ControllerTraffic.writerRuns(acked)
        XCTAssertEqual(runs.count, 1, "SEND_OKs from more than one store host: \(runs)")
        XCTAssertEqual(views.withLock { $0 }, [], "the controllers' master changed during a replica's partition")
        print("replica partition: \(acked.count) messages acknowledged, none lost; refused or failed sends: \(log.failureCounts)")

        await wire.shutdown()
        await d.stopAll()
    }
}
