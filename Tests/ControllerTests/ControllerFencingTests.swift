// Fencing in controller mode (issue 11): a master cut off from the controllers and its replicas (its host's
// link down, with the NameServer on the same host so producers there still find it) is replaced by a member
// of its SyncStateSet; meanwhile it acknowledges nothing (its SyncStateSet replicas are gone and it cannot
// shrink the set without the controller), so the split brain loses no SEND_OK message. When the link is
// back it steps down, cuts what only it stored and follows the new master. Needs network namespaces (root).
//
// Must-show 2a's three points: zero acknowledged messages lost (the only SEND_OKs, "before" and "after", are in
// the final CommitLog every broker holds byte for byte); at most one master accepting writes (the cut-off master,
// the only other one that could, answers every send FLUSH_SLAVE_TIMEOUT, never SEND_OK, and its consumers see
// none of them); service back after healing (a SEND_OK from the new master, all three in the SyncStateSet).

import ApusTestSupport
import Client
import Foundation
import Remoting
import XCTest

final class ControllerFencingTests: XCTestCase {
    /// mqadmin run inside `host` (ip netns exec), or here.
    func mqadminOn(_ host: ControllerDeployment.Host?, _ args: [String]) async throws -> CommandRun {
        let binary = try findBinary("mqadmin", env: "APUS_MQADMIN")
        guard let host, let launcher = host.prefix.first else { return try await runToCompletion(binary, args) }
        return try await runToCompletion(URL(fileURLWithPath: launcher), Array(host.prefix.dropFirst()) + [binary.path] + args)
    }

    /// The messages a topic's queues offer consumers (topicStatus: the sum of max offsets), asked from `host`.
    func visibleMessages(_ host: ControllerDeployment.Host?, _ namesrv: String, _ topic: String) async -> Int64? {
        guard let r = try? await mqadminOn(host, ["topicStatus", "-n", namesrv, "-t", topic]), r.status == 0 else { return nil }
        return r.stdout.split(separator: "\n").filter { $0.hasPrefix("broker-a") }
            .compactMap { $0.split(separator: " ", omittingEmptySubsequences: true).dropFirst(3).first.flatMap { Int64($0) } }
            .reduce(0, +)
    }

    func testAMasterCutOffAcknowledgesNothingAndCutsWhatOnlyItStoredWhenItReturns() async throws {
        let d = try ControllerDeployment(hostCount: 5, useNetwork: true)
        guard let network = d.network else {
            await d.stopAll()
            throw XCTSkip("skipped: needs network namespaces (root) to cut a host's link")
        }
        typealias T = ControllerFailoverTests
        // Hosts: 0 etcd + controller, 1 controller, 2 NameServer + the first broker (the first master), 3-4 replicas.
        try await d.startEtcd(hostIndexes: [0])
        try await d.startController(hostIndex: 0)
        try await d.startController(hostIndex: 1)
        try await d.startNamesrv(hostIndex: 2)
        for h in 2...4 { _ = d.addBroker(hostIndex: h) }
        try await d.startBroker(0, extra: T.brokerKeys)
        let wire = ControllerWire()
        try await waitUntil("the first broker elected", timeout: .seconds(30)) { (await T.state(wire, d))?.master != nil }
        for n in 1...2 { try await d.startBroker(n, extra: T.brokerKeys) }
        try await waitUntil("a SyncStateSet of three", timeout: .seconds(60)) { (await T.state(wire, d))?.syncStateSet.count == 3 }
        guard let before = await T.state(wire, d), before.masterAddress == d.brokers[0].address else {
            return XCTFail("the first broker is not master")
        }
        let topic = "FencingTopic"
        try await waitUntil("topic created", timeout: .seconds(30)) {
            (try? await self.mqadminOn(nil, ["updateTopic", "-n", d.namesrvAddr, "-c", "TestCluster", "-t", topic]))?.status == 0
        }
        for b in d.brokers {
            try await waitUntil("topic copied to \(b.address)", timeout: .seconds(30)) {
                guard let r = try? await wire.call(b.address, .getAllTopicConfig), let body = r.body else { return false }
                return (try? TopicConfigSerializeWrapper.decode(body))?.topicConfigTable[topic] != nil
            }
        }
        let acked = try await mqadminOn(nil, ["sendMessage", "-n", d.namesrvAddr, "-t", topic, "-p", "before"])
        XCTAssertTrue(acked.stdout.contains("SEND_OK"), acked.stdout + acked.stderr)

        let visibleBefore = await visibleMessages(nil, d.namesrvAddr, topic)
        XCTAssertEqual(visibleBefore, 1)

        // The master's host is cut off: the controllers elect a replica of the SyncStateSet.
        let masterHost = network.hosts[2]
        try network.cut(masterHost)
        try await waitUntil("a replica elected while the master is cut off", timeout: .seconds(30)) {
            guard let now = await T.state(wire, d) else { return false }
            return now.master != before.master && now.epoch > before.epoch
        }
        // A producer on the old master's side still reaches it (and its NameServer): nothing is acknowledged.
        let side = ControllerDeployment.Host(address: masterHost.address, prefix: masterHost.launchPrefix)
        for i in 0..<3 {
            let r = try await mqadminOn(side, ["sendMessage", "-n", d.namesrvAddr, "-t", topic, "-p", "cut-\(i)"])
            XCTAssertFalse(r.stdout.contains("SEND_OK"), "the cut-off master acknowledged cut-\(i):\n\(r.stdout)")
            // Stored there, not acknowledged: its SyncStateSet replicas never answer.
            XCTAssertTrue((r.stdout + r.stderr).contains("FLUSH_SLAVE_TIMEOUT"), r.stdout + r.stderr)
        }

        // Its consumers see none of them either: with allAckInSyncStateSet they stop at the confirm offset.
        let visibleDuring = await visibleMessages(side, d.namesrvAddr, topic)
        XCTAssertEqual(visibleDuring, visibleBefore, "consumers of the cut-off master see unacknowledged messages")

        // The link is back: the old master steps down, cuts what only it stored and rejoins the set.
        try network.restore(masterHost)
        try await waitUntil("the old master back in the SyncStateSet", timeout: .seconds(60)) {
            (await T.state(wire, d))?.syncStateSet.count == 3
        }
        guard let after = await T.state(wire, d), let masterAddr = after.masterAddress, let m = d.brokerIndex(address: masterAddr) else {
            return XCTFail("no master after the partition")
        }
        var sent: CommandRun?
        try await waitUntil("a send acknowledged by the new master", timeout: .seconds(30)) {
            sent = try? await self.mqadminOn(nil, ["sendMessage", "-n", d.namesrvAddr, "-t", topic, "-p", "after"])
            return sent?.stdout.contains("SEND_OK") == true
        }
        try await waitUntil("every log equal", timeout: .seconds(30)) {
            var offsets: [Int64] = []
            for b in d.brokers { offsets.append(await T.maxOffset(wire, b.address) ?? -1) }
            return Set(offsets).count == 1
        }
        let end = await T.maxOffset(wire, masterAddr) ?? 0
        let masterLog = try d.commitLogBytes(m, from: 0, count: end)
        for r in 0..<3 where r != m {
            XCTAssertTrue(try d.commitLogBytes(r, from: 0, count: end) == masterLog, "broker \(r)'s CommitLog differs")
        }
        let bodies = Set(MessageDecoder.decodeAll(masterLog).filter { $0.topic == topic }.map { String(decoding: $0.body, as: UTF8.self) })
        XCTAssertTrue(bodies.isSuperset(of: ["before", "after"]), "\(bodies)")
        XCTAssertTrue(bodies.isDisjoint(with: ["cut-0", "cut-1", "cut-2"]), "unacknowledged messages of the old master survived: \(bodies)")
        XCTAssertTrue(d.allBrokerOutput.contains("CommitLog truncated from"), "the old master cut nothing")

        await wire.shutdown()
        await d.stopAll()
    }
}
