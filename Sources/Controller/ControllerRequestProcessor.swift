// ControllerRequestProcessor: serves the controller request codes (1001–1006, 1010, 1012, 1013) and
// BROKER_HEARTBEAT (904) as RocketMQ 5's ControllerRequestProcessor does; other codes get
// REQUEST_CODE_NOT_SUPPORTED. Every answer is computed from etcd's state at the time of the request
// (EtcdReplicaStore), so any controller of the group answers alike. Registered by ControllerManager on its
// executor; async, any task.

import Logging
import NIOCore
import Remoting

public struct ControllerRequestProcessor: RemotingRequestProcessor {
    let store: EtcdReplicaStore
    let membership: ControllerMembership
    let config: ControllerConfig
    let housekeeping: BrokerHousekeepingService
    let logger: Logger

    public func processRequest(_ request: RemotingCommand, channel: RemotingChannel) async throws -> RemotingCommand? {
        switch request.requestCode {
        case .controllerGetNextBrokerId:
            let h = try request.decodeHeader(GetNextBrokerIdRequestHeader.self)
            let (record, _) = try await store.record(h.brokerName)
            return respond(request, ReplicasInfoManager.getNextBrokerId(h, record: record))
        case .controllerApplyBrokerId:
            let h = try request.decodeHeader(ApplyBrokerIdRequestHeader.self)
            let result = try await store.decide(h.brokerName, needsLiveness: false) { record, _ in
                ReplicasInfoManager.applyBrokerId(h, record: record)
            }
            if result.code == .success {
                logger.info("broker id applied", metadata: ["brokerName": "\(h.brokerName)", "brokerId": "\(h.appliedBrokerId)",
                                                            "remote": "\(channel.remoteAddress)"])
            }
            return respond(request, result)
        case .controllerRegisterBroker:
            let h = try request.decodeHeader(RegisterBrokerToControllerRequestHeader.self)
            return respond(request, try await store.decide(h.brokerName) { record, liveness in
                ReplicasInfoManager.registerBroker(h, record: record, liveness: liveness)
            })
        case .brokerHeartbeat:
            let h = try request.decodeHeader(BrokerHeartbeatRequestHeader.self)
            guard let brokerId = h.brokerId else {
                return request.makeResponse(.controllerInvalidRequest, remark: "Heart beat with empty brokerId")
            }
            try await store.heartbeat(BrokerLiveInfo(
                clusterName: h.clusterName, brokerName: h.brokerName, brokerAddr: h.brokerAddr, brokerId: brokerId,
                heartbeatTimeoutMillis: h.heartbeatTimeoutMills ?? config.controllerHeartBeatTimeoutMills,
                epoch: h.epoch ?? 0, maxOffset: h.maxOffset ?? 0, confirmOffset: h.confirmOffset ?? 0,
                electionPriority: h.electionPriority ?? Int32.max))
            housekeeping.noteHeartbeat(channel, brokerName: h.brokerName, brokerId: brokerId)
            return request.makeResponse(.success, remark: "Heart beat success")
        case .controllerGetReplicaInfo:
            let h = try request.decodeHeader(GetReplicaInfoRequestHeader.self)
            let (record, _) = try await store.record(h.brokerName)
            return respond(request, ReplicasInfoManager.getReplicaInfo(h, record: record))
        case .controllerGetSyncStateData:
            return try await syncStateData(request)
        case .controllerElectMaster:
            let h = try request.decodeHeader(ElectMasterRequestHeader.self)
            let unclean = config.enableElectUncleanMaster
            let result = try await store.decide(h.brokerName) { record, liveness in
                ReplicasInfoManager.electMaster(h, record: record, liveness: liveness, enableElectUncleanMaster: unclean)
            }
            if result.code == .success, let header = result.header as? ElectMasterResponseHeader {
                logger.info("new master elected", metadata: [
                    "brokerName": "\(h.brokerName)", "masterBrokerId": "\(header.masterBrokerId ?? -1)",
                    "masterEpoch": "\(header.masterEpoch ?? 0)", "remote": "\(channel.remoteAddress)"])
            }
            return respond(request, result)
        case .controllerAlterSyncStateSet:
            return try await alterSyncStateSet(request)
        case .controllerGetMetadataInfo:
            return try await metadata(request)
        case .getControllerConfig:
            return request.makeResponse(.success, body: ByteBuffer(string: config.propertiesText))
        default:
            return request.makeResponse(.requestCodeNotSupported, remark: " request type \(request.code) not supported")
        }
    }

    private func respond(_ request: RemotingCommand, _ result: ControllerResult) -> RemotingCommand {
        request.makeResponse(result.code, remark: result.remark, header: result.header, body: result.body)
    }

    private func alterSyncStateSet(_ request: RemotingCommand) async throws -> RemotingCommand {
        let h = try request.decodeHeader(AlterSyncStateSetRequestHeader.self)
        guard let body = request.body else {
            return request.makeResponse(.controllerInvalidRequest, remark: "alter syncStateSet without a SyncStateSet body")
        }
        let proposed = try SyncStateSet.decode(body)
        return respond(request, try await store.decide(h.brokerName) { record, liveness in
            ReplicasInfoManager.alterSyncStateSet(h, proposed, record: record, liveness: liveness)
        })
    }

    /// GET_SYNC_STATE_DATA: the body is a JSON list of broker names; unknown names are left out.
    private func syncStateData(_ request: RemotingCommand) async throws -> RemotingCommand {
        guard let body = request.body else { return request.makeResponse(.success) }
        let names = (try JSONValue.parse(body).arrayValue ?? []).compactMap(\.stringValue)
        guard !names.isEmpty else { return request.makeResponse(.success) }
        var table: [(brokerName: String, info: BrokerReplicasInfo.ReplicasInfo)] = []
        for name in names {
            let (record, _) = try await store.record(name)
            guard let record else { continue }
            table.append((name, ReplicasInfoManager.replicasInfo(record, liveness: try await store.liveness(name))))
        }
        return request.makeResponse(.success, body: BrokerReplicasInfo(replicasInfoTable: table).encode())
    }

    /// GET_METADATA_INFO: the group, its leader and every running controller (`id:address;` each).
    private func metadata(_ request: RemotingCommand) async throws -> RemotingCommand {
        let leader = try await membership.leader()
        let peers = try await membership.peers().map { "\($0.id):\($0.address);" }.joined()
        return request.makeResponse(.success, header: GetMetaDataResponseHeader(
            group: config.controllerGroup, controllerLeaderId: leader?.id, controllerLeaderAddress: leader?.address,
            isLeader: leader?.id == membership.selfId, peers: peers))
    }
}
