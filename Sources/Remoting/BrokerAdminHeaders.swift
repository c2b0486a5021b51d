// Typed headers of the broker's administrative and query requests (spec remoting.md §9.11, §9.12):
// topics, groups, stats, message lookups. Decoded by the broker, encoded by tools and tests; any task.

/// UPDATE_AND_CREATE_TOPIC (17).
public struct CreateTopicRequestHeader: DescribedHeader, Equatable {
    public var topic: String
    public var defaultTopic: String
    public var readQueueNums: Int32
    public var writeQueueNums: Int32
    public var perm: Int32
    public var topicFilterType: String
    public var topicSysFlag: Int32?
    public var order: Bool
    public var attributes: String?

    public init(topic: String, defaultTopic: String = "TBW102", readQueueNums: Int32, writeQueueNums: Int32,
                perm: Int32 = 6, topicFilterType: String = "SINGLE_TAG", topicSysFlag: Int32? = 0, order: Bool = false,
                attributes: String? = nil) {
        self.topic = topic
        self.defaultTopic = defaultTopic
        self.readQueueNums = readQueueNums
        self.writeQueueNums = writeQueueNums
        self.perm = perm
        self.topicFilterType = topicFilterType
        self.topicSysFlag = topicSysFlag
        self.order = order
        self.attributes = attributes
    }

    public static let schema = HeaderSchema(Self(topic: "", readQueueNums: 0, writeQueueNums: 0), [
        .required("topic", \.topic), .defaulted("defaultTopic", \.defaultTopic, "TBW102"),
        .required("readQueueNums", \.readQueueNums), .required("writeQueueNums", \.writeQueueNums),
        .required("perm", \.perm), .defaulted("topicFilterType", \.topicFilterType, "SINGLE_TAG"),
        .optional("topicSysFlag", \.topicSysFlag), .defaulted("order", \.order, false),
        .optional("attributes", \.attributes),
    ])
}

/// DELETE_TOPIC_IN_BROKER (215), GET_TOPIC_STATS_INFO (202), GET_TOPIC_CONFIG (351): `topic`.
public struct TopicRequestHeader: DescribedHeader, Equatable {
    public var topic: String
    public init(topic: String) { self.topic = topic }
    public static let schema = HeaderSchema(Self(topic: ""), [.required("topic", \.topic)])
}
public typealias DeleteTopicRequestHeader = TopicRequestHeader
public typealias GetTopicStatsInfoRequestHeader = TopicRequestHeader

/// DELETE_SUBSCRIPTIONGROUP (207).
public struct DeleteSubscriptionGroupRequestHeader: DescribedHeader, Equatable {
    public var groupName: String
    public var cleanOffset: Bool
    public init(groupName: String, cleanOffset: Bool = false) {
        self.groupName = groupName
        self.cleanOffset = cleanOffset
    }
    public static let schema = HeaderSchema(Self(groupName: ""), [
        .required("groupName", \.groupName), .defaulted("cleanOffset", \.cleanOffset, false),
    ])
}

/// GET_SUBSCRIPTIONGROUP_CONFIG (352).
public struct GetSubscriptionGroupConfigRequestHeader: DescribedHeader, Equatable {
    public var group: String
    public init(group: String) { self.group = group }
    public static let schema = HeaderSchema(Self(group: ""), [.required("group", \.group)])
}

/// GET_CONSUME_STATS (208).
public struct GetConsumeStatsRequestHeader: DescribedHeader, Equatable {
    public var consumerGroup: String
    public var topic: String?
    /// RocketMQ 5: `;`-separated topics; when given, exactly these are reported (no subscription check).
    public var topicList: [String]
    public init(consumerGroup: String, topic: String? = nil, topicList: [String] = []) {
        self.consumerGroup = consumerGroup
        self.topic = topic
        self.topicList = topicList
    }
    public static let schema = HeaderSchema(Self(consumerGroup: ""), [
        .required("consumerGroup", \.consumerGroup), .optional("topic", \.topic, emptyIsAbsent: true),
        .text("topicList", \.topicList,
              decode: { ($0 ?? "").split(separator: ";").map(String.init).filter { !$0.isEmpty } },
              encode: { $0.isEmpty ? nil : $0.joined(separator: ";") }),
    ])
}

/// VIEW_MESSAGE_BY_ID (33): `offset` is the commit-log offset decoded from an offset message id.
public struct ViewMessageRequestHeader: DescribedHeader, Equatable {
    public var offset: Int64
    public var topic: String?
    public init(offset: Int64, topic: String? = nil) {
        self.offset = offset
        self.topic = topic
    }
    public static let schema = HeaderSchema(Self(offset: 0), [.required("offset", \.offset), .optional("topic", \.topic)])
}

/// QUERY_MESSAGE (12).
public struct QueryMessageRequestHeader: DescribedHeader, Equatable {
    public var topic: String
    public var key: String
    public var maxNum: Int32
    public var beginTimestamp: Int64
    public var endTimestamp: Int64
    /// Extra key `_UNIQUE_KEY_QUERY`.
    public var uniqueKeyQuery: Bool?
    public init(topic: String, key: String, maxNum: Int32, beginTimestamp: Int64, endTimestamp: Int64,
                uniqueKeyQuery: Bool? = false) {
        self.topic = topic
        self.key = key
        self.maxNum = maxNum
        self.beginTimestamp = beginTimestamp
        self.endTimestamp = endTimestamp
        self.uniqueKeyQuery = uniqueKeyQuery
    }
    public static let schema = HeaderSchema(Self(topic: "", key: "", maxNum: 0, beginTimestamp: 0, endTimestamp: 0), [
        .required("topic", \.topic), .required("key", \.key), .required("maxNum", \.maxNum),
        .required("beginTimestamp", \.beginTimestamp), .required("endTimestamp", \.endTimestamp),
        .optional("_UNIQUE_KEY_QUERY", \.uniqueKeyQuery),
    ])
}

public struct QueryMessageResponseHeader: DescribedHeader, Equatable {
    public var indexLastUpdateTimestamp: Int64
    public var indexLastUpdatePhyoffset: Int64
    public init(indexLastUpdateTimestamp: Int64, indexLastUpdatePhyoffset: Int64) {
        self.indexLastUpdateTimestamp = indexLastUpdateTimestamp
        self.indexLastUpdatePhyoffset = indexLastUpdatePhyoffset
    }
    public static let schema = HeaderSchema(Self(indexLastUpdateTimestamp: 0, indexLastUpdatePhyoffset: 0), [
        .required("indexLastUpdateTimestamp", \.indexLastUpdateTimestamp),
        .required("indexLastUpdatePhyoffset", \.indexLastUpdatePhyoffset),
    ])
}

/// GET_ALL_TOPIC_CONFIG response: `totalTopicNum` (5.x paging; Apus sends the whole table).
public struct GetAllTopicConfigResponseHeader: DescribedHeader, Equatable {
    public var totalTopicNum: Int32?
    public init(totalTopicNum: Int32?) { self.totalTopicNum = totalTopicNum }
    public static let schema = HeaderSchema(Self(totalTopicNum: nil), [.optional("totalTopicNum", \.totalTopicNum)])
}

/// GET_BROKER_CONFIG (26) response: `version` is the topic table's data version as JSON text.
public struct GetBrokerConfigResponseHeader: DescribedHeader, Equatable {
    public var version: String
    public init(version: String) { self.version = version }
    public static let schema = HeaderSchema(Self(version: ""), [.required("version", \.version)])
}
