// ReplicasInfoManager: the controller's decisions as pure functions of one broker set's record and the
// brokers alive now — RocketMQ's ReplicasInfoManager + DefaultElectPolicy, same checks, codes and remarks.
// Each answers a `ControllerResult`: the response to send and, when the set changes, the record to write.
// EtcdReplicaStore writes it with a compare-and-swap and, if another controller changed the set first,
// reads again and asks again, so a decision is always made on the state it changes. No I/O, any task.

import NIOCore
import Remoting

/// One decision: the answer and, when something changes, the new record.
public struct ControllerResult: Sendable {
    public var code: ResponseCode = .success
    public var remark: String?
    public var header: (any CommandCustomHeader)?
    public var body: ByteBuffer?
    /// Write this (compare-and-swap on the record that was read) before answering.
    public var newRecord: BrokerReplicaRecord?

    init(header: (any CommandCustomHeader)? = nil) { self.header = header }

    mutating func fail(_ code: ResponseCode, _ remark: String) {
        self.code = code
        self.remark = remark
        newRecord = nil
    }
}

/// Which brokers of a set are alive, and what their heartbeats said.
public struct BrokerLiveness: Sendable {
    public var live: [Int64: BrokerLiveInfo]
    public init(_ live: [Int64: BrokerLiveInfo]) { self.live = live }
    public func isAlive(_ id: Int64?) -> Bool { id.map { live[$0] != nil } ?? false }
}

public enum ReplicasInfoManager {
    /// Java's MixAll.FIRST_BROKER_CONTROLLER_ID.
    public static let firstBrokerControllerId: Int64 = 1

    // MARK: broker ids and registration

    public static func getNextBrokerId(_ request: GetNextBrokerIdRequestHeader, record: BrokerReplicaRecord?) -> ControllerResult {
        ControllerResult(header: GetNextBrokerIdResponseHeader(
            clusterName: request.clusterName, brokerName: request.brokerName,
            nextBrokerId: record?.nextAssignBrokerId ?? firstBrokerControllerId))
    }

    public static func applyBrokerId(_ request: ApplyBrokerIdRequestHeader, record: BrokerReplicaRecord?) -> ControllerResult {
        var result = ControllerResult(header: ApplyBrokerIdResponseHeader(clusterName: request.clusterName,
                                                                           brokerName: request.brokerName))
        let id = request.appliedBrokerId
        let address = String(request.registerCheckCode.split(separator: ";", omittingEmptySubsequences: false).first ?? "")
        guard var record else {
            guard id == firstBrokerControllerId else {
                result.fail(.controllerBrokerIdInvalid, "Broker-set: \(request.brokerName) hasn't been registered in controller, but broker try to apply brokerId: \(id)")
                return result
            }
            var fresh = BrokerReplicaRecord(clusterName: request.clusterName, brokerName: request.brokerName)
            fresh.addBroker(id, address: address, registerCheckCode: request.registerCheckCode)
            result.newRecord = fresh
            return result
        }
        if let member = record.member(id) {
            guard member.registerCheckCode == request.registerCheckCode else {
                result.fail(.controllerBrokerIdInvalid, "Fail to apply brokerId: \(id) in broker-set: \(request.brokerName)")
                return result
            }
            return result  // already ours: nothing changes
        }
        record.addBroker(id, address: address, registerCheckCode: request.registerCheckCode)
        result.newRecord = record
        return result
    }

    public static func registerBroker(_ request: RegisterBrokerToControllerRequestHeader, record: BrokerReplicaRecord?,
                                      liveness: BrokerLiveness) -> ControllerResult {
        var header = RegisterBrokerToControllerResponseHeader(clusterName: request.clusterName, brokerName: request.brokerName)
        var result = ControllerResult(header: header)
        guard var record else {
            result.fail(.controllerBrokerNeedToBeRegistered, "Broker-set: \(request.brokerName) hasn't been registered in controller")
            return result
        }
        guard record.member(request.brokerId) != nil else {
            result.fail(.controllerBrokerNeedToBeRegistered,
                        "BrokerId: \(request.brokerId) hasn't been registered in broker-set: \(request.brokerName)")
            return result
        }
        if let master = record.masterBrokerId, liveness.isAlive(master) {
            header.masterBrokerId = master
            header.masterAddress = record.address(of: master)
            header.masterEpoch = record.masterEpoch
            header.syncStateSetEpoch = record.syncStateSetEpoch
        }
        result.header = header
        result.body = SyncStateSet(syncStateSet: record.syncStateSet, syncStateSetEpoch: record.syncStateSetEpoch).encode()
        if record.address(of: request.brokerId) != request.brokerAddress {
            record.updateAddress(request.brokerId, request.brokerAddress)
            result.newRecord = record
        }
        return result
    }

    // MARK: queries

    public static func getReplicaInfo(_ request: GetReplicaInfoRequestHeader, record: BrokerReplicaRecord?) -> ControllerResult {
        var result = ControllerResult(header: GetReplicaInfoResponseHeader())
        guard let record else {
            result.fail(.controllerBrokerMetadataNotExist, "Broker metadata is not existed")
            return result
        }
        result.header = GetReplicaInfoResponseHeader(masterBrokerId: record.masterBrokerId,
                                                     masterAddress: record.address(of: record.masterBrokerId),
                                                     masterEpoch: record.masterEpoch)
        result.body = SyncStateSet(syncStateSet: record.syncStateSet, syncStateSetEpoch: record.syncStateSetEpoch).encode()
        return result
    }

    /// GET_SYNC_STATE_DATA's entry for one known set.
    public static func replicasInfo(_ record: BrokerReplicaRecord, liveness: BrokerLiveness) -> BrokerReplicasInfo.ReplicasInfo {
        var inSync: [BrokerReplicasInfo.ReplicaIdentity] = []
        var notInSync: [BrokerReplicasInfo.ReplicaIdentity] = []
        for m in record.brokers {
            let identity = BrokerReplicasInfo.ReplicaIdentity(brokerName: record.brokerName, brokerId: m.brokerId,
                                                              brokerAddress: m.brokerAddress, alive: liveness.isAlive(m.brokerId))
            if record.syncStateSet.contains(m.brokerId) { inSync.append(identity) } else { notInSync.append(identity) }
        }
        return BrokerReplicasInfo.ReplicasInfo(
            masterBrokerId: record.masterBrokerId, masterAddress: record.address(of: record.masterBrokerId),
            masterEpoch: record.masterEpoch, syncStateSetEpoch: record.syncStateSetEpoch,
            inSyncReplicas: inSync, notInSyncReplicas: notInSync)
    }

    // MARK: changes of master and SyncStateSet

    public static func alterSyncStateSet(_ request: AlterSyncStateSetRequestHeader, _ proposed: SyncStateSet,
                                         record: BrokerReplicaRecord?, liveness: BrokerLiveness) -> ControllerResult {
        var result = ControllerResult(header: AlterSyncStateSetResponseHeader(newSyncStateSetEpoch: 0))
        guard var record else {
            result.fail(.controllerAlterSyncStateSetFailed, "Broker metadata is not existed")
            return result
        }
        let newSet = proposed.syncStateSet
        if newSet == record.syncStateSet {
            result.fail(.controllerAlterSyncStateSetFailed,
                        "The newSyncStateSet is equal with oldSyncStateSet, no needed to update syncStateSet")
            return result
        }
        guard let master = record.masterBrokerId, master == request.masterBrokerId else {
            result.fail(.controllerInvalidMaster, "Rejecting alter syncStateSet request because the current leader is:{\(record.masterBrokerId.map(String.init) ?? "null")}, not {\(request.masterBrokerId.map(String.init) ?? "null")}")
            return result
        }
        guard request.masterEpoch == record.masterEpoch else {
            result.fail(.controllerFencedMasterEpoch, "Rejecting alter syncStateSet request because the current master epoch is:{\(record.masterEpoch)}, not {\(request.masterEpoch.map(String.init) ?? "null")}")
            return result
        }
        guard proposed.syncStateSetEpoch == record.syncStateSetEpoch else {
            result.fail(.controllerFencedSyncStateSetEpoch, "Rejecting alter syncStateSet request because the current syncStateSet epoch is:{\(record.syncStateSetEpoch)}, not {\(proposed.syncStateSetEpoch)}")
            return result
        }
        for replica in newSet.sorted() {
            guard record.member(replica) != nil else {
                result.fail(.controllerInvalidReplicas, "Rejecting alter syncStateSet request because the replicas {\(replica)} don't exist")
                return result
            }
            guard liveness.isAlive(replica) else {
                result.fail(.controllerBrokerNotAlive, "Rejecting alter syncStateSet request because the replicas {\(replica)} don't alive")
                return result
            }
        }
        guard newSet.contains(master) else {
            result.fail(.controllerAlterSyncStateSetFailed, "Rejecting alter syncStateSet request because the newSyncStateSet don't contains origin leader {\(master)}")
            return result
        }
        record.updateSyncStateSet(newSet)
        result.header = AlterSyncStateSetResponseHeader(newSyncStateSetEpoch: record.syncStateSetEpoch)
        result.body = SyncStateSet(syncStateSet: newSet, syncStateSetEpoch: record.syncStateSetEpoch).encode()
        result.newRecord = record
        return result
    }

    /// ELECT_MASTER from a broker (its id, first election only), an admin (`designateElect`: that id or
    /// nothing) or the controller's own scan (id -1).
    public static func electMaster(_ request: ElectMasterRequestHeader, record: BrokerReplicaRecord?,
                                   liveness: BrokerLiveness, enableElectUncleanMaster: Bool) -> ControllerResult {
        var result = ControllerResult(header: ElectMasterResponseHeader())
        guard var record else {
            result.fail(.controllerBrokerNeedToBeRegistered, "Broker hasn't been registered")
            return result
        }
        let oldMaster = record.masterBrokerId
        var newMaster: Int64?
        if record.isFirstTimeForElect { newMaster = request.brokerId }
        if newMaster == nil || newMaster == -1 {
            newMaster = elect(syncStateBrokers: record.syncStateSet,
                              allReplicaBrokers: enableElectUncleanMaster ? record.allBrokerIds : nil,
                              oldMaster: oldMaster, preferBrokerId: request.designateElect ? request.brokerId : nil,
                              liveness: liveness)
        }
        if let newMaster, newMaster == oldMaster {
            result.header = ElectMasterResponseHeader(masterBrokerId: oldMaster, masterAddress: record.address(of: oldMaster),
                                                      masterEpoch: record.masterEpoch, syncStateSetEpoch: record.syncStateSetEpoch)
            result.body = ElectMasterResponseBody(syncStateSet: record.syncStateSet).encode()
            result.code = .controllerMasterStillExist
            result.remark = "The old master \(newMaster) is still alive, not need to elect new master for broker \(record.brokerName)"
            return result
        }
        if let newMaster {
            record.updateMasterInfo(newMaster)
            record.updateSyncStateSet([newMaster])
            result.header = ElectMasterResponseHeader(masterBrokerId: newMaster, masterAddress: record.address(of: newMaster),
                                                      masterEpoch: record.masterEpoch, syncStateSetEpoch: record.syncStateSetEpoch)
            let members = Dictionary(uniqueKeysWithValues: record.brokers.map { ($0.brokerId, $0.brokerAddress) })
            result.body = ElectMasterResponseBody(
                brokerMemberGroup: BrokerMemberGroup(cluster: record.clusterName, brokerName: record.brokerName, brokerAddrs: members),
                syncStateSet: [newMaster]).encode()
            result.newRecord = record
            return result
        }
        if request.brokerId == -1 {
            // The controller's trigger: the old master is gone and nobody can follow it; record that.
            record.updateMasterInfo(nil)
            result.code = .controllerMasterNotAvailable
            result.remark = "Old master has down and failed to elect a new broker master"
            result.newRecord = oldMaster == nil ? nil : record
        } else {
            result.fail(.controllerElectMasterFailed, "Failed to elect a new master")
        }
        return result
    }

    /// Java DefaultElectPolicy: the SyncStateSet first, then (unclean) every replica; only live brokers;
    /// the old master if still fine and not overridden; the preferred id or nothing; else the best
    /// (epoch, offset, priority).
    static func elect(syncStateBrokers: Set<Int64>, allReplicaBrokers: Set<Int64>?, oldMaster: Int64?,
                      preferBrokerId: Int64?, liveness: BrokerLiveness) -> Int64? {
        func tryElect(_ brokers: Set<Int64>) -> Int64? {
            let alive = brokers.filter { liveness.isAlive($0) }
            guard !alive.isEmpty else { return nil }
            if let oldMaster, alive.contains(oldMaster), preferBrokerId == nil || preferBrokerId == oldMaster { return oldMaster }
            if let preferBrokerId { return alive.contains(preferBrokerId) ? preferBrokerId : nil }
            return alive.compactMap { liveness.live[$0] }.sorted(by: BrokerLiveInfo.electionOrder).first?.brokerId
        }
        if let m = tryElect(syncStateBrokers) { return m }
        if let all = allReplicaBrokers { return tryElect(all) }
        return nil
    }

    /// Java's scanNeedReelectBrokerSets: the master is dead and some replica is alive.
    public static func needsReelection(_ record: BrokerReplicaRecord, liveness: BrokerLiveness) -> Bool {
        guard let master = record.masterBrokerId, !liveness.isAlive(master) else { return false }
        return record.brokers.contains { liveness.isAlive($0.brokerId) }
    }
}
