// Typed headers of the controller requests (codes 1001–1013, remoting.md §6; RocketMQ 5's
// remoting/protocol/header/controller/*): decoded by the controller's processor, encoded by brokers and
// `mqadmin`. Plain values, any task. Java `Long`/`Integer` wrapper fields are optional here (nil = not sent).

/// CONTROLLER_ALTER_SYNC_STATE_SET (1001) request; the body is a `SyncStateSet`.
public struct AlterSyncStateSetRequestHeader: DescribedHeader, Equatable {
    public var brokerName: String
    public var masterBrokerId: Int64?
    public var masterEpoch: Int32?
    public var invokeTime: Int64
    public init(brokerName: String, masterBrokerId: Int64?, masterEpoch: Int32?, invokeTime: Int64 = 0) {
        self.brokerName = brokerName
        self.masterBrokerId = masterBrokerId
        self.masterEpoch = masterEpoch
        self.invokeTime = invokeTime
    }
    public static let schema = HeaderSchema(Self(brokerName: "", masterBrokerId: nil, masterEpoch: nil), [
        .required("brokerName", \.brokerName), .optional("masterBrokerId", \.masterBrokerId),
        .optional("masterEpoch", \.masterEpoch), .defaulted("invokeTime", \.invokeTime, 0),
    ])
}

public struct AlterSyncStateSetResponseHeader: DescribedHeader, Equatable {
    public var newSyncStateSetEpoch: Int32
    public init(newSyncStateSetEpoch: Int32) { self.newSyncStateSetEpoch = newSyncStateSetEpoch }
    public static let schema = HeaderSchema(Self(newSyncStateSetEpoch: 0), [
        .defaulted("newSyncStateSetEpoch", \.newSyncStateSetEpoch, 0),
    ])
}

/// CONTROLLER_ELECT_MASTER (1002). `brokerId` -1 with `designateElect` false is the controller's own
/// trigger; `mqadmin electMaster` sends the wanted id with `designateElect` true.
public struct ElectMasterRequestHeader: DescribedHeader, Equatable {
    public var clusterName: String
    public var brokerName: String
    public var brokerId: Int64
    public var designateElect: Bool
    public var invokeTime: Int64?
    public init(clusterName: String, brokerName: String, brokerId: Int64 = -1, designateElect: Bool = false,
                invokeTime: Int64? = nil) {
        self.clusterName = clusterName
        self.brokerName = brokerName
        self.brokerId = brokerId
        self.designateElect = designateElect
        self.invokeTime = invokeTime
    }
    public static let schema = HeaderSchema(Self(clusterName: "", brokerName: ""), [
        // Java initialises both names to "" and checks nothing; every sender fills them, and an election
        // without them has nothing to elect in, so they are required here.
        .required("clusterName", \.clusterName), .required("brokerName", \.brokerName),
        .defaulted("brokerId", \.brokerId, -1), .defaulted("designateElect", \.designateElect, false),
        .optional("invokeTime", \.invokeTime),
    ])
}

/// Answer of ELECT_MASTER (body `ElectMasterResponseBody`) and the master part of REGISTER_BROKER's answer.
public struct ElectMasterResponseHeader: DescribedHeader, Equatable {
    public var masterBrokerId: Int64?
    public var masterAddress: String?
    public var masterEpoch: Int32?
    public var syncStateSetEpoch: Int32?
    public init(masterBrokerId: Int64? = nil, masterAddress: String? = nil, masterEpoch: Int32? = nil,
                syncStateSetEpoch: Int32? = nil) {
        self.masterBrokerId = masterBrokerId
        self.masterAddress = masterAddress
        self.masterEpoch = masterEpoch
        self.syncStateSetEpoch = syncStateSetEpoch
    }
    public static let schema = HeaderSchema(Self(), [
        .optional("masterBrokerId", \.masterBrokerId), .optional("masterAddress", \.masterAddress),
        .optional("masterEpoch", \.masterEpoch), .optional("syncStateSetEpoch", \.syncStateSetEpoch),
    ])
}

/// CONTROLLER_GET_REPLICA_INFO (1004) request.
public struct GetReplicaInfoRequestHeader: DescribedHeader, Equatable {
    public var brokerName: String
    public init(brokerName: String) { self.brokerName = brokerName }
    public static let schema = HeaderSchema(Self(brokerName: ""), [.required("brokerName", \.brokerName)])
}

/// Answer of GET_REPLICA_INFO (body `SyncStateSet`).
public struct GetReplicaInfoResponseHeader: DescribedHeader, Equatable {
    public var masterBrokerId: Int64?
    public var masterAddress: String?
    public var masterEpoch: Int32?
    public init(masterBrokerId: Int64? = nil, masterAddress: String? = nil, masterEpoch: Int32? = nil) {
        self.masterBrokerId = masterBrokerId
        self.masterAddress = masterAddress
        self.masterEpoch = masterEpoch
    }
    public static let schema = HeaderSchema(Self(), [
        .optional("masterBrokerId", \.masterBrokerId), .optional("masterAddress", \.masterAddress),
        .optional("masterEpoch", \.masterEpoch),
    ])
}

/// Answer of CONTROLLER_GET_METADATA_INFO (1005). `peers` is `id:address;` per controller.
public struct GetMetaDataResponseHeader: DescribedHeader, Equatable {
    public var group: String?
    public var controllerLeaderId: String?
    public var controllerLeaderAddress: String?
    public var isLeader: Bool
    public var peers: String?
    public init(group: String? = nil, controllerLeaderId: String? = nil, controllerLeaderAddress: String? = nil,
                isLeader: Bool = false, peers: String? = nil) {
        self.group = group
        self.controllerLeaderId = controllerLeaderId
        self.controllerLeaderAddress = controllerLeaderAddress
        self.isLeader = isLeader
        self.peers = peers
    }
    public static let schema = HeaderSchema(Self(), [
        .optional("group", \.group), .optional("controllerLeaderId", \.controllerLeaderId),
        .optional("controllerLeaderAddress", \.controllerLeaderAddress), .defaulted("isLeader", \.isLeader, false),
        .optional("peers", \.peers),
    ])
}

/// CONTROLLER_GET_NEXT_BROKER_ID (1012) request.
public struct GetNextBrokerIdRequestHeader: DescribedHeader, Equatable {
    public var clusterName: String
    public var brokerName: String
    public init(clusterName: String, brokerName: String) {
        self.clusterName = clusterName
        self.brokerName = brokerName
    }
    public static let schema = HeaderSchema(Self(clusterName: "", brokerName: ""), [
        .required("clusterName", \.clusterName), .required("brokerName", \.brokerName),
    ])
}

public struct GetNextBrokerIdResponseHeader: DescribedHeader, Equatable {
    public var clusterName: String?
    public var brokerName: String?
    public var nextBrokerId: Int64?
    public init(clusterName: String? = nil, brokerName: String? = nil, nextBrokerId: Int64? = nil) {
        self.clusterName = clusterName
        self.brokerName = brokerName
        self.nextBrokerId = nextBrokerId
    }
    public static let schema = HeaderSchema(Self(), [
        .optional("clusterName", \.clusterName), .optional("brokerName", \.brokerName),
        .optional("nextBrokerId", \.nextBrokerId),
    ])
}

/// CONTROLLER_APPLY_BROKER_ID (1013) request; `registerCheckCode` is `<brokerAddress>;<timestamp>`.
public struct ApplyBrokerIdRequestHeader: DescribedHeader, Equatable {
    public var clusterName: String
    public var brokerName: String
    public var appliedBrokerId: Int64
    public var registerCheckCode: String
    public init(clusterName: String, brokerName: String, appliedBrokerId: Int64, registerCheckCode: String) {
        self.clusterName = clusterName
        self.brokerName = brokerName
        self.appliedBrokerId = appliedBrokerId
        self.registerCheckCode = registerCheckCode
    }
    public static let schema = HeaderSchema(
        Self(clusterName: "", brokerName: "", appliedBrokerId: 0, registerCheckCode: ""), [
            .required("clusterName", \.clusterName), .required("brokerName", \.brokerName),
            .required("appliedBrokerId", \.appliedBrokerId), .required("registerCheckCode", \.registerCheckCode),
        ])
}

public struct ApplyBrokerIdResponseHeader: DescribedHeader, Equatable {
    public var clusterName: String?
    public var brokerName: String?
    public init(clusterName: String? = nil, brokerName: String? = nil) {
        self.clusterName = clusterName
        self.brokerName = brokerName
    }
    public static let schema = HeaderSchema(Self(), [
        .optional("clusterName", \.clusterName), .optional("brokerName", \.brokerName),
    ])
}

/// CONTROLLER_REGISTER_BROKER (1003) request (after the id is applied).
public struct RegisterBrokerToControllerRequestHeader: DescribedHeader, Equatable {
    public var clusterName: String
    public var brokerName: String
    public var brokerId: Int64
    public var brokerAddress: String
    public var invokeTime: Int64
    public init(clusterName: String, brokerName: String, brokerId: Int64, brokerAddress: String, invokeTime: Int64 = 0) {
        self.clusterName = clusterName
        self.brokerName = brokerName
        self.brokerId = brokerId
        self.brokerAddress = brokerAddress
        self.invokeTime = invokeTime
    }
    public static let schema = HeaderSchema(
        Self(clusterName: "", brokerName: "", brokerId: 0, brokerAddress: ""), [
            .required("clusterName", \.clusterName), .required("brokerName", \.brokerName),
            .required("brokerId", \.brokerId), .required("brokerAddress", \.brokerAddress),
            .defaulted("invokeTime", \.invokeTime, 0),
        ])
}

/// Answer of REGISTER_BROKER (body `SyncStateSet`); the master fields only while a live master exists.
public struct RegisterBrokerToControllerResponseHeader: DescribedHeader, Equatable {
    public var clusterName: String?
    public var brokerName: String?
    public var masterBrokerId: Int64?
    public var masterAddress: String?
    public var masterEpoch: Int32?
    public var syncStateSetEpoch: Int32?
    public init(clusterName: String? = nil, brokerName: String? = nil, masterBrokerId: Int64? = nil,
                masterAddress: String? = nil, masterEpoch: Int32? = nil, syncStateSetEpoch: Int32? = nil) {
        self.clusterName = clusterName
        self.brokerName = brokerName
        self.masterBrokerId = masterBrokerId
        self.masterAddress = masterAddress
        self.masterEpoch = masterEpoch
        self.syncStateSetEpoch = syncStateSetEpoch
    }
    public static let schema = HeaderSchema(Self(), [
        .optional("clusterName", \.clusterName), .optional("brokerName", \.brokerName),
        .optional("masterBrokerId", \.masterBrokerId), .optional("masterAddress", \.masterAddress),
        .optional("masterEpoch", \.masterEpoch), .optional("syncStateSetEpoch", \.syncStateSetEpoch),
    ])
}
