// Typed headers of the broker's administrative and query requests (spec remoting.md §9.11, §9.12):
// topics, groups, stats, message lookups. Decoded by the broker, encoded by tools and tests; any task.

/// UPDATE_AND_CREATE_TOPIC (17).
public struct CreateTopicRequestHeader: CommandCustomHeader, Equatable {
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

    public init(extFields: [String: String]) throws(RemotingError) {
        let r = ExtFieldReader(extFields)
        topic = try r.required("topic")
        defaultTopic = r.optional("defaultTopic") ?? "TBW102"
        readQueueNums = try r.requiredInt32("readQueueNums")
        writeQueueNums = try r.requiredInt32("writeQueueNums")
        perm = try r.requiredInt32("perm")
        topicFilterType = r.optional("topicFilterType") ?? "SINGLE_TAG"
        topicSysFlag = r.optionalInt32("topicSysFlag")
        order = r.bool("order") ?? false
        attributes = r.optional("attributes")
    }

    public func toExtFields() -> [String: String] {
        var f = [
            "topic": topic, "defaultTopic": defaultTopic, "readQueueNums": String(readQueueNums),
            "writeQueueNums": String(writeQueueNums), "perm": String(perm), "topicFilterType": topicFilterType,
            "order": String(order),
        ]
        f["topicSysFlag"] = topicSysFlag.map { String($0) }
        f["attributes"] = attributes
        return f
    }
}

/// DELETE_TOPIC_IN_BROKER (215), GET_TOPIC_STATS_INFO (202), GET_TOPIC_CONFIG (351): `topic`.
public struct TopicRequestHeader: CommandCustomHeader, Equatable {
    public var topic: String
    public init(topic: String) { self.topic = topic }
    public init(extFields: [String: String]) throws(RemotingError) { topic = try ExtFieldReader(extFields).required("topic") }
    public func toExtFields() -> [String: String] { ["topic": topic] }
}
public typealias DeleteTopicRequestHeader = TopicRequestHeader
public typealias GetTopicStatsInfoRequestHeader = TopicRequestHeader

/// DELETE_SUBSCRIPTIONGROUP (207).
public struct DeleteSubscriptionGroupRequestHeader: CommandCustomHeader, Equatable {
    public var groupName: String
    public var cleanOffset: Bool
    public init(groupName: String, cleanOffset: Bool = false) {
        self.groupName = groupName
        self.cleanOffset = cleanOffset
    }
    public init(extFields: [String: String]) throws(RemotingError) {
        let r = ExtFieldReader(extFields)
        groupName = try r.required("groupName")
        cleanOffset = r.bool("cleanOffset") ?? false
    }
    public func toExtFields() -> [String: String] { ["groupName": groupName, "cleanOffset": String(cleanOffset)] }
}

/// GET_SUBSCRIPTIONGROUP_CONFIG (352).
public struct GetSubscriptionGroupConfigRequestHeader: CommandCustomHeader, Equatable {
    public var group: String
    public init(group: String) { self.group = group }
    public init(extFields: [String: String]) throws(RemotingError) { group = try ExtFieldReader(extFields).required("group") }
    public func toExtFields() -> [String: String] { ["group": group] }
}

/// GET_CONSUME_STATS (208).
public struct GetConsumeStatsRequestHeader: CommandCustomHeader, Equatable {
    public var consumerGroup: String
    public var topic: String?
    /// RocketMQ 5: `;`-separated topics; when given, exactly these are reported (no subscription check).
    public var topicList: [String]
    public init(consumerGroup: String, topic: String? = nil, topicList: [String] = []) {
        self.consumerGroup = consumerGroup
        self.topic = topic
        self.topicList = topicList
    }
    public init(extFields: [String: String]) throws(RemotingError) {
        let r = ExtFieldReader(extFields)
        consumerGroup = try r.required("consumerGroup")
        topic = r.optional("topic").flatMap { $0.isEmpty ? nil : $0 }
        topicList = (r.optional("topicList") ?? "").split(separator: ";").map(String.init).filter { !$0.isEmpty }
    }
    public func toExtFields() -> [String: String] {
        var f = ["consumerGroup": consumerGroup]
        f["topic"] = topic
        if !topicList.isEmpty { f["topicList"] = topicList.joined(separator: ";") }
        return f
    }
}

/// VIEW_MESSAGE_BY_ID (33): `offset` is the commit-log offset decoded from an offset message id.
public struct ViewMessageRequestHeader: CommandCustomHeader, Equatable {
    public var offset: Int64
    public var topic: String?
    public init(offset: Int64, topic: String? = nil) {
        self.offset = offset
        self.topic = topic
    }
    public init(extFields: [String: String]) throws(RemotingError) {
        let r = ExtFieldReader(extFields)
        offset = try r.requiredInt64("offset")
        topic = r.optional("topic")
    }
    public func toExtFields() -> [String: String] {
        var f = ["offset": String(offset)]
        f["topic"] = topic
        return f
    }
}

/// QUERY_MESSAGE (12).
public struct QueryMessageRequestHeader: CommandCustomHeader, Equatable {
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
    public init(extFields: [String: String]) throws(RemotingError) {
        let r = ExtFieldReader(extFields)
        topic = try r.required("topic")
        key = try r.required("key")
        maxNum = try r.requiredInt32("maxNum")
        beginTimestamp = try r.requiredInt64("beginTimestamp")
        endTimestamp = try r.requiredInt64("endTimestamp")
        uniqueKeyQuery = r.bool("_UNIQUE_KEY_QUERY")
    }
    public func toExtFields() -> [String: String] {
        var f = [
            "topic": topic, "key": key, "maxNum": String(maxNum), "beginTimestamp": String(beginTimestamp),
            "endTimestamp": String(endTimestamp),
        ]
        f["_UNIQUE_KEY_QUERY"] = uniqueKeyQuery.map { String($0) }
        return f
    }
}

public struct QueryMessageResponseHeader: CommandCustomHeader, Equatable {
    public var indexLastUpdateTimestamp: Int64
    public var indexLastUpdatePhyoffset: Int64
    public init(indexLastUpdateTimestamp: Int64, indexLastUpdatePhyoffset: Int64) {
        self.indexLastUpdateTimestamp = indexLastUpdateTimestamp
        self.indexLastUpdatePhyoffset = indexLastUpdatePhyoffset
    }
    public init(extFields: [String: String]) throws(RemotingError) {
        let r = ExtFieldReader(extFields)
        indexLastUpdateTimestamp = try r.requiredInt64("indexLastUpdateTimestamp")
        indexLastUpdatePhyoffset = try r.requiredInt64("indexLastUpdatePhyoffset")
    }
    public func toExtFields() -> [String: String] {
        ["indexLastUpdateTimestamp": String(indexLastUpdateTimestamp),
         "indexLastUpdatePhyoffset": String(indexLastUpdatePhyoffset)]
    }
}

/// GET_ALL_TOPIC_CONFIG response: `totalTopicNum` (5.x paging; Apus sends the whole table).
public struct GetAllTopicConfigResponseHeader: CommandCustomHeader, Equatable {
    public var totalTopicNum: Int32?
    public init(totalTopicNum: Int32?) { self.totalTopicNum = totalTopicNum }
    public init(extFields: [String: String]) { totalTopicNum = ExtFieldReader(extFields).optionalInt32("totalTopicNum") }
    public func toExtFields() -> [String: String] {
        var f: [String: String] = [:]
        f["totalTopicNum"] = totalTopicNum.map { String($0) }
        return f
    }
}
