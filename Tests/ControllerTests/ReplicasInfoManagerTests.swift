// ReplicasInfoManager's decisions without etcd: RocketMQ's rules for ids, SyncStateSet changes and
// elections (which replica, which epoch, which code), on records and liveness built by hand.

import Controller
import NIOCore
import Remoting
import XCTest

final class ReplicasInfoManagerTests: XCTestCase {
    /// A set with members 1…n, master `master` at epoch 1 (first election done), SyncStateSet `inSync`.
    func record(members: Int64, master: Int64?, inSync: Set<Int64>) -> BrokerReplicaRecord {
        var r = BrokerReplicaRecord(clusterName: "C", brokerName: "b")
        for id in 1...members { r.addBroker(id, address: "127.0.0.1:\(10_000 + id)", registerCheckCode: "127.0.0.1:\(10_000 + id);0") }
        r.updateMasterInfo(master)
        r.updateSyncStateSet(inSync)
        return r
    }

    func live(_ ids: [Int64], epochs: [Int64: Int32] = [:], offsets: [Int64: Int64] = [:], priorities: [Int64: Int32] = [:]) -> BrokerLiveness {
        BrokerLiveness(Dictionary(uniqueKeysWithValues: ids.map { id in
            (id, BrokerLiveInfo(clusterName: "C", brokerName: "b", brokerAddr: "127.0.0.1:\(10_000 + id)", brokerId: id,
                                heartbeatTimeoutMillis: 10_000, epoch: epochs[id] ?? 0, maxOffset: offsets[id] ?? 0,
                                confirmOffset: 0, electionPriority: priorities[id] ?? Int32.max))
        }))
    }

    func header<H: CommandCustomHeader>(_ r: ControllerResult, _ type: H.Type) throws -> H { try XCTUnwrap(r.header as? H) }

    func testTheControllerElectsTheMostAdvancedLiveReplicaOfTheSyncStateSet() throws {
        let r = record(members: 4, master: 1, inSync: [1, 2, 3])
        // 1 (master) is dead; 4 is alive and furthest ahead but not in sync; among 2 and 3, 3 has the higher epoch.
        let liveness = live([2, 3, 4], epochs: [2: 1, 3: 2, 4: 5], offsets: [2: 900, 3: 100, 4: 5000])
        let result = ReplicasInfoManager.electMaster(ElectMasterRequestHeader(clusterName: "C", brokerName: "b"),
                                                     record: r, liveness: liveness, enableElectUncleanMaster: false)
        XCTAssertEqual(result.code, .success)
        let h = try header(result, ElectMasterResponseHeader.self)
        XCTAssertEqual(h.masterBrokerId, 3)
        XCTAssertEqual(h.masterEpoch, 2)
        XCTAssertEqual(h.syncStateSetEpoch, 2)
        XCTAssertEqual(result.newRecord?.syncStateSet, [3])
        // Same epoch: the larger offset wins; same offset: the lower priority value wins.
        let byOffset = ReplicasInfoManager.electMaster(ElectMasterRequestHeader(clusterName: "C", brokerName: "b"), record: r,
                                                       liveness: live([2, 3], offsets: [2: 900, 3: 100]), enableElectUncleanMaster: false)
        XCTAssertEqual(try header(byOffset, ElectMasterResponseHeader.self).masterBrokerId, 2)
        let byPriority = ReplicasInfoManager.electMaster(ElectMasterRequestHeader(clusterName: "C", brokerName: "b"), record: r,
                                                         liveness: live([2, 3], priorities: [2: 5, 3: 1]), enableElectUncleanMaster: false)
        XCTAssertEqual(try header(byPriority, ElectMasterResponseHeader.self).masterBrokerId, 3)
    }

    func testNobodyInSyncAliveLeavesTheSetWithoutMasterUnlessUncleanElectionIsOn() throws {
        let r = record(members: 3, master: 1, inSync: [1, 2])
        let liveness = live([3])
        let clean = ReplicasInfoManager.electMaster(ElectMasterRequestHeader(clusterName: "C", brokerName: "b"), record: r,
                                                    liveness: liveness, enableElectUncleanMaster: false)
        XCTAssertEqual(clean.code, .controllerMasterNotAvailable)
        XCTAssertEqual(clean.remark, "Old master has down and failed to elect a new broker master")
        XCTAssertNil(clean.newRecord?.masterBrokerId)
        XCTAssertEqual(clean.newRecord?.masterEpoch, 2, "Java bumps the epoch when the master is dropped")
        let unclean = ReplicasInfoManager.electMaster(ElectMasterRequestHeader(clusterName: "C", brokerName: "b"), record: r,
                                                      liveness: liveness, enableElectUncleanMaster: true)
        XCTAssertEqual(unclean.code, .success)
        XCTAssertEqual(try header(unclean, ElectMasterResponseHeader.self).masterBrokerId, 3)
    }

    func testAnAdminElectionTakesTheDesignatedReplicaOrNothing() throws {
        let r = record(members: 3, master: 1, inSync: [1, 2])
        let liveness = live([1, 2, 3])
        let two = ReplicasInfoManager.electMaster(ElectMasterRequestHeader(clusterName: "C", brokerName: "b", brokerId: 2, designateElect: true),
                                                  record: r, liveness: liveness, enableElectUncleanMaster: false)
        XCTAssertEqual(try header(two, ElectMasterResponseHeader.self).masterBrokerId, 2)
        let body = try ElectMasterResponseBody.decode(try XCTUnwrap(two.body))
        XCTAssertEqual(body.brokerMemberGroup?.brokerAddrs, [1: "127.0.0.1:10001", 2: "127.0.0.1:10002", 3: "127.0.0.1:10003"])
        XCTAssertEqual(body.syncStateSet, [2])
        // 3 is alive but not in sync: refused, nothing written.
        let three = ReplicasInfoManager.electMaster(ElectMasterRequestHeader(clusterName: "C", brokerName: "b", brokerId: 3, designateElect: true),
                                                    record: r, liveness: liveness, enableElectUncleanMaster: false)
        XCTAssertEqual(three.code, .controllerElectMasterFailed)
        XCTAssertNil(three.newRecord)
        // The master itself: MASTER_STILL_EXIST with the current master in the answer.
        let same = ReplicasInfoManager.electMaster(ElectMasterRequestHeader(clusterName: "C", brokerName: "b", brokerId: 1, designateElect: true),
                                                   record: r, liveness: liveness, enableElectUncleanMaster: false)
        XCTAssertEqual(same.code, .controllerMasterStillExist)
        XCTAssertEqual(try header(same, ElectMasterResponseHeader.self).masterEpoch, 1)
        XCTAssertNil(same.newRecord)
    }

    func testAlterSyncStateSetIsFencedByMasterAndEpochsAndNeedsLiveMembers() throws {
        let r = record(members: 3, master: 1, inSync: [1])
        let liveness = live([1, 2])
        func alter(master: Int64?, masterEpoch: Int32?, set: Set<Int64>, setEpoch: Int32) -> ControllerResult {
            ReplicasInfoManager.alterSyncStateSet(AlterSyncStateSetRequestHeader(brokerName: "b", masterBrokerId: master, masterEpoch: masterEpoch),
                                                  SyncStateSet(syncStateSet: set, syncStateSetEpoch: setEpoch), record: r, liveness: liveness)
        }
        XCTAssertEqual(alter(master: 2, masterEpoch: 1, set: [1, 2], setEpoch: 1).code, .controllerInvalidMaster)
        XCTAssertEqual(alter(master: 1, masterEpoch: 0, set: [1, 2], setEpoch: 1).code, .controllerFencedMasterEpoch)
        XCTAssertEqual(alter(master: 1, masterEpoch: 1, set: [1, 2], setEpoch: 0).code, .controllerFencedSyncStateSetEpoch)
        XCTAssertEqual(alter(master: 1, masterEpoch: 1, set: [1, 9], setEpoch: 1).code, .controllerInvalidReplicas)
        XCTAssertEqual(alter(master: 1, masterEpoch: 1, set: [1, 3], setEpoch: 1).code, .controllerBrokerNotAlive)
        XCTAssertEqual(alter(master: 1, masterEpoch: 1, set: [2], setEpoch: 1).code, .controllerAlterSyncStateSetFailed)
        XCTAssertEqual(alter(master: 1, masterEpoch: 1, set: [1], setEpoch: 1).remark,
                       "The newSyncStateSet is equal with oldSyncStateSet, no needed to update syncStateSet")
        let ok = alter(master: 1, masterEpoch: 1, set: [1, 2], setEpoch: 1)
        XCTAssertEqual(ok.code, .success)
        XCTAssertEqual(try header(ok, AlterSyncStateSetResponseHeader.self).newSyncStateSetEpoch, 2)
        XCTAssertEqual(ok.newRecord?.syncStateSet, [1, 2])
        XCTAssertEqual(ok.newRecord?.masterEpoch, 1, "the master epoch does not move")
    }

    func testRecordAndBodiesRoundTripThroughJSON() throws {
        let r = record(members: 2, master: 2, inSync: [1, 2])
        XCTAssertEqual(try BrokerReplicaRecord.decode(r.encode()), r)
        XCTAssertEqual(SyncStateSet(syncStateSet: [2, 1], syncStateSetEpoch: 3).jsonText(), #"{"syncStateSet":[1,2],"syncStateSetEpoch":3}"#)
        let group = BrokerMemberGroup(cluster: "C", brokerName: "b", brokerAddrs: [1: "a:1", 0: "a:0"])
        XCTAssertEqual(group.jsonText(), #"{"brokerAddrs":{0:"a:0",1:"a:1"},"brokerName":"b","cluster":"C"}"#)
        XCTAssertEqual(try BrokerMemberGroup.decode(group.jsonText()), group)
        // fastjson's quoted-key spelling of a Java Map<Long,String> reads the same.
        XCTAssertEqual(try BrokerMemberGroup.decode(#"{"brokerAddrs":{"0":"a:0","1":"a:1"},"brokerName":"b","cluster":"C"}"#), group)
    }
}
