// MQAdmin's controller operations (RocketMQ 5's MQAdminExt: getControllerMetaData, getControllerConfig,
// electMaster, getInSyncStateData, getBrokerEpochCache) and the broker-name look-ups of CommandUtil they
// need. Requests go straight to the controller named by the caller: every Apus controller answers from
// the shared etcd state, so there is no need to find the leader first (Java asks the leader).

import Common
import NIOCore
import Remoting

extension MQAdmin {
    /// CONTROLLER_GET_METADATA_INFO (1005).
    public func getControllerMetaData(controllerAddr: String) async throws -> GetMetaDataResponseHeader {
        try await invoke(controllerAddr, .request(.controllerGetMetadataInfo)).decodeHeader(GetMetaDataResponseHeader.self)
    }

    /// GET_CONTROLLER_CONFIG (1010) to each controller: its settings as `key=value` pairs, in its order.
    public func getControllerConfig(controllerAddrs: [String]) async throws -> [(addr: String, config: [(key: String, value: String)])] {
        var out: [(String, [(String, String)])] = []
        for addr in controllerAddrs {
            let r = try await invoke(addr, .request(.getControllerConfig))
            let pairs = String(decoding: r.bodyBytes, as: UTF8.self).split(separator: "\n").compactMap { line -> (String, String)? in
                guard !line.hasPrefix("#"), let eq = line.firstIndex(of: "=") else { return nil }
                return (String(line[..<eq]), String(line[line.index(after: eq)...]))
            }
            out.append((addr, pairs))
        }
        return out
    }

    /// CONTROLLER_ELECT_MASTER (1002) as an admin trigger: `brokerId` becomes master if it may.
    public func electMaster(controllerAddr: String, clusterName: String, brokerName: String,
                            brokerId: Int64) async throws -> (ElectMasterResponseHeader, BrokerMemberGroup?) {
        let header = ElectMasterRequestHeader(clusterName: clusterName, brokerName: brokerName, brokerId: brokerId,
                                              designateElect: true, invokeTime: WallClock.nowMs())
        let r = try await invoke(controllerAddr, .request(.controllerElectMaster, header: header))
        let group = try r.body.map { b throws(RemotingError) in try ElectMasterResponseBody.decode(b).brokerMemberGroup } ?? nil
        return (try r.decodeHeader(ElectMasterResponseHeader.self), group)
    }

    /// CONTROLLER_GET_SYNC_STATE_DATA (1006) for the broker names given (a JSON list in the body).
    public func getInSyncStateData(controllerAddr: String, brokerNames: [String]) async throws -> BrokerReplicasInfo {
        var w = JSONWriter(style: .fastjson)
        w.beginArray()
        for n in brokerNames { w.value(n) }
        w.endArray()
        let r = try await invoke(controllerAddr, .request(.controllerGetSyncStateData, body: w.buffer))
        guard r.body != nil else { return BrokerReplicasInfo(replicasInfoTable: []) }
        return try Self.body(BrokerReplicasInfo.self, r)
    }

    /// GET_BROKER_EPOCH_CACHE (1007) to one broker.
    public func getBrokerEpochCache(brokerAddr: String) async throws -> EpochEntryCache {
        try Self.body(EpochEntryCache.self, try await invoke(brokerAddr, .request(.getBrokerEpochCache)))
    }

    /// CommandUtil.fetchBrokerNameByClusterName: the cluster's broker names, sorted.
    public func brokerNames(ofCluster cluster: String) async throws -> [String] {
        let info = try await examineBrokerClusterInfo()
        guard let names = info.clusterAddrTable[cluster] else { throw Self.unknownCluster }
        return names.sorted()
    }

    /// CommandUtil.fetchMasterAndSlaveAddrByBrokerName: every address of one broker name, by id.
    public func addrs(ofBrokerName brokerName: String) async throws -> [String] {
        let info = try await examineBrokerClusterInfo()
        guard let data = info.brokerAddrTable[brokerName] else {
            throw MQAdminError.notFound("[error] Make sure the specified broker name exists or the name server connected to is correct.")
        }
        return data.brokerAddrs.sorted { $0.key < $1.key }.map(\.value)
    }
}
