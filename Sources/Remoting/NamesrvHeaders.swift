// Typed request/response headers of the NameServer requests (spec remoting.md §8). Decoded by the
// NameServer's processors, encoded by brokers, clients and admin tools; plain values, any task.

public struct RegisterBrokerRequestHeader: CommandCustomHeader, Equatable {
    public var brokerName: String
    public var brokerAddr: String
    public var clusterName: String
    public var haServerAddr: String
    public var brokerId: Int64
    public var heartbeatTimeoutMillis: Int64?
    public var enableActingMaster: Bool?
    public var compressed: Bool
    public var bodyCrc32: Int32
    /// Extra key `__ZONE_NAME`.
    public var zoneName: String?

    public init(
        brokerName: String, brokerAddr: String, clusterName: String, haServerAddr: String, brokerId: Int64,
        heartbeatTimeoutMillis: Int64? = nil, enableActingMaster: Bool? = false, compressed: Bool = false,
        bodyCrc32: Int32 = 0, zoneName: String? = nil
    ) {
        self.brokerName = brokerName
        self.brokerAddr = brokerAddr
        self.clusterName = clusterName
        self.haServerAddr = haServerAddr
        self.brokerId = brokerId
        self.heartbeatTimeoutMillis = heartbeatTimeoutMillis
        self.enableActingMaster = enableActingMaster
        self.compressed = compressed
        self.bodyCrc32 = bodyCrc32
        self.zoneName = zoneName
    }

    public init(extFields: [String: String]) throws(RemotingError) {
        let r = ExtFieldReader(extFields)
        brokerName = try r.required("brokerName")
        brokerAddr = try r.required("brokerAddr")
        clusterName = try r.required("clusterName")
        haServerAddr = try r.required("haServerAddr")
        brokerId = try r.requiredInt64("brokerId")
        heartbeatTimeoutMillis = r.optionalInt64("heartbeatTimeoutMillis")
        enableActingMaster = r.bool("enableActingMaster")
        compressed = r.bool("compressed") ?? false
        bodyCrc32 = r.optionalInt32("bodyCrc32") ?? 0
        zoneName = r.optional("__ZONE_NAME")
    }

    public func toExtFields() -> [String: String] {
        var f: [String: String] = [
            "brokerName": brokerName, "brokerAddr": brokerAddr, "clusterName": clusterName,
            "haServerAddr": haServerAddr, "brokerId": String(brokerId), "compressed": String(compressed),
            "bodyCrc32": String(bodyCrc32),
        ]
        f["heartbeatTimeoutMillis"] = heartbeatTimeoutMillis.map { String($0) }
        f["enableActingMaster"] = enableActingMaster.map { String($0) }
        f["__ZONE_NAME"] = zoneName
        return f
    }
}

public struct RegisterBrokerResponseHeader: CommandCustomHeader, Equatable {
    public var haServerAddr: String?
    public var masterAddr: String?
    public init(haServerAddr: String? = nil, masterAddr: String? = nil) {
        self.haServerAddr = haServerAddr
        self.masterAddr = masterAddr
    }
    public init(extFields: [String: String]) {
        haServerAddr = extFields["haServerAddr"]
        masterAddr = extFields["masterAddr"]
    }
    public func toExtFields() -> [String: String] {
        var f: [String: String] = [:]
        f["haServerAddr"] = haServerAddr
        f["masterAddr"] = masterAddr
        return f
    }
}

/// Header of UNREGISTER_BROKER (104) and QUERY_DATA_VERSION (322): the broker's identity.
public struct BrokerIdentityHeader: CommandCustomHeader, Equatable {
    public var brokerName: String
    public var brokerAddr: String
    public var clusterName: String
    public var brokerId: Int64
    public init(brokerName: String, brokerAddr: String, clusterName: String, brokerId: Int64) {
        self.brokerName = brokerName
        self.brokerAddr = brokerAddr
        self.clusterName = clusterName
        self.brokerId = brokerId
    }
    public init(extFields: [String: String]) throws(RemotingError) {
        let r = ExtFieldReader(extFields)
        brokerName = try r.required("brokerName")
        brokerAddr = try r.required("brokerAddr")
        clusterName = try r.required("clusterName")
        brokerId = try r.requiredInt64("brokerId")
    }
    public func toExtFields() -> [String: String] {
        ["brokerName": brokerName, "brokerAddr": brokerAddr, "clusterName": clusterName, "brokerId": String(brokerId)]
    }
}
public typealias UnRegisterBrokerRequestHeader = BrokerIdentityHeader
public typealias QueryDataVersionRequestHeader = BrokerIdentityHeader

public struct QueryDataVersionResponseHeader: CommandCustomHeader, Equatable {
    public var changed: Bool
    public init(changed: Bool) { self.changed = changed }
    public init(extFields: [String: String]) throws(RemotingError) {
        guard let c = ExtFieldReader(extFields).bool("changed") else { throw .missingHeaderField("changed") }
        changed = c
    }
    public func toExtFields() -> [String: String] { ["changed": String(changed)] }
}

public struct BrokerHeartbeatRequestHeader: CommandCustomHeader, Equatable {
    public var clusterName: String
    public var brokerAddr: String
    public var brokerName: String
    public init(clusterName: String, brokerAddr: String, brokerName: String) {
        self.clusterName = clusterName
        self.brokerAddr = brokerAddr
        self.brokerName = brokerName
    }
    public init(extFields: [String: String]) throws(RemotingError) {
        let r = ExtFieldReader(extFields)
        clusterName = try r.required("clusterName")
        brokerAddr = try r.required("brokerAddr")
        brokerName = try r.required("brokerName")
    }
    public func toExtFields() -> [String: String] {
        ["clusterName": clusterName, "brokerAddr": brokerAddr, "brokerName": brokerName]
    }
}

public struct GetRouteInfoRequestHeader: CommandCustomHeader, Equatable {
    public var topic: String
    public var acceptStandardJsonOnly: Bool?
    public init(topic: String, acceptStandardJsonOnly: Bool? = nil) {
        self.topic = topic
        self.acceptStandardJsonOnly = acceptStandardJsonOnly
    }
    public init(extFields: [String: String]) throws(RemotingError) {
        let r = ExtFieldReader(extFields)
        topic = try r.required("topic")
        acceptStandardJsonOnly = r.bool("acceptStandardJsonOnly")
    }
    public func toExtFields() -> [String: String] {
        var f = ["topic": topic]
        f["acceptStandardJsonOnly"] = acceptStandardJsonOnly.map { String($0) }
        return f
    }
}

public struct DeleteTopicFromNamesrvRequestHeader: CommandCustomHeader, Equatable {
    public var topic: String
    public var clusterName: String?
    public init(topic: String, clusterName: String? = nil) {
        self.topic = topic
        self.clusterName = clusterName
    }
    public init(extFields: [String: String]) throws(RemotingError) {
        topic = try ExtFieldReader(extFields).required("topic")
        clusterName = extFields["clusterName"]
    }
    public func toExtFields() -> [String: String] {
        var f = ["topic": topic]
        f["clusterName"] = clusterName
        return f
    }
}

public struct GetTopicsByClusterRequestHeader: CommandCustomHeader, Equatable {
    public var cluster: String
    public init(cluster: String) { self.cluster = cluster }
    public init(extFields: [String: String]) throws(RemotingError) {
        cluster = try ExtFieldReader(extFields).required("cluster")
    }
    public func toExtFields() -> [String: String] { ["cluster": cluster] }
}

public struct PutKVConfigRequestHeader: CommandCustomHeader, Equatable {
    public var namespace: String
    public var key: String
    public var value: String
    public init(namespace: String, key: String, value: String) {
        self.namespace = namespace
        self.key = key
        self.value = value
    }
    public init(extFields: [String: String]) throws(RemotingError) {
        let r = ExtFieldReader(extFields)
        namespace = try r.required("namespace")
        key = try r.required("key")
        value = try r.required("value")
    }
    public func toExtFields() -> [String: String] { ["namespace": namespace, "key": key, "value": value] }
}

/// Header of GET_KV_CONFIG (101) and DELETE_KV_CONFIG (102).
public struct KVConfigKeyRequestHeader: CommandCustomHeader, Equatable {
    public var namespace: String
    public var key: String
    public init(namespace: String, key: String) {
        self.namespace = namespace
        self.key = key
    }
    public init(extFields: [String: String]) throws(RemotingError) {
        let r = ExtFieldReader(extFields)
        namespace = try r.required("namespace")
        key = try r.required("key")
    }
    public func toExtFields() -> [String: String] { ["namespace": namespace, "key": key] }
}
public typealias GetKVConfigRequestHeader = KVConfigKeyRequestHeader
public typealias DeleteKVConfigRequestHeader = KVConfigKeyRequestHeader

public struct GetKVConfigResponseHeader: CommandCustomHeader, Equatable {
    public var value: String?
    public init(value: String?) { self.value = value }
    public init(extFields: [String: String]) { value = extFields["value"] }
    public func toExtFields() -> [String: String] {
        var f: [String: String] = [:]
        f["value"] = value
        return f
    }
}

public struct GetKVListByNamespaceRequestHeader: CommandCustomHeader, Equatable {
    public var namespace: String
    public init(namespace: String) { self.namespace = namespace }
    public init(extFields: [String: String]) throws(RemotingError) {
        namespace = try ExtFieldReader(extFields).required("namespace")
    }
    public func toExtFields() -> [String: String] { ["namespace": namespace] }
}

/// Header of WIPE_WRITE_PERM_OF_BROKER (205) and ADD_WRITE_PERM_OF_BROKER (327).
public struct BrokerNameRequestHeader: CommandCustomHeader, Equatable {
    public var brokerName: String
    public init(brokerName: String) { self.brokerName = brokerName }
    public init(extFields: [String: String]) throws(RemotingError) {
        brokerName = try ExtFieldReader(extFields).required("brokerName")
    }
    public func toExtFields() -> [String: String] { ["brokerName": brokerName] }
}
public typealias WipeWritePermOfBrokerRequestHeader = BrokerNameRequestHeader
public typealias AddWritePermOfBrokerRequestHeader = BrokerNameRequestHeader

public struct WipeWritePermOfBrokerResponseHeader: CommandCustomHeader, Equatable {
    public var wipeTopicCount: Int32
    public init(wipeTopicCount: Int32) { self.wipeTopicCount = wipeTopicCount }
    public init(extFields: [String: String]) throws(RemotingError) {
        wipeTopicCount = try ExtFieldReader(extFields).requiredInt32("wipeTopicCount")
    }
    public func toExtFields() -> [String: String] { ["wipeTopicCount": String(wipeTopicCount)] }
}

public struct AddWritePermOfBrokerResponseHeader: CommandCustomHeader, Equatable {
    public var addTopicCount: Int32
    public init(addTopicCount: Int32) { self.addTopicCount = addTopicCount }
    public init(extFields: [String: String]) throws(RemotingError) {
        addTopicCount = try ExtFieldReader(extFields).requiredInt32("addTopicCount")
    }
    public func toExtFields() -> [String: String] { ["addTopicCount": String(addTopicCount)] }
}
