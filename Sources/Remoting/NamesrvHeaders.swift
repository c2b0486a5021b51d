// Typed request/response headers of the NameServer requests (spec remoting.md §8). Decoded by the
// NameServer's processors, encoded by brokers, clients and admin tools; plain values, any task.

public struct RegisterBrokerRequestHeader: DescribedHeader, Equatable {
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

    public static let schema = HeaderSchema(
        Self(brokerName: "", brokerAddr: "", clusterName: "", haServerAddr: "", brokerId: 0), [
            .required("brokerName", \.brokerName), .required("brokerAddr", \.brokerAddr),
            .required("clusterName", \.clusterName), .required("haServerAddr", \.haServerAddr),
            .required("brokerId", \.brokerId), .optional("heartbeatTimeoutMillis", \.heartbeatTimeoutMillis),
            .optional("enableActingMaster", \.enableActingMaster), .defaulted("compressed", \.compressed, false),
            .defaulted("bodyCrc32", \.bodyCrc32, 0), .optional("__ZONE_NAME", \.zoneName),
        ])
}

public struct RegisterBrokerResponseHeader: DescribedHeader, Equatable {
    public var haServerAddr: String?
    public var masterAddr: String?
    public init(haServerAddr: String? = nil, masterAddr: String? = nil) {
        self.haServerAddr = haServerAddr
        self.masterAddr = masterAddr
    }
    public static let schema = HeaderSchema(Self(), [
        .optional("haServerAddr", \.haServerAddr), .optional("masterAddr", \.masterAddr),
    ])
}

/// Header of UNREGISTER_BROKER (104) and QUERY_DATA_VERSION (322): the broker's identity.
public struct BrokerIdentityHeader: DescribedHeader, Equatable {
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
    public static let schema = HeaderSchema(Self(brokerName: "", brokerAddr: "", clusterName: "", brokerId: 0), [
        .required("brokerName", \.brokerName), .required("brokerAddr", \.brokerAddr),
        .required("clusterName", \.clusterName), .required("brokerId", \.brokerId),
    ])
}
public typealias UnRegisterBrokerRequestHeader = BrokerIdentityHeader
public typealias QueryDataVersionRequestHeader = BrokerIdentityHeader

public struct QueryDataVersionResponseHeader: DescribedHeader, Equatable {
    public var changed: Bool
    public init(changed: Bool) { self.changed = changed }
    public static let schema = HeaderSchema(Self(changed: false), [.required("changed", \.changed)])
}

/// BROKER_HEARTBEAT (904): to a NameServer (the first three fields) or, in controller mode, to the
/// controller with the broker's id, epoch, offsets, timeout and election priority.
public struct BrokerHeartbeatRequestHeader: DescribedHeader, Equatable {
    public var clusterName: String
    public var brokerAddr: String
    public var brokerName: String
    public var brokerId: Int64?
    public var epoch: Int32?
    public var maxOffset: Int64?
    public var confirmOffset: Int64?
    public var heartbeatTimeoutMills: Int64?
    public var electionPriority: Int32?
    public init(clusterName: String, brokerAddr: String, brokerName: String, brokerId: Int64? = nil, epoch: Int32? = nil,
                maxOffset: Int64? = nil, confirmOffset: Int64? = nil, heartbeatTimeoutMills: Int64? = nil,
                electionPriority: Int32? = nil) {
        self.clusterName = clusterName
        self.brokerAddr = brokerAddr
        self.brokerName = brokerName
        self.brokerId = brokerId
        self.epoch = epoch
        self.maxOffset = maxOffset
        self.confirmOffset = confirmOffset
        self.heartbeatTimeoutMills = heartbeatTimeoutMills
        self.electionPriority = electionPriority
    }
    public static let schema = HeaderSchema(Self(clusterName: "", brokerAddr: "", brokerName: ""), [
        .required("clusterName", \.clusterName), .required("brokerAddr", \.brokerAddr),
        .required("brokerName", \.brokerName), .optional("brokerId", \.brokerId), .optional("epoch", \.epoch),
        .optional("maxOffset", \.maxOffset), .optional("confirmOffset", \.confirmOffset),
        .optional("heartbeatTimeoutMills", \.heartbeatTimeoutMills), .optional("electionPriority", \.electionPriority),
    ])
}

public struct GetRouteInfoRequestHeader: DescribedHeader, Equatable {
    public var topic: String
    public var acceptStandardJsonOnly: Bool?
    public init(topic: String, acceptStandardJsonOnly: Bool? = nil) {
        self.topic = topic
        self.acceptStandardJsonOnly = acceptStandardJsonOnly
    }
    public static let schema = HeaderSchema(Self(topic: ""), [
        .required("topic", \.topic), .optional("acceptStandardJsonOnly", \.acceptStandardJsonOnly),
    ])
}

public struct DeleteTopicFromNamesrvRequestHeader: DescribedHeader, Equatable {
    public var topic: String
    public var clusterName: String?
    public init(topic: String, clusterName: String? = nil) {
        self.topic = topic
        self.clusterName = clusterName
    }
    public static let schema = HeaderSchema(Self(topic: ""), [
        .required("topic", \.topic), .optional("clusterName", \.clusterName),
    ])
}

public struct GetTopicsByClusterRequestHeader: DescribedHeader, Equatable {
    public var cluster: String
    public init(cluster: String) { self.cluster = cluster }
    public static let schema = HeaderSchema(Self(cluster: ""), [.required("cluster", \.cluster)])
}

public struct PutKVConfigRequestHeader: DescribedHeader, Equatable {
    public var namespace: String
    public var key: String
    public var value: String
    public init(namespace: String, key: String, value: String) {
        self.namespace = namespace
        self.key = key
        self.value = value
    }
    public static let schema = HeaderSchema(Self(namespace: "", key: "", value: ""), [
        .required("namespace", \.namespace), .required("key", \.key), .required("value", \.value),
    ])
}

/// Header of GET_KV_CONFIG (101) and DELETE_KV_CONFIG (102).
public struct KVConfigKeyRequestHeader: DescribedHeader, Equatable {
    public var namespace: String
    public var key: String
    public init(namespace: String, key: String) {
        self.namespace = namespace
        self.key = key
    }
    public static let schema = HeaderSchema(Self(namespace: "", key: ""), [
        .required("namespace", \.namespace), .required("key", \.key),
    ])
}
public typealias GetKVConfigRequestHeader = KVConfigKeyRequestHeader
public typealias DeleteKVConfigRequestHeader = KVConfigKeyRequestHeader

public struct GetKVConfigResponseHeader: DescribedHeader, Equatable {
    public var value: String?
    public init(value: String?) { self.value = value }
    public static let schema = HeaderSchema(Self(value: nil), [.optional("value", \.value)])
}

public struct GetKVListByNamespaceRequestHeader: DescribedHeader, Equatable {
    public var namespace: String
    public init(namespace: String) { self.namespace = namespace }
    public static let schema = HeaderSchema(Self(namespace: ""), [.required("namespace", \.namespace)])
}

/// Header of WIPE_WRITE_PERM_OF_BROKER (205) and ADD_WRITE_PERM_OF_BROKER (327).
public struct BrokerNameRequestHeader: DescribedHeader, Equatable {
    public var brokerName: String
    public init(brokerName: String) { self.brokerName = brokerName }
    public static let schema = HeaderSchema(Self(brokerName: ""), [.required("brokerName", \.brokerName)])
}
public typealias WipeWritePermOfBrokerRequestHeader = BrokerNameRequestHeader
public typealias AddWritePermOfBrokerRequestHeader = BrokerNameRequestHeader

public struct WipeWritePermOfBrokerResponseHeader: DescribedHeader, Equatable {
    public var wipeTopicCount: Int32
    public init(wipeTopicCount: Int32) { self.wipeTopicCount = wipeTopicCount }
    public static let schema = HeaderSchema(Self(wipeTopicCount: 0), [.required("wipeTopicCount", \.wipeTopicCount)])
}

public struct AddWritePermOfBrokerResponseHeader: DescribedHeader, Equatable {
    public var addTopicCount: Int32
    public init(addTopicCount: Int32) { self.addTopicCount = addTopicCount }
    public static let schema = HeaderSchema(Self(addTopicCount: 0), [.required("addTopicCount", \.addTopicCount)])
}
