// One etcd member and one controller killed while producing (issue 11, must-show 2c): three etcd members, two
// mqcontrollers, a NameServer and three brokers (SYNC_MASTER, allAckInSyncStateSet, minInSyncReplicas=2) on
// network-namespace hosts where this process may make them, else on loopback; producers (the Swift client, in
// this process) send all along. etcd member 0 and controller 0 (the first of every broker's controllerAddr)
// get SIGKILL: sends are still acknowledged, the remaining controller answers (etcd keeps its quorum with 2 of
// 3), and the master killed after that is replaced by a replica of its SyncStateSet, whose SEND_OKs resume.
//
// Checks: zero acknowledged messages lost (every SEND_OK body is in the new master's CommitLog, which the other
// live replica equals); at most one master accepting writes: the SEND_OKs, in the order they arrived, come
// from the first master's store host and then only from the new one (`ControllerTraffic.writerRuns` gives
// exactly two runs — the old master never answers after the new one did), and the remaining controller's
// epoch rises by the one election; service back: SEND_OKs from the new master.

import ApusTestSupport
import Client
import Foundation
import Remoting
import XCTest

final class EtcdMemberAndControllerLossTests: XCTestCase {
    func testWithOneEtcdMemberAndOneControllerKilledServiceContinuesAndAMasterKillIsStillHandled() async throws {
        let d = try ControllerDeployment(hostCount: 6, useNetwork: true)
        print("etcd member and controller loss: \(d.network == nil ? "loopback (no network namespaces)" : "network-namespace hosts")")
        typealias T = ControllerFailoverTests
        // Hosts 0-2: etcd members (controllers on 0 and 1, the NameServer on 2); 3-5: brokers.
        try await d.startEtcd(hostIndexes: [0, 1, 2])
        try await d.startController(hostIndex: 0)
        try await d.startController(hostIndex: 1)
        try await d.startNamesrv(hostIndex: 2)
        for h in 3...5 { _ = d.addBroker(hostIndex: h) }
        for n in 0..<3 { try await d.startBroker(n, extra: T.brokerKeys) }
        let wire = ControllerWire()
        try await waitUntil("a master and a SyncStateSet of three", timeout: .seconds(60)) {
            (await T.state(wire, d))?.syncStateSet.count == 3
        }
        let topic = "EtcdLossTopic"
        try await ControllerTraffic.createTopic(d, wire, topic)
        let load = try await ProducerLoad(namesrv: d.namesrvAddr, topic: topic, count: 2, name: "etcdloss")
        let log = load.log
        try await waitUntil("sends acknowledged", timeout: .seconds(30)) { log.count >= 50 }

        // etcd member 0 and controller 0 die: sends go on, the other controller answers.
        await d.etcd[0].kill9()
        await d.controllers[0].kill9()
        let survivor = d.controllerAddrs[1]
        var mark = log.count
        try await waitUntil("sends acknowledged after the kills", timeout: .seconds(30)) { log.count >= mark + 50 }
        func survivorState() async -> ControllerFailoverTests.SetState? {
            guard let r = try? await wire.call(survivor, .controllerGetReplicaInfo, GetReplicaInfoRequestHeader(brokerName: "broker-a")),
                  r.responseCode == .success, let h = try? r.decodeHeader(GetReplicaInfoResponseHeader.self) else { return nil }
            return .init(master: h.masterBrokerId, masterAddress: h.masterAddress, epoch: h.masterEpoch ?? 0,
                         syncStateSet: r.body.flatMap { try? SyncStateSet.decode($0) }?.syncStateSet ?? [])
        }
        try await waitUntil("the remaining controller answers with the set of three", timeout: .seconds(30)) {
            (await survivorState())?.syncStateSet.count == 3
        }
        guard let before = await survivorState(), let oldMaster = before.master, let addr = before.masterAddress,
              let slot = d.brokerIndex(address: addr) else { return XCTFail("no master before the master kill") }

        // Then the master dies: the remaining controller elects a replica of the set.
        let killedAt = nowMs()
        await d.kill9Broker(slot)
        try await waitUntil("a replica elected by the remaining controller", timeout: .seconds(30)) {
            guard let now = await survivorState() else { return false }
            return now.master != nil && now.master != oldMaster && now.epoch > before.epoch
        }
        let oldHost = d.brokers[slot].address
        try await waitUntil("a SEND_OK from the new master", timeout: .seconds(60)) {
            log.first(after: killedAt, excluding: oldHost) != nil
        }
        let firstNew = log.first(after: killedAt, excluding: oldHost)
        mark = log.count
        try await waitUntil("sends acknowledged by the new master", timeout: .seconds(30)) { log.count >= mark + 50 }
        await load.stop()

        guard let after = await survivorState(), let newAddr = after.masterAddress, let m = d.brokerIndex(address: newAddr) else {
            return XCTFail("no master at the end")
        }
        XCTAssertEqual(after.epoch, before.epoch + 1, "more than one election")
        let live = (0..<3).filter { $0 != slot }
        let stored = try await ControllerTraffic.logsEqual(d, wire, master: m, slots: live, topic: topic)
        let acked = log.all
        let lost = acked.filter { !stored.contains($0.body) }
        XCTAssertTrue(lost.isEmpty, "\(lost.count) of \(acked.count) acknowledged messages lost, e.g. \(lost.prefix(5).map(\.body))")
        let runs = ControllerTraffic.writerRuns(acked)
        XCTAssertEqual(runs.count, 2, "SEND_OKs did not pass once from the old master to the new one: \(runs)")
        print("etcd member and controller loss: \(acked.count) messages acknowledged, none lost; master kill to first SEND_OK on the new master \((firstNew?.atMs ?? killedAt) - killedAt) ms; refused or failed sends: \(log.failureCounts)")

        await wire.shutdown()
        await d.stopAll()
    }
}
