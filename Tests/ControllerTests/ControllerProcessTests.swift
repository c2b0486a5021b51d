// Real-process tests of controller mode: one etcd, two `mqcontroller`s on it, brokers played by a raw
// remoting client (controller-mode broker requests), and `mqadmin`'s controller commands checked by their
// output. What one controller decides, the other reports; a master whose heartbeats stop is replaced.

import ApusTestSupport
import Foundation
import NIOCore
import Remoting
import XCTest

final class ControllerProcessTests: XCTestCase {
    let cluster = "TestCluster"

    /// Heartbeats as one broker every 300 ms until cancelled (a broker's period, shortened).
    func heartbeating(_ wire: ControllerWire, _ controller: String, brokerName: String, brokerAddr: String,
                      brokerId: Int64) -> Task<Void, Never> {
        let cluster = self.cluster
        return wire.track(Task {
            while !Task.isCancelled {
                try? await wire.heartbeat(controller, cluster: cluster, brokerName: brokerName, brokerAddr: brokerAddr,
                                          brokerId: brokerId)
                try? await Task.sleep(for: .milliseconds(300))
            }
        })
    }

    func testBrokerIdsAreAssignedOnceAcrossBothControllers() async throws {
        let c = try ControllerCluster()
        try await c.startEtcd()
        let c0 = try await c.startController()
        let c1 = try await c.startController()
        let wire = ControllerWire()

        let next0 = try await wire.call(c0, .controllerGetNextBrokerId,
                                        GetNextBrokerIdRequestHeader(clusterName: cluster, brokerName: "broker-a"))
        XCTAssertEqual(try next0.decodeHeader(GetNextBrokerIdResponseHeader.self).nextBrokerId, 1)
        // Only id 1 may open a broker set.
        let early = try await wire.call(c1, .controllerApplyBrokerId, ApplyBrokerIdRequestHeader(
            clusterName: cluster, brokerName: "broker-a", appliedBrokerId: 2, registerCheckCode: "127.0.0.1:1;0"))
        XCTAssertEqual(early.responseCode, .controllerBrokerIdInvalid)

        let id1 = try await wire.register(c0, cluster: cluster, brokerName: "broker-a", brokerAddr: "127.0.0.1:10911")
        XCTAssertEqual(id1, 1)
        // The other controller sees the assignment at once and offers the next id.
        let id2 = try await wire.register(c1, cluster: cluster, brokerName: "broker-a", brokerAddr: "127.0.0.1:10921")
        XCTAssertEqual(id2, 2)
        // An id taken by another broker (other check code) is refused; the owner may apply again.
        let stolen = try await wire.call(c0, .controllerApplyBrokerId, ApplyBrokerIdRequestHeader(
            clusterName: cluster, brokerName: "broker-a", appliedBrokerId: 2, registerCheckCode: "127.0.0.1:9999;7"))
        XCTAssertEqual(stolen.responseCode, .controllerBrokerIdInvalid)
        XCTAssertEqual(stolen.remark, "Fail to apply brokerId: 2 in broker-set: broker-a")
        let again = try await wire.call(c0, .controllerApplyBrokerId, ApplyBrokerIdRequestHeader(
            clusterName: cluster, brokerName: "broker-a", appliedBrokerId: 2, registerCheckCode: "127.0.0.1:10921;2"))
        XCTAssertEqual(again.responseCode, .success)
        // Registering an id never applied for is refused.
        let unknown = try await wire.call(c1, .controllerRegisterBroker, RegisterBrokerToControllerRequestHeader(
            clusterName: cluster, brokerName: "broker-a", brokerId: 5, brokerAddress: "127.0.0.1:1"))
        XCTAssertEqual(unknown.responseCode, .controllerBrokerNeedToBeRegistered)
        // A heartbeat without a broker id is refused as Java refuses it.
        let anonymous = try await wire.call(c1, .brokerHeartbeat, BrokerHeartbeatRequestHeader(
            clusterName: cluster, brokerAddr: "127.0.0.1:1", brokerName: "broker-a"))
        XCTAssertEqual(anonymous.responseCode, .controllerInvalidRequest)
        XCTAssertEqual(anonymous.remark, "Heart beat with empty brokerId")

        await wire.shutdown()
        await c.stopAll()
    }

    func testElectMasterThroughMqadminIsSeenByBothControllers() async throws {
        let c = try ControllerCluster()
        try await c.startEtcd()
        let c0 = try await c.startController()
        let c1 = try await c.startController()
        let wire = ControllerWire()
        let addr1 = "127.0.0.1:10911", addr2 = "127.0.0.1:10921"
        let id1 = try await wire.register(c0, cluster: cluster, brokerName: "broker-a", brokerAddr: addr1)
        let id2 = try await wire.register(c0, cluster: cluster, brokerName: "broker-a", brokerAddr: addr2)
        let beats = [heartbeating(wire, c0, brokerName: "broker-a", brokerAddr: addr1, brokerId: id1),
                     heartbeating(wire, c1, brokerName: "broker-a", brokerAddr: addr2, brokerId: id2)]
        defer { beats.forEach { $0.cancel() } }
        try await waitUntil("both brokers alive") {
            let r = try? await wire.call(c1, .controllerGetSyncStateData, body: ByteBuffer(string: "[\"broker-a\"]"))
            guard let body = r?.body, let info = try? BrokerReplicasInfo.decode(body) else { return false }
            return info.replicasInfoTable.first?.info.notInSyncReplicas.allSatisfy(\.alive) == true
                && info.replicasInfoTable.first?.info.notInSyncReplicas.count == 2
        }

        // The first election (a broker's own trigger) makes the asking broker master at epoch 1.
        let first = try await wire.call(c0, .controllerElectMaster, ElectMasterRequestHeader(
            clusterName: cluster, brokerName: "broker-a", brokerId: id1))
        XCTAssertEqual(first.responseCode, .success, first.remark ?? "")
        let firstHeader = try first.decodeHeader(ElectMasterResponseHeader.self)
        XCTAssertEqual(firstHeader.masterBrokerId, id1)
        XCTAssertEqual(firstHeader.masterEpoch, 1)
        XCTAssertEqual(firstHeader.masterAddress, addr1)

        // The master adds the replica to its SyncStateSet (through the other controller), fenced by epochs.
        let stale = try await wire.call(c1, .controllerAlterSyncStateSet,
                                        AlterSyncStateSetRequestHeader(brokerName: "broker-a", masterBrokerId: id1, masterEpoch: 0),
                                        body: SyncStateSet(syncStateSet: [id1, id2], syncStateSetEpoch: 1).encode())
        XCTAssertEqual(stale.responseCode, .controllerFencedMasterEpoch)
        let alter = try await wire.call(c1, .controllerAlterSyncStateSet,
                                        AlterSyncStateSetRequestHeader(brokerName: "broker-a", masterBrokerId: id1, masterEpoch: 1),
                                        body: SyncStateSet(syncStateSet: [id1, id2], syncStateSetEpoch: 1).encode())
        XCTAssertEqual(alter.responseCode, .success, alter.remark ?? "")
        XCTAssertEqual(try alter.decodeHeader(AlterSyncStateSetResponseHeader.self).newSyncStateSetEpoch, 2)

        // mqadmin electMaster on one controller...
        let elect = try await mqadmin("electMaster", "-a", c0, "-c", cluster, "-bn", "broker-a", "-b", String(id2))
        XCTAssertEqual(elect.status, 0, elect.stdout + elect.stderr)
        XCTAssertEqual(elect.stdout, """

            #ClusterName\t\(cluster)
            #BrokerName\tbroker-a
            #BrokerMasterAddr\t\(addr2)
            #MasterEpoch\t2
            #SyncStateSetEpoch\t3
            \t#Broker\t1\t\(addr1)
            \t#Broker\t2\t\(addr2)

            """)
        // ...changes the master and bumps the epoch as the other controller reports it.
        for controller in [c0, c1] {
            let info = try await wire.replicaInfo(controller, brokerName: "broker-a")
            XCTAssertEqual(info.master, id2)
            XCTAssertEqual(info.epoch, 2)
            XCTAssertEqual(info.syncStateSet, SyncStateSet(syncStateSet: [id2], syncStateSetEpoch: 3))
        }
        let sync = try await mqadmin("getSyncStateSet", "-a", c1, "-b", "broker-a")
        XCTAssertEqual(sync.status, 0, sync.stdout + sync.stderr)
        XCTAssertEqual(sync.stdout, """

            #brokerName\tbroker-a
            #MasterBrokerId\t2
            #MasterAddr\t\(addr2)
            #MasterEpoch\t2
            #SyncStateSetEpoch\t3
            #SyncStateSetNums\t1

            InSyncReplica:\tReplicaIdentity{brokerName='broker-a', brokerId=2, brokerAddress='\(addr2)', alive=true}

            NotInSyncReplica:\tReplicaIdentity{brokerName='broker-a', brokerId=1, brokerAddress='\(addr1)', alive=true}

            """)

        // Electing the master again changes nothing: MASTER_STILL_EXIST, a failed command.
        let same = try await mqadmin("electMaster", "-a", c1, "-c", cluster, "-bn", "broker-a", "-b", String(id2))
        XCTAssertNotEqual(same.status, 0)
        XCTAssertTrue(same.stderr.contains("CODE: 2011"), same.stderr)
        // An unknown broker set.
        let none = try await mqadmin("electMaster", "-a", c1, "-c", cluster, "-bn", "broker-zz", "-b", "1")
        XCTAssertTrue(none.stderr.contains("electMaster command failed: CODE: 2010  DESC: Broker hasn't been registered"), none.stderr)

        await wire.shutdown()
        await c.stopAll()
    }

    func testControllerMetaDataAndConfigThroughMqadmin() async throws {
        let c = try ControllerCluster()
        try await c.startEtcd()
        let c0 = try await c.startController()
        let c1 = try await c.startController()
        // c0 started first and holds the leadership; both report the same group, leader and peers.
        for controller in [c0, c1] {
            let meta = try await mqadmin("getControllerMetaData", "-a", controller)
            XCTAssertEqual(meta.status, 0, meta.stdout + meta.stderr)
            XCTAssertEqual(meta.stdout, """

                #ControllerGroup\tDefaultControllerGroup
                #ControllerLeaderId\tc0
                #ControllerLeaderAddress\t\(c0)
                #Peer:\tc0:\(c0)
                #Peer:\tc1:\(c1)

                """)
        }
        let config = try await mqadmin("getControllerConfig", "-a", "\(c0);\(c1)")
        XCTAssertEqual(config.status, 0, config.stdout + config.stderr)
        let lines = config.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "============\(c0)============")
        XCTAssertTrue(lines.contains("============\(c1)============"))
        XCTAssertTrue(lines.contains("controllerEtcdEndpoints" + String(repeating: " ", count: 50 - 23) + "=  " + c.etcdEndpoint),
                      config.stdout)
        XCTAssertTrue(lines.contains("controllerSelfId" + String(repeating: " ", count: 50 - 16) + "=  c1"), config.stdout)
        XCTAssertTrue(lines.contains("scanNotActiveBrokerInterval" + String(repeating: " ", count: 50 - 27) + "=  500"))

        // When the leader stops, its lease goes with it and the other controller takes over.
        await c.controllers[0].stop()
        try await waitUntil("c1 leads") {
            let m = try? await mqadmin("getControllerMetaData", "-a", c1)
            return m?.stdout.contains("#ControllerLeaderId\tc1\n") == true && m?.stdout.contains("#Peer:\tc0") == false
        }
        await c.stopAll()
    }

    func testMasterWhoseHeartbeatsStopIsReplacedByAReplica() async throws {
        let c = try ControllerCluster()
        try await c.startEtcd()
        let c0 = try await c.startController()
        let c1 = try await c.startController()
        let wire = ControllerWire()
        let addr1 = "127.0.0.1:10911", addr2 = "127.0.0.1:10921"
        let id1 = try await wire.register(c1, cluster: cluster, brokerName: "broker-a", brokerAddr: addr1)
        let id2 = try await wire.register(c1, cluster: cluster, brokerName: "broker-a", brokerAddr: addr2)
        let master = heartbeating(wire, c1, brokerName: "broker-a", brokerAddr: addr1, brokerId: id1)
        let replica = heartbeating(wire, c1, brokerName: "broker-a", brokerAddr: addr2, brokerId: id2)
        defer { master.cancel(); replica.cancel() }
        try await wire.heartbeat(c1, cluster: cluster, brokerName: "broker-a", brokerAddr: addr1, brokerId: id1)
        try await wire.heartbeat(c1, cluster: cluster, brokerName: "broker-a", brokerAddr: addr2, brokerId: id2)
        let first = try await wire.call(c1, .controllerElectMaster, ElectMasterRequestHeader(
            clusterName: cluster, brokerName: "broker-a", brokerId: id1))
        XCTAssertEqual(first.responseCode, .success, first.remark ?? "")
        let alter = try await wire.call(c1, .controllerAlterSyncStateSet,
                                        AlterSyncStateSetRequestHeader(brokerName: "broker-a", masterBrokerId: id1, masterEpoch: 1),
                                        body: SyncStateSet(syncStateSet: [id1, id2], syncStateSetEpoch: 1).encode())
        XCTAssertEqual(alter.responseCode, .success, alter.remark ?? "")

        // The master stays master while it heartbeats (several scans of the leader, c0, pass).
        try await waitUntil("a few scans", timeout: .seconds(10)) {
            (try? String(contentsOf: c.directory.appendingPathComponent("controller-0.log"), encoding: .utf8))?
                .contains("this controller is now the leader") == true
        }
        let before = try await wire.replicaInfo(c0, brokerName: "broker-a")
        XCTAssertEqual(before.master, id1)
        XCTAssertEqual(before.epoch, 1)

        // The master goes silent: after its 2 s heartbeat timeout the leader elects the replica.
        master.cancel()
        let stoppedAt = ContinuousClock.now
        try await waitUntil("replica elected", timeout: .seconds(20)) {
            (try? await wire.replicaInfo(c1, brokerName: "broker-a"))?.master == id2
        }
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - stoppedAt, .milliseconds(1500), "elected before the timeout")
        for controller in [c0, c1] {
            let after = try await wire.replicaInfo(controller, brokerName: "broker-a")
            XCTAssertEqual(after.master, id2)
            XCTAssertEqual(after.epoch, 2, "the new master's epoch is higher")
            XCTAssertEqual(after.syncStateSet?.syncStateSet, [id2])
        }
        let sync = try await mqadmin("getSyncStateSet", "-a", c0, "-b", "broker-a")
        XCTAssertTrue(sync.stdout.contains("#MasterBrokerId\t2\n#MasterAddr\t\(addr2)\n#MasterEpoch\t2\n"), sync.stdout)
        XCTAssertTrue(sync.stdout.contains("NotInSyncReplica:\tReplicaIdentity{brokerName='broker-a', brokerId=1, brokerAddress='\(addr1)', alive=false}"),
                      sync.stdout)

        await wire.shutdown()
        await c.stopAll()
    }

    func testAMasterWhoseConnectionClosesIsReplacedWithoutWaitingForItsTimeout() async throws {
        let c = try ControllerCluster()
        try await c.startEtcd()
        let c0 = try await c.startController()
        let c1 = try await c.startController()
        let wire = ControllerWire()
        let masterWire = ControllerWire()
        let addr1 = "127.0.0.1:10911", addr2 = "127.0.0.1:10921"
        let id1 = try await wire.register(c1, cluster: cluster, brokerName: "broker-a", brokerAddr: addr1)
        let id2 = try await wire.register(c1, cluster: cluster, brokerName: "broker-a", brokerAddr: addr2)
        // Both with a one-minute timeout: only the closed connection can end the master's liveness in time.
        try await masterWire.heartbeat(c1, cluster: cluster, brokerName: "broker-a", brokerAddr: addr1, brokerId: id1, timeoutMs: 60_000)
        try await wire.heartbeat(c1, cluster: cluster, brokerName: "broker-a", brokerAddr: addr2, brokerId: id2, timeoutMs: 60_000)
        let first = try await wire.call(c0, .controllerElectMaster, ElectMasterRequestHeader(
            clusterName: cluster, brokerName: "broker-a", brokerId: id1))
        XCTAssertEqual(first.responseCode, .success, first.remark ?? "")
        let alter = try await wire.call(c0, .controllerAlterSyncStateSet,
                                        AlterSyncStateSetRequestHeader(brokerName: "broker-a", masterBrokerId: id1, masterEpoch: 1),
                                        body: SyncStateSet(syncStateSet: [id1, id2], syncStateSetEpoch: 1).encode())
        XCTAssertEqual(alter.responseCode, .success, alter.remark ?? "")

        // The master's process "dies": its connection to the controller it heartbeats to closes.
        await masterWire.shutdown()
        try await waitUntil("replica elected after the close", timeout: .seconds(15)) {
            (try? await wire.replicaInfo(c0, brokerName: "broker-a"))?.master == id2
        }
        let after = try await wire.replicaInfo(c0, brokerName: "broker-a")
        XCTAssertEqual(after.epoch, 2)
        await wire.shutdown()
        await c.stopAll()
    }

    func testConcurrentElectionsThroughBothControllersNeverShareAnEpoch() async throws {
        let c = try ControllerCluster()
        try await c.startEtcd()
        let c0 = try await c.startController()
        let c1 = try await c.startController()
        let wire = ControllerWire()
        var ids: [Int64] = []
        for port in [10911, 10921, 10931] {
            let addr = "127.0.0.1:\(port)"
            let id = try await wire.register(c0, cluster: cluster, brokerName: "broker-a", brokerAddr: addr)
            try await wire.heartbeat(c0, cluster: cluster, brokerName: "broker-a", brokerAddr: addr, brokerId: id, timeoutMs: 60_000)
            ids.append(id)
        }
        let first = try await wire.call(c0, .controllerElectMaster, ElectMasterRequestHeader(
            clusterName: cluster, brokerName: "broker-a", brokerId: ids[0]))
        XCTAssertEqual(first.responseCode, .success)
        // Unclean elections would be needed for ids outside the SyncStateSet, so widen it to all three.
        let alter = try await wire.call(c1, .controllerAlterSyncStateSet,
                                        AlterSyncStateSetRequestHeader(brokerName: "broker-a", masterBrokerId: ids[0], masterEpoch: 1),
                                        body: SyncStateSet(syncStateSet: Set(ids), syncStateSetEpoch: 1).encode())
        XCTAssertEqual(alter.responseCode, .success, alter.remark ?? "")

        // Both controllers race to elect ids 2 and 3: whatever order etcd settles, each success has its own epoch.
        let cluster = self.cluster
        let results = try await withThrowingTaskGroup(of: RemotingCommand.self) { group in
            for (i, controller) in [c0, c1, c0, c1].enumerated() {
                let id = ids[1 + i % 2]
                group.addTask {
                    try await wire.call(controller, .controllerElectMaster, ElectMasterRequestHeader(
                        clusterName: cluster, brokerName: "broker-a", brokerId: id, designateElect: true))
                }
            }
            var all: [RemotingCommand] = []
            for try await r in group { all.append(r) }
            return all
        }
        let epochs = try results.filter { $0.responseCode == .success }.map {
            try XCTUnwrap(try $0.decodeHeader(ElectMasterResponseHeader.self).masterEpoch)
        }
        XCTAssertFalse(epochs.isEmpty)
        XCTAssertEqual(Set(epochs).count, epochs.count, "two elections won with the same epoch: \(epochs)")
        let final = try await wire.replicaInfo(c1, brokerName: "broker-a")
        XCTAssertEqual(final.epoch, Int32(1 + epochs.count), "every success is one epoch step")
        XCTAssertEqual(final.epoch, epochs.max())
        for r in results where r.responseCode != .success {
            XCTAssertTrue([ResponseCode.controllerMasterStillExist, .controllerElectMasterFailed].contains(r.responseCode),
                          "\(r.code) \(r.remark ?? "")")
        }
        await wire.shutdown()
        await c.stopAll()
    }

    func testControllerRefusesBadConfigAndUnreachableEtcd() async throws {
        let c = try ControllerCluster()
        let binary = try findBinary("mqcontroller", env: "APUS_MQCONTROLLER")
        let bad = c.directory.appendingPathComponent("bad.conf")
        try "listenPort=99999\ncontrollerEtcdEndpoints=127.0.0.1:2379\nenableElectUncleanMaster=yes\n"
            .write(to: bad, atomically: true, encoding: .utf8)
        let refused = try await runToCompletion(binary, ["-c", bad.path])
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.stderr.contains("bad value listenPort=99999"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("bad value controllerEtcdEndpoints=127.0.0.1:2379 (expected comma-separated http:// URLs"),
                      refused.stderr)
        XCTAssertTrue(refused.stderr.contains("bad value enableElectUncleanMaster=yes (expected true or false"), refused.stderr)

        let nowhere = c.directory.appendingPathComponent("nowhere.conf")
        try "listenPort=0\nbindAddress=127.0.0.1\ncontrollerEtcdEndpoints=http://127.0.0.1:\(freeTCPPort())\nlogPath=\(c.directory.path)/x.log\n"
            .write(to: nowhere, atomically: true, encoding: .utf8)
        let failed = try await runToCompletion(binary, ["-c", nowhere.path], environment: ["HOME": c.directory.path])
        XCTAssertEqual(failed.status, 1)
        XCTAssertTrue(failed.stdout.contains("The controller failed to start") && failed.stdout.contains("etcd unreachable"),
                      failed.stdout + failed.stderr)
    }
}
