// ReplicasManager: the broker's side of controller mode (RocketMQ 5's broker/controller/ReplicasManager,
// broker.md §12.4) — obtains a broker id from the controller once (GET_NEXT_BROKER_ID + APPLY_BROKER_ID,
// kept in `<storePathRootDir>/config/controllerBrokerId`), registers (REGISTER_BROKER), asks to be elected
// when the set has no master (ELECT_MASTER, broker trigger), heartbeats (BROKER_HEARTBEAT with its CommitLog
// end and epoch) and reads who is master (GET_REPLICA_INFO, with the SyncStateSet); a master reports its
// SyncStateSet changes (ALTER_SYNC_STATE_SET); a replica reads its master's epochs (GET_BROKER_EPOCH_CACHE,
// from the master broker itself). It only talks; what a role change does to the broker is BrokerController's
// (BrokerController+ControllerMode.swift). Any task; one RemotingClient.

import Foundation
import Logging
import NIOCore
import Remoting

struct ControllerMasterInfo: Sendable, Equatable {
    var brokerId: Int64
    var address: String
    var epoch: Int32
    /// The controller's SyncStateSet when the answer carried one.
    var syncStateSet: SyncStateSet?
}

final class ReplicasManager: Sendable {
    let controllers: [String]
    let clusterName: String
    let brokerName: String
    let brokerAddr: String
    let heartbeatTimeoutMs: Int64
    let electionPriority: Int32
    private let idFile: String
    private let client: RemotingClient
    private let logger: Logger
    private static let timeoutMs: Int64 = 3000

    init(config: BrokerConfig, brokerAddr: String, storePathRootDir: String, group: any EventLoopGroup, logger: Logger) {
        controllers = config.controllerAddr.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        clusterName = config.brokerClusterName
        brokerName = config.brokerName
        self.brokerAddr = brokerAddr
        heartbeatTimeoutMs = config.controllerHeartBeatTimeoutMills
        electionPriority = config.brokerElectionPriority
        idFile = storePathRootDir + "/config/controllerBrokerId"
        client = RemotingClient(group: group, logger: logger)
        self.logger = logger
    }

    func shutdown() async { await client.shutdown() }

    /// The first controller that answers (every Apus controller answers from the shared state).
    private func call(_ code: RequestCode, _ header: any CommandCustomHeader, body: ByteBuffer? = nil) async throws -> RemotingCommand {
        var last: any Error = BrokerError.badConfig("controllerAddr is empty")
        for addr in controllers {
            do { return try await client.invokeSync(addr, .request(code, header: header, body: body), timeoutMs: Self.timeoutMs) } catch { last = error }
        }
        throw last
    }

    /// This broker's controller id: the one kept from an earlier start, else a new one applied for.
    func obtainBrokerId() async throws -> Int64 {
        if let text = try? String(contentsOfFile: idFile, encoding: .utf8), let id = Int64(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            return id
        }
        for _ in 0..<5 {
            let next = try await call(.controllerGetNextBrokerId, GetNextBrokerIdRequestHeader(clusterName: clusterName, brokerName: brokerName))
            guard next.responseCode == .success, let id = try next.decodeHeader(GetNextBrokerIdResponseHeader.self).nextBrokerId else {
                throw BrokerError.badConfig("controller refused GET_NEXT_BROKER_ID: \(next.code) \(next.remark ?? "")")
            }
            let applied = try await call(.controllerApplyBrokerId, ApplyBrokerIdRequestHeader(
                clusterName: clusterName, brokerName: brokerName, appliedBrokerId: id,
                registerCheckCode: "\(brokerAddr);\(Int64(Date().timeIntervalSince1970 * 1000))"))
            if applied.responseCode == .success {
                try FileManager.default.createDirectory(atPath: (idFile as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true)
                try String(id).write(toFile: idFile, atomically: true, encoding: .utf8)
                logger.info("controller assigned broker id \(id)", metadata: ["brokerName": "\(brokerName)"])
                return id
            }
            // Another broker took that id meanwhile: ask again.
            logger.info("broker id \(id) was taken; asking again: \(applied.remark ?? "")")
        }
        throw BrokerError.badConfig("could not obtain a broker id from controllers \(controllers)")
    }

    /// REGISTER_BROKER; the live master, if any.
    func register(brokerId: Int64) async throws -> ControllerMasterInfo? {
        let r = try await call(.controllerRegisterBroker, RegisterBrokerToControllerRequestHeader(
            clusterName: clusterName, brokerName: brokerName, brokerId: brokerId, brokerAddress: brokerAddr))
        guard r.responseCode == .success else {
            throw BrokerError.badConfig("controller refused REGISTER_BROKER for id \(brokerId): \(r.code) \(r.remark ?? "")")
        }
        let h = try r.decodeHeader(RegisterBrokerToControllerResponseHeader.self)
        guard let id = h.masterBrokerId, let addr = h.masterAddress else { return nil }
        return ControllerMasterInfo(brokerId: id, address: addr, epoch: h.masterEpoch ?? 0,
                                    syncStateSet: try r.body.map { b throws(RemotingError) in try SyncStateSet.decode(b) })
    }

    /// ELECT_MASTER as the broker's own trigger (the first election of a set elects the asking broker); the
    /// master afterwards, if any.
    func electSelf(brokerId: Int64) async throws -> ControllerMasterInfo? {
        let r = try await call(.controllerElectMaster, ElectMasterRequestHeader(
            clusterName: clusterName, brokerName: brokerName, brokerId: brokerId))
        guard r.responseCode == .success || r.responseCode == .controllerMasterStillExist else {
            logger.info("no master elected yet: \(r.code) \(r.remark ?? "")", metadata: ["brokerName": "\(brokerName)"])
            return nil
        }
        let h = try r.decodeHeader(ElectMasterResponseHeader.self)
        guard let id = h.masterBrokerId else { return nil }
        // A broker's own election leaves it alone in the SyncStateSet.
        return ControllerMasterInfo(brokerId: id, address: h.masterAddress ?? "", epoch: h.masterEpoch ?? 0,
                                    syncStateSet: r.responseCode == .success ? SyncStateSet(syncStateSet: [id], syncStateSetEpoch: h.syncStateSetEpoch ?? 0) : nil)
    }

    /// GET_REPLICA_INFO: the master the controllers have now (nil: none).
    func master() async throws -> ControllerMasterInfo? {
        let r = try await call(.controllerGetReplicaInfo, GetReplicaInfoRequestHeader(brokerName: brokerName))
        guard r.responseCode == .success else { return nil }
        let h = try r.decodeHeader(GetReplicaInfoResponseHeader.self)
        guard let id = h.masterBrokerId else { return nil }
        return ControllerMasterInfo(brokerId: id, address: h.masterAddress ?? "", epoch: h.masterEpoch ?? 0,
                                    syncStateSet: try r.body.map { b throws(RemotingError) in try SyncStateSet.decode(b) })
    }

    func heartbeat(brokerId: Int64, epoch: Int32, maxOffset: Int64, confirmOffset: Int64) async throws {
        _ = try await call(.brokerHeartbeat, BrokerHeartbeatRequestHeader(
            clusterName: clusterName, brokerAddr: brokerAddr, brokerName: brokerName, brokerId: brokerId, epoch: epoch,
            maxOffset: maxOffset, confirmOffset: confirmOffset, heartbeatTimeoutMills: heartbeatTimeoutMs,
            electionPriority: electionPriority))
    }

    /// ALTER_SYNC_STATE_SET from the master: the new set's epoch, or nil when the controller refused (a stale
    /// master or set epoch: the master learns the current state at its next GET_REPLICA_INFO).
    func alterSyncStateSet(masterId: Int64, masterEpoch: Int32, newSet: Set<Int64>, syncStateSetEpoch: Int32) async throws -> Int32? {
        let r = try await call(.controllerAlterSyncStateSet,
                               AlterSyncStateSetRequestHeader(brokerName: brokerName, masterBrokerId: masterId, masterEpoch: masterEpoch),
                               body: SyncStateSet(syncStateSet: newSet, syncStateSetEpoch: syncStateSetEpoch).encode())
        guard r.responseCode == .success else {
            logger.info("controller refused SyncStateSet \(newSet.sorted()): \(r.code) \(r.remark ?? "")")
            return nil
        }
        return try r.decodeHeader(AlterSyncStateSetResponseHeader.self).newSyncStateSetEpoch
    }

    /// GET_BROKER_EPOCH_CACHE from a broker (the master): its epochs and CommitLog end.
    func epochCache(ofBroker address: String) async throws -> EpochEntryCache {
        let r = try await client.invokeSync(address, .request(.getBrokerEpochCache), timeoutMs: Self.timeoutMs)
        guard r.responseCode == .success, let body = r.body else {
            throw BrokerError.badConfig("GET_BROKER_EPOCH_CACHE refused by \(address): \(r.code) \(r.remark ?? "")")
        }
        return try EpochEntryCache.decode(body)
    }

    /// Registers and, when the set has no master, asks to be elected: the master to start under.
    func startUp() async throws -> (brokerId: Int64, master: ControllerMasterInfo?) {
        let id = try await obtainBrokerId()
        // Alive before anything is decided about this broker (its CommitLog end follows with the next beats).
        try await heartbeat(brokerId: id, epoch: 0, maxOffset: 0, confirmOffset: 0)
        if let master = try await register(brokerId: id) { return (id, master) }
        return (id, try await electSelf(brokerId: id))
    }
}
