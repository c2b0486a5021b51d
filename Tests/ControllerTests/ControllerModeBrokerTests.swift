// Brokers in controller mode against real processes: etcd, one mqcontroller, a NameServer and two mqbrokers
// of one broker name with `enableControllerMode=true`. The first broker to start is elected master and serves
// as brokerId 0; the second follows it as a replica. When the master is killed, the controller elects the
// replica, which promotes itself, registers as brokerId 0 and takes sends with the messages it replicated; the
// old master restarts as a replica and catches up; `mqadmin electMaster` then switches the roles back at run time.

import ApusTestSupport
import Foundation
import NIOCore
import Remoting
import XCTest

final class ControllerModeBrokerTests: XCTestCase {
    func brokerIds(_ wire: ControllerWire, _ namesrv: String) async throws -> [Int64: String] {
        let r = try await wire.call(namesrv, .getBrokerClusterInfo)
        guard let body = r.body else { return [:] }
        return try ClusterInfo.decode(body).brokerAddrTable["broker-a"]?.brokerAddrs ?? [:]
    }

    func testTheReplicaOfAKilledMasterIsElectedAndServesAsMaster() async throws {
        let c = try ControllerCluster()
        try await c.startEtcd()
        // Clean election: the master reports the replica into its SyncStateSet.
        let controller = try await c.startController()
        let cluster = try Cluster(extraConfig: [
            "enableControllerMode": "true", "controllerAddr": controller, "brokerHeartbeatInterval": "300",
            "controllerHeartBeatTimeoutMills": "3000", "syncBrokerMetadataPeriod": "300",
        ])
        try await cluster.startNamesrv()
        try await cluster.startBroker()
        try await cluster.startSlave(extraConfig: [
            "enableControllerMode": "true", "controllerAddr": controller, "brokerHeartbeatInterval": "300",
            "controllerHeartBeatTimeoutMills": "3000", "syncBrokerMetadataPeriod": "300",
        ])
        let wire = ControllerWire()

        // The first broker was elected (id 1, epoch 1) and registered as brokerId 0; the replica as its own id.
        let first = try await wire.replicaInfo(controller, brokerName: "broker-a")
        XCTAssertEqual(first.master, 1)
        XCTAssertEqual(first.epoch, 1)
        try await waitUntil("both brokers in the NameServer") {
            (try? await self.brokerIds(wire, cluster.namesrvAddr)) == [0: cluster.brokerAddr, 2: cluster.slaveAddr]
        }
        let epochs = try await mqadmin("getBrokerEpoch", "-n", cluster.namesrvAddr, "-b", "broker-a")
        XCTAssertEqual(epochs.status, 0, epochs.stdout + epochs.stderr)
        XCTAssertTrue(epochs.stdout.contains("#brokerAddr\t\(cluster.slaveAddr)\n#brokerId\t2"), epochs.stdout)

        // A topic and messages on the master, replicated (and the topic copied) to the replica.
        let topic = "ControllerModeTopic"
        let created = try await mqadmin("updateTopic", "-n", cluster.namesrvAddr, "-c", "TestCluster", "-t", topic)
        XCTAssertEqual(created.status, 0, created.stdout + created.stderr)
        for i in 0..<5 {
            let sent = try await mqadmin("sendMessage", "-n", cluster.namesrvAddr, "-t", topic, "-p", "before-\(i)")
            XCTAssertEqual(sent.status, 0, sent.stdout + sent.stderr)
        }
        func maxOffset(_ addr: String) async -> Int64? {
            guard let r = try? await wire.call(addr, .getBrokerRuntimeInfo), let body = r.body,
                  let table = try? KVTable.decode(body).table else { return nil }
            return table["commitLogMaxOffset"].flatMap { Int64($0) }
        }
        try await waitUntil("replicated") {
            let m = await maxOffset(cluster.brokerAddr)
            let s = await maxOffset(cluster.slaveAddr)
            return m != nil && m == s
        }
        try await waitUntil("topic copied to the replica", timeout: .seconds(20)) {
            guard let r = try? await wire.call(cluster.slaveAddr, .getAllTopicConfig), let body = r.body else { return false }
            return (try? TopicConfigSerializeWrapper.decode(body))?.topicConfigTable[topic] != nil
        }

        // The master dies once the replica is in its SyncStateSet: the controller elects the replica (epoch 2),
        // which becomes brokerId 0.
        try await waitUntil("the replica in the SyncStateSet", timeout: .seconds(30)) {
            (try? await wire.replicaInfo(controller, brokerName: "broker-a"))?.syncStateSet?.syncStateSet == [1, 2]
        }
        await cluster.broker?.kill9()
        try await waitUntil("replica elected", timeout: .seconds(20)) {
            (try? await wire.replicaInfo(controller, brokerName: "broker-a"))?.master == 2
        }
        let after = try await wire.replicaInfo(controller, brokerName: "broker-a")
        XCTAssertEqual(after.epoch, 2)
        try await waitUntil("the replica registered as master", timeout: .seconds(20)) {
            (try? await self.brokerIds(wire, cluster.namesrvAddr)) == [0: cluster.slaveAddr]
        }
        var sent = try await mqadmin("sendMessage", "-n", cluster.namesrvAddr, "-t", topic, "-p", "after")
        for _ in 0..<40 where sent.status != 0 {
            // The producer's route may still name the dead master for a moment.
            try await Task.sleep(for: .milliseconds(250))
            sent = try await mqadmin("sendMessage", "-n", cluster.namesrvAddr, "-t", topic, "-p", "after")
        }
        XCTAssertEqual(sent.status, 0, sent.stdout + sent.stderr)
        XCTAssertTrue(sent.stdout.contains("SEND_OK"), sent.stdout)
        XCTAssertTrue(sent.stdout.contains(cluster.slaveAddr) || sent.stdout.contains("broker-a"), sent.stdout)
        // Every message the old master took, and the new one, are read from the new master.
        let consumed = try await mqadmin("consumeMessage", "-n", cluster.namesrvAddr, "-t", topic, "-c", "100")
        XCTAssertEqual(consumed.status, 0, consumed.stdout + consumed.stderr)
        for body in (0..<5).map({ "before-\($0)" }) + ["after"] {
            XCTAssertTrue(consumed.stdout.contains("BODY: \(body)\n"), "\(body) missing:\n\(consumed.stdout)")
        }
        XCTAssertTrue(cluster.broker?.output.value.contains("controller mode: broker id 1, starting as ASYNC_MASTER") == true)
        let replicaLog = cluster.slave?.output.value ?? ""
        XCTAssertTrue(replicaLog.contains("controller mode: broker id 2, starting as SLAVE"), replicaLog)
        XCTAssertTrue(replicaLog.contains("this broker is now master (brokerId 0)"), replicaLog)
        let status = try await mqadmin("getSyncStateSet", "-a", controller, "-b", "broker-a")
        XCTAssertTrue(status.stdout.contains("#MasterBrokerId\t2\n#MasterAddr\t\(cluster.slaveAddr)\n#MasterEpoch\t2\n"), status.stdout)

        // The old master comes back on its store: it keeps its id, starts as a replica of the new master and
        // catches up (it had every byte the new master had when it died, so nothing needs truncating).
        try await cluster.startBroker(listenPort: cluster.brokerPort)
        XCTAssertTrue(cluster.broker?.output.value.contains("controller mode: broker id 1, starting as SLAVE") == true)
        try await waitUntil("old master registered as replica 1", timeout: .seconds(20)) {
            (try? await self.brokerIds(wire, cluster.namesrvAddr)) == [0: cluster.slaveAddr, 1: cluster.brokerAddr]
        }
        try await waitUntil("old master caught up", timeout: .seconds(20)) {
            let m = await maxOffset(cluster.slaveAddr)
            let s = await maxOffset(cluster.brokerAddr)
            return m != nil && m == s
        }

        // A planned switch-over back: electMaster makes broker 1 master again (it is back in the SyncStateSet);
        // broker 2 steps down at run time.
        try await waitUntil("the old master back in the SyncStateSet", timeout: .seconds(30)) {
            (try? await wire.replicaInfo(controller, brokerName: "broker-a"))?.syncStateSet?.syncStateSet == [1, 2]
        }
        let elect = try await mqadmin("electMaster", "-a", controller, "-c", "TestCluster", "-bn", "broker-a", "-b", "1")
        XCTAssertEqual(elect.status, 0, elect.stdout + elect.stderr)
        XCTAssertTrue(elect.stdout.contains("#BrokerMasterAddr\t\(cluster.brokerAddr)\n#MasterEpoch\t3\n"), elect.stdout)
        try await waitUntil("roles swapped at the NameServer", timeout: .seconds(20)) {
            (try? await self.brokerIds(wire, cluster.namesrvAddr)) == [0: cluster.brokerAddr, 2: cluster.slaveAddr]
        }
        var again = try await mqadmin("sendMessage", "-n", cluster.namesrvAddr, "-t", topic, "-p", "switched")
        for _ in 0..<40 where again.status != 0 {
            try await Task.sleep(for: .milliseconds(250))
            again = try await mqadmin("sendMessage", "-n", cluster.namesrvAddr, "-t", topic, "-p", "switched")
        }
        XCTAssertEqual(again.status, 0, again.stdout + again.stderr)
        try await waitUntil("the new replica follows", timeout: .seconds(20)) {
            let m = await maxOffset(cluster.brokerAddr)
            let s = await maxOffset(cluster.slaveAddr)
            return m != nil && m == s
        }
        XCTAssertTrue((cluster.slave?.output.value ?? "").contains("changing to replica"))

        await wire.shutdown()
        await cluster.stopAll()
        await c.stopAll()
    }
}
