// JSON bodies of the controller requests, RocketMQ 5's remoting/protocol/body names: SyncStateSet,
// BrokerMemberGroup, ElectMasterResponseBody, BrokerReplicasInfo (GET_SYNC_STATE_DATA) and EpochEntryCache
// (GET_BROKER_EPOCH_CACHE). Built by `mqcontroller` (and brokers), read by `mqadmin`; plain values.
// Java writes `Set<Long>` as an array and `Map<Long,String>` with bare numeric keys (fastjson).

/// `{"syncStateSet":[1,2],"syncStateSetEpoch":3}`.
public struct SyncStateSet: RemotingJSONBody, Equatable {
    public var syncStateSet: Set<Int64>
    public var syncStateSetEpoch: Int32
    public init(syncStateSet: Set<Int64>, syncStateSetEpoch: Int32) {
        self.syncStateSet = syncStateSet
        self.syncStateSetEpoch = syncStateSetEpoch
    }
    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("SyncStateSet")
        syncStateSet = Set((o["syncStateSet"]?.arrayValue ?? []).compactMap(\.int64Value))
        syncStateSetEpoch = o["syncStateSetEpoch"]?.int32Value ?? 0
    }
    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.key("syncStateSet")
        w.writeIds(syncStateSet)
        w.field("syncStateSetEpoch", syncStateSetEpoch)
        w.endObject()
    }
}

/// The replicas of one broker name: id → address.
public struct BrokerMemberGroup: RemotingJSONBody, Equatable {
    public var cluster: String
    public var brokerName: String
    public var brokerAddrs: [Int64: String]
    public init(cluster: String, brokerName: String, brokerAddrs: [Int64: String]) {
        self.cluster = cluster
        self.brokerName = brokerName
        self.brokerAddrs = brokerAddrs
    }
    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("BrokerMemberGroup")
        cluster = o["cluster"]?.stringValue ?? ""
        brokerName = o["brokerName"]?.stringValue ?? ""
        var addrs: [Int64: String] = [:]
        for (key, value) in o["brokerAddrs"]?.objectValue?.members ?? [] {
            if let id = key.text.flatMap({ Int64($0) }), let a = value.stringValue { addrs[id] = a }
        }
        brokerAddrs = addrs
    }
    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.key("brokerAddrs")
        w.beginObject()
        for id in brokerAddrs.keys.sorted() {
            w.numericKey(id)
            w.value(brokerAddrs[id] ?? "")
        }
        w.endObject()
        w.field("brokerName", brokerName)
        w.field("cluster", cluster)
        w.endObject()
    }
}

/// ELECT_MASTER's body: the new SyncStateSet and, when a master was elected, the group's members.
public struct ElectMasterResponseBody: RemotingJSONBody, Equatable {
    public var brokerMemberGroup: BrokerMemberGroup?
    public var syncStateSet: Set<Int64>
    public init(brokerMemberGroup: BrokerMemberGroup? = nil, syncStateSet: Set<Int64>) {
        self.brokerMemberGroup = brokerMemberGroup
        self.syncStateSet = syncStateSet
    }
    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("ElectMasterResponseBody")
        brokerMemberGroup = try o["brokerMemberGroup"].flatMap { v throws(RemotingError) in
            v == .null ? nil : try BrokerMemberGroup(json: v)
        }
        syncStateSet = Set((o["syncStateSet"]?.arrayValue ?? []).compactMap(\.int64Value))
    }
    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        if let brokerMemberGroup {
            w.key("brokerMemberGroup")
            brokerMemberGroup.writeJSON(to: &w)
        }
        w.key("syncStateSet")
        w.writeIds(syncStateSet)
        w.endObject()
    }
}

/// GET_SYNC_STATE_DATA's body: per broker name, master, epochs and the replicas in and out of sync.
public struct BrokerReplicasInfo: RemotingJSONBody, Equatable {
    public struct ReplicaIdentity: Sendable, Equatable, CustomStringConvertible {
        public var brokerName: String
        public var brokerId: Int64
        public var brokerAddress: String
        public var alive: Bool
        public init(brokerName: String, brokerId: Int64, brokerAddress: String, alive: Bool) {
            self.brokerName = brokerName
            self.brokerId = brokerId
            self.brokerAddress = brokerAddress
            self.alive = alive
        }
        /// Java's `ReplicaIdentity.toString`, which `mqadmin getSyncStateSet` prints.
        public var description: String {
            "ReplicaIdentity{brokerName='\(brokerName)', brokerId=\(brokerId), brokerAddress='\(brokerAddress)', alive=\(alive)}"
        }
    }
    public struct ReplicasInfo: Sendable, Equatable {
        public var masterBrokerId: Int64?
        public var masterAddress: String?
        public var masterEpoch: Int32
        public var syncStateSetEpoch: Int32
        public var inSyncReplicas: [ReplicaIdentity]
        public var notInSyncReplicas: [ReplicaIdentity]
        public init(masterBrokerId: Int64?, masterAddress: String?, masterEpoch: Int32, syncStateSetEpoch: Int32,
                    inSyncReplicas: [ReplicaIdentity], notInSyncReplicas: [ReplicaIdentity]) {
            self.masterBrokerId = masterBrokerId
            self.masterAddress = masterAddress
            self.masterEpoch = masterEpoch
            self.syncStateSetEpoch = syncStateSetEpoch
            self.inSyncReplicas = inSyncReplicas
            self.notInSyncReplicas = notInSyncReplicas
        }
    }

    /// In the order the names were asked for (Java: a HashMap).
    public var replicasInfoTable: [(brokerName: String, info: ReplicasInfo)]

    public init(replicasInfoTable: [(brokerName: String, info: ReplicasInfo)]) {
        self.replicasInfoTable = replicasInfoTable
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.replicasInfoTable.count == b.replicasInfoTable.count
            && zip(a.replicasInfoTable, b.replicasInfoTable).allSatisfy { $0.brokerName == $1.brokerName && $0.info == $1.info }
    }

    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("BrokerReplicasInfo")
        var table: [(String, ReplicasInfo)] = []
        for (key, value) in o["replicasInfoTable"]?.objectValue?.members ?? [] {
            guard let name = key.text, let r = value.objectValue else { continue }
            func replicas(_ field: String) -> [ReplicaIdentity] {
                (r[field]?.arrayValue ?? []).compactMap { v in
                    guard let i = v.objectValue else { return nil }
                    return ReplicaIdentity(brokerName: i["brokerName"]?.stringValue ?? "", brokerId: i["brokerId"]?.int64Value ?? 0,
                                           brokerAddress: i["brokerAddress"]?.stringValue ?? "", alive: i["alive"]?.boolValue ?? false)
                }
            }
            table.append((name, ReplicasInfo(
                masterBrokerId: r["masterBrokerId"]?.int64Value, masterAddress: r["masterAddress"]?.stringValue,
                masterEpoch: r["masterEpoch"]?.int32Value ?? 0, syncStateSetEpoch: r["syncStateSetEpoch"]?.int32Value ?? 0,
                inSyncReplicas: replicas("inSyncReplicas"), notInSyncReplicas: replicas("notInSyncReplicas"))))
        }
        replicasInfoTable = table
    }

    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.key("replicasInfoTable")
        w.beginObject()
        for (name, r) in replicasInfoTable {
            w.key(name)
            w.beginObject()
            w.writeReplicas("inSyncReplicas", r.inSyncReplicas)
            w.field("masterAddress", r.masterAddress)
            w.field("masterBrokerId", r.masterBrokerId)
            w.field("masterEpoch", r.masterEpoch)
            w.writeReplicas("notInSyncReplicas", r.notInSyncReplicas)
            w.field("syncStateSetEpoch", r.syncStateSetEpoch)
            w.endObject()
        }
        w.endObject()
        w.endObject()
    }
}

/// GET_BROKER_EPOCH_CACHE's body: a broker's epoch entries and its CommitLog end.
public struct EpochEntryCache: RemotingJSONBody, Equatable {
    public struct EpochEntry: Sendable, Equatable, CustomStringConvertible {
        public var epoch: Int32
        public var startOffset: Int64
        public var endOffset: Int64
        public init(epoch: Int32, startOffset: Int64, endOffset: Int64 = .max) {
            self.epoch = epoch
            self.startOffset = startOffset
            self.endOffset = endOffset
        }
        /// Java's `EpochEntry.toString`.
        public var description: String { "EpochEntry{epoch=\(epoch), startOffset=\(startOffset), endOffset=\(endOffset)}" }
    }
    public var clusterName: String
    public var brokerName: String
    public var brokerId: Int64
    public var epochList: [EpochEntry]
    public var maxOffset: Int64
    public init(clusterName: String, brokerName: String, brokerId: Int64, epochList: [EpochEntry], maxOffset: Int64) {
        self.clusterName = clusterName
        self.brokerName = brokerName
        self.brokerId = brokerId
        self.epochList = epochList
        self.maxOffset = maxOffset
    }
    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("EpochEntryCache")
        clusterName = o["clusterName"]?.stringValue ?? ""
        brokerName = o["brokerName"]?.stringValue ?? ""
        brokerId = o["brokerId"]?.int64Value ?? 0
        maxOffset = o["maxOffset"]?.int64Value ?? 0
        epochList = (o["epochList"]?.arrayValue ?? []).compactMap { v in
            guard let e = v.objectValue else { return nil }
            return EpochEntry(epoch: e["epoch"]?.int32Value ?? 0, startOffset: e["startOffset"]?.int64Value ?? 0,
                              endOffset: e["endOffset"]?.int64Value ?? .max)
        }
    }
    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.field("brokerId", brokerId)
        w.field("brokerName", brokerName)
        w.field("clusterName", clusterName)
        w.key("epochList")
        w.beginArray()
        for e in epochList {
            w.beginObject()
            w.field("endOffset", e.endOffset)
            w.field("epoch", e.epoch)
            w.field("startOffset", e.startOffset)
            w.endObject()
        }
        w.endArray()
        w.field("maxOffset", maxOffset)
        w.endObject()
    }
}

extension JSONWriter {
    /// A set of broker ids as a sorted array.
    mutating func writeIds(_ ids: Set<Int64>) {
        beginArray()
        for id in ids.sorted() { value(id) }
        endArray()
    }

    mutating func writeReplicas(_ field: String, _ list: [BrokerReplicasInfo.ReplicaIdentity]) {
        key(field)
        beginArray()
        for i in list {
            beginObject()
            self.field("alive", i.alive)
            self.field("brokerAddress", i.brokerAddress)
            self.field("brokerId", i.brokerId)
            self.field("brokerName", i.brokerName)
            endObject()
        }
        endArray()
    }
}
