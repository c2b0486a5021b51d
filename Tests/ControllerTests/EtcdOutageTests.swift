// etcd entirely down (issue 11, must-show 3): controllers can decide nothing, so brokers keep their roles, the
// master keeps acknowledging with its SyncStateSet as it was, and a master that dies meanwhile is replaced only
// once etcd is back. One etcd member, one controller, a NameServer and two brokers on loopback.

import ApusTestSupport
import Foundation
import XCTest

final class EtcdOutageTests: XCTestCase {
    /// Lines a broker logs each time it asks the controllers who is master and gets no answer.
    static func unansweredRounds(_ p: ChildProcess?) -> Int {
        (p?.output.value ?? "").components(separatedBy: "no master elected yet").count - 1
    }

    func testWithEtcdDownBrokersKeepTheirRolesAndServeAndNobodyIsElectedUntilItIsBack() async throws {
        let d = try ControllerDeployment(hostCount: 1, useNetwork: false)
        try await d.startEtcd(hostIndexes: [0])
        try await d.startController(hostIndex: 0)
        try await d.startNamesrv(hostIndex: 0)
        for _ in 0..<2 { _ = d.addBroker(hostIndex: 0) }
        for n in 0..<2 { try await d.startBroker(n, extra: ControllerFailoverTests.brokerKeys) }
        let wire = ControllerWire()
        typealias T = ControllerFailoverTests
        try await waitUntil("a SyncStateSet of two", timeout: .seconds(60)) { (await T.state(wire, d))?.syncStateSet.count == 2 }
        guard let before = await T.state(wire, d), let masterAddr = before.masterAddress,
              let m = d.brokerIndex(address: masterAddr) else { return XCTFail("no master") }
        let r = 1 - m
        let topic = "OutageTopic"
        try await waitUntil("topic created", timeout: .seconds(30)) {
            (try? await mqadmin("updateTopic", "-n", d.namesrvAddr, "-c", "TestCluster", "-t", topic))?.status == 0
        }
        func send(_ body: String) async -> CommandRun? { try? await mqadmin("sendMessage", "-n", d.namesrvAddr, "-t", topic, "-p", body) }
        try await waitUntil("a send acknowledged by both", timeout: .seconds(30)) { (await send("before"))?.stdout.contains("SEND_OK") == true }

        // etcd goes away: the controllers cannot answer; the brokers keep asking (each round unanswered)
        // for longer than their heartbeat timeout, and keep their roles: the master still acknowledges sends
        // (its SyncStateSet is unchanged and the replica acknowledges them).
        await d.killEtcd()
        let asked = [Self.unansweredRounds(d.brokers[0].process), Self.unansweredRounds(d.brokers[1].process)]
        try await waitUntil("both brokers asked the controllers in vain for longer than their heartbeat timeout", timeout: .seconds(30)) {
            Self.unansweredRounds(d.brokers[0].process) >= asked[0] + 10 && Self.unansweredRounds(d.brokers[1].process) >= asked[1] + 10
        }
        let during = await send("during")
        XCTAssertTrue(during?.stdout.contains("SEND_OK") == true, during.map { $0.stdout + $0.stderr } ?? "no answer")
        XCTAssertFalse(d.brokers[r].process?.output.value.contains("changing to master") == true)

        // The master dies while etcd is down: nobody is elected (no controller can decide anything).
        await d.kill9Broker(m)
        let afterKill = Self.unansweredRounds(d.brokers[r].process)
        try await waitUntil("the replica asked in vain again", timeout: .seconds(30)) {
            Self.unansweredRounds(d.brokers[r].process) >= afterKill + 10
        }
        XCTAssertFalse(d.brokers[r].process?.output.value.contains("changing to master") == true, "elected without etcd")

        // etcd is back: the dead master's liveness lapses and the replica in the SyncStateSet is elected.
        try await d.restartEtcd()
        try await waitUntil("the replica elected once etcd is back", timeout: .seconds(60)) {
            guard let now = await T.state(wire, d) else { return false }
            return now.master != before.master && now.epoch > before.epoch
        }
        await wire.shutdown()
        await d.stopAll()
    }
}
