// BrokerReplicaRecord: what the controllers know of one broker set (one brokerName), as one etcd value —
// RocketMQ's BrokerReplicaInfo (ids, addresses, register check codes) and SyncStateInfo (master, master
// epoch, SyncStateSet and its epoch) together, so every decision about the set is one compare-and-swap on
// one key. Stored at `<prefix>brokers/<brokerName>` as JSON:
//
//   {"brokerName":"broker-a","brokers":[{"brokerAddress":"127.0.0.1:10911","brokerId":1,
//    "registerCheckCode":"127.0.0.1:10911;1733250000000"}],"clusterName":"DefaultCluster",
//    "masterBrokerId":1,"masterEpoch":1,"syncStateSet":[1],"syncStateSetEpoch":1}
//
// `masterBrokerId` absent = no master. Plain value; read and written by EtcdReplicaStore.

import Remoting

public struct BrokerReplicaRecord: Sendable, Equatable, RemotingJSONBody {
    public struct Member: Sendable, Equatable {
        public var brokerId: Int64
        public var brokerAddress: String
        public var registerCheckCode: String
    }

    public var clusterName: String
    public var brokerName: String
    /// By id, ascending.
    public var brokers: [Member]
    public var masterBrokerId: Int64?
    public var masterEpoch: Int32
    public var syncStateSet: Set<Int64>
    public var syncStateSetEpoch: Int32

    public init(clusterName: String, brokerName: String) {
        self.clusterName = clusterName
        self.brokerName = brokerName
        brokers = []
        masterBrokerId = nil
        masterEpoch = 0
        syncStateSet = []
        syncStateSetEpoch = 0
    }

    /// Java's `SyncStateInfo.isFirstTimeForElect`: no master was ever elected.
    public var isFirstTimeForElect: Bool { masterEpoch == 0 }

    public var allBrokerIds: Set<Int64> { Set(brokers.map(\.brokerId)) }

    public func address(of id: Int64?) -> String? {
        guard let id else { return nil }
        return brokers.first { $0.brokerId == id }?.brokerAddress
    }

    public func member(_ id: Int64) -> Member? { brokers.first { $0.brokerId == id } }

    /// The id GET_NEXT_BROKER_ID offers: one past the highest assigned.
    public var nextAssignBrokerId: Int64 { (brokers.map(\.brokerId).max() ?? 0) + 1 }

    public mutating func addBroker(_ id: Int64, address: String, registerCheckCode: String) {
        brokers.removeAll { $0.brokerId == id }
        brokers.append(Member(brokerId: id, brokerAddress: address, registerCheckCode: registerCheckCode))
        brokers.sort { $0.brokerId < $1.brokerId }
    }

    public mutating func updateAddress(_ id: Int64, _ address: String) {
        if let i = brokers.firstIndex(where: { $0.brokerId == id }) { brokers[i].brokerAddress = address }
    }

    /// Java's `SyncStateInfo.updateMasterInfo`: a new master (or none) and the next master epoch.
    public mutating func updateMasterInfo(_ id: Int64?) {
        masterBrokerId = id
        masterEpoch += 1
    }

    /// Java's `SyncStateInfo.updateSyncStateSetInfo`: a new set and the next set epoch.
    public mutating func updateSyncStateSet(_ set: Set<Int64>) {
        syncStateSet = set
        syncStateSetEpoch += 1
    }

    public init(json: JSONValue) throws(RemotingError) {
        guard let o = json.objectValue else { throw .malformedBody("BrokerReplicaRecord is not an object") }
        clusterName = o["clusterName"]?.stringValue ?? ""
        brokerName = o["brokerName"]?.stringValue ?? ""
        brokers = (o["brokers"]?.arrayValue ?? []).compactMap { v in
            guard let m = v.objectValue, let id = m["brokerId"]?.int64Value else { return nil }
            return Member(brokerId: id, brokerAddress: m["brokerAddress"]?.stringValue ?? "",
                          registerCheckCode: m["registerCheckCode"]?.stringValue ?? "")
        }.sorted { $0.brokerId < $1.brokerId }
        masterBrokerId = o["masterBrokerId"]?.int64Value
        masterEpoch = o["masterEpoch"]?.int32Value ?? 0
        syncStateSet = Set((o["syncStateSet"]?.arrayValue ?? []).compactMap(\.int64Value))
        syncStateSetEpoch = o["syncStateSetEpoch"]?.int32Value ?? 0
    }

    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.field("brokerName", brokerName)
        w.key("brokers")
        w.beginArray()
        for m in brokers {
            w.beginObject()
            w.field("brokerAddress", m.brokerAddress)
            w.field("brokerId", m.brokerId)
            w.field("registerCheckCode", m.registerCheckCode)
            w.endObject()
        }
        w.endArray()
        w.field("clusterName", clusterName)
        w.field("masterBrokerId", masterBrokerId)
        w.field("masterEpoch", masterEpoch)
        w.key("syncStateSet")
        w.beginArray()
        for id in syncStateSet.sorted() { w.value(id) }
        w.endArray()
        w.field("syncStateSetEpoch", syncStateSetEpoch)
        w.endObject()
    }
}
