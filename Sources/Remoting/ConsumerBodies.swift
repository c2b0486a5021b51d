// JSON bodies of the broker's consumer and admin answers (spec remoting.md §11.4, §11.6, §11.8, store.md §11):
// consumer lists, subscription groups, consume and topic stats (object-keyed maps), consumer offsets.
// Plain values; encoded by the broker, decoded by clients and tests; any task.

public struct GetConsumerListByGroupResponseBody: RemotingJSONBody, Equatable {
    public var consumerIdList: [String]
    public init(consumerIdList: [String]) { self.consumerIdList = consumerIdList }
    public init(json: JSONValue) throws(RemotingError) {
        consumerIdList = (try json.requireObject("ConsumerList")["consumerIdList"]?.arrayValue ?? []).compactMap(\.stringValue)
    }
    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.field("consumerIdList", strings: consumerIdList)
        w.endObject()
    }
}

/// A queue of a topic on a broker; the key of ConsumeStats and TopicStatsTable maps.
public struct MessageQueue: RemotingJSONBody, Hashable, Comparable {
    public var topic: String
    public var brokerName: String
    public var queueId: Int32
    public init(topic: String, brokerName: String, queueId: Int32) {
        self.topic = topic
        self.brokerName = brokerName
        self.queueId = queueId
    }
    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("MessageQueue")
        topic = o["topic"]?.stringValue ?? ""
        brokerName = o["brokerName"]?.stringValue ?? ""
        queueId = o["queueId"]?.int32Value ?? 0
    }
    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.field("brokerName", brokerName)
        w.field("queueId", queueId)
        w.field("topic", topic)
        w.endObject()
    }
    public static func < (a: MessageQueue, b: MessageQueue) -> Bool {
        (a.topic, a.brokerName, a.queueId) < (b.topic, b.brokerName, b.queueId)
    }
    var jsonValue: JSONValue {
        var o = JSONObject()
        o.append(.string("brokerName"), .string(brokerName))
        o.append(.string("queueId"), .number(String(queueId)))
        o.append(.string("topic"), .string(topic))
        return .object(o)
    }
}

extension JSONWriter {
    /// A fastjson map key that is an object (MessageQueue), §16.
    mutating func objectKey(_ key: MessageQueue) {
        var inner = JSONWriter(style: style)
        inner.value(key.jsonValue)
        rawKey(inner.bytes)
    }
}

/// Reads a map whose keys are MessageQueue object literals.
func objectKeyedMap<V>(_ value: JSONValue?, _ decode: (JSONValue) throws(RemotingError) -> V) throws(RemotingError)
    -> [MessageQueue: V]
{
    var out: [MessageQueue: V] = [:]
    for (k, v) in value?.objectValue?.members ?? [] {
        guard case .object(let keyValue) = k else { continue }
        out[try MessageQueue(json: keyValue)] = try decode(v)
    }
    return out
}

public struct OffsetWrapper: Sendable, Equatable {
    public var brokerOffset: Int64
    public var consumerOffset: Int64
    public var pullOffset: Int64
    public var lastTimestamp: Int64
    public init(brokerOffset: Int64, consumerOffset: Int64, pullOffset: Int64, lastTimestamp: Int64) {
        self.brokerOffset = brokerOffset
        self.consumerOffset = consumerOffset
        self.pullOffset = pullOffset
        self.lastTimestamp = lastTimestamp
    }
}

public struct ConsumeStats: RemotingJSONBody, Equatable {
    public var offsetTable: [MessageQueue: OffsetWrapper]
    public var consumeTps: Double
    public init(offsetTable: [MessageQueue: OffsetWrapper] = [:], consumeTps: Double = 0) {
        self.offsetTable = offsetTable
        self.consumeTps = consumeTps
    }
    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("ConsumeStats")
        consumeTps = o["consumeTps"].flatMap { if case .number(let n) = $0 { Double(n) } else { nil } } ?? 0
        offsetTable = try objectKeyedMap(o["offsetTable"]) { v throws(RemotingError) in
            OffsetWrapper(brokerOffset: v["brokerOffset"]?.int64Value ?? 0, consumerOffset: v["consumerOffset"]?.int64Value ?? 0,
                          pullOffset: v["pullOffset"]?.int64Value ?? 0, lastTimestamp: v["lastTimestamp"]?.int64Value ?? 0)
        }
    }
    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.key("consumeTps")
        w.value(JSONValue.number(String(consumeTps)))
        w.key("offsetTable")
        w.beginObject()
        for mq in offsetTable.keys.sorted() {
            guard let v = offsetTable[mq] else { continue }
            w.objectKey(mq)
            w.beginObject()
            w.field("brokerOffset", v.brokerOffset)
            w.field("consumerOffset", v.consumerOffset)
            w.field("lastTimestamp", v.lastTimestamp)
            w.field("pullOffset", v.pullOffset)
            w.endObject()
        }
        w.endObject()
        w.endObject()
    }
}

public struct TopicOffset: Sendable, Equatable {
    public var minOffset: Int64
    public var maxOffset: Int64
    public var lastUpdateTimestamp: Int64
    public init(minOffset: Int64, maxOffset: Int64, lastUpdateTimestamp: Int64) {
        self.minOffset = minOffset
        self.maxOffset = maxOffset
        self.lastUpdateTimestamp = lastUpdateTimestamp
    }
}

public struct TopicStatsTable: RemotingJSONBody, Equatable {
    public var offsetTable: [MessageQueue: TopicOffset]
    public var topicPutTps: Double
    public init(offsetTable: [MessageQueue: TopicOffset] = [:], topicPutTps: Double = 0) {
        self.offsetTable = offsetTable
        self.topicPutTps = topicPutTps
    }
    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("TopicStatsTable")
        topicPutTps = 0
        offsetTable = try objectKeyedMap(o["offsetTable"]) { v throws(RemotingError) in
            TopicOffset(minOffset: v["minOffset"]?.int64Value ?? 0, maxOffset: v["maxOffset"]?.int64Value ?? 0,
                        lastUpdateTimestamp: v["lastUpdateTimestamp"]?.int64Value ?? 0)
        }
    }
    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.key("offsetTable")
        w.beginObject()
        for mq in offsetTable.keys.sorted() {
            guard let v = offsetTable[mq] else { continue }
            w.objectKey(mq)
            w.beginObject()
            w.field("lastUpdateTimestamp", v.lastUpdateTimestamp)
            w.field("maxOffset", v.maxOffset)
            w.field("minOffset", v.minOffset)
            w.endObject()
        }
        w.endObject()
        w.key("topicPutTps")
        w.value(JSONValue.number(String(topicPutTps)))
        w.endObject()
    }
}

/// A consumer group's settings (§11.8); unknown members are kept so nothing an admin set is lost.
public struct SubscriptionGroupConfig: RemotingJSONBody, Equatable {
    public var groupName: String
    public var consumeEnable = true
    public var consumeFromMinEnable = true
    public var consumeBroadcastEnable = true
    public var consumeMessageOrderly = false
    public var retryQueueNums: Int32 = 1
    public var retryMaxTimes: Int32 = 16
    public var brokerId: Int64 = 0
    public var whichBrokerWhenConsumeSlowly: Int64 = 1
    public var notifyConsumerIdsChangedEnable = true
    public var groupSysFlag: Int32 = 0
    public var consumeTimeoutMinute: Int32 = 15
    public var attributes: [String: String] = [:]

    public init(groupName: String) { self.groupName = groupName }

    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("SubscriptionGroupConfig")
        groupName = o["groupName"]?.stringValue ?? ""
        consumeEnable = o["consumeEnable"]?.boolValue ?? true
        consumeFromMinEnable = o["consumeFromMinEnable"]?.boolValue ?? true
        consumeBroadcastEnable = o["consumeBroadcastEnable"]?.boolValue ?? true
        consumeMessageOrderly = o["consumeMessageOrderly"]?.boolValue ?? false
        retryQueueNums = o["retryQueueNums"]?.int32Value ?? 1
        retryMaxTimes = o["retryMaxTimes"]?.int32Value ?? 16
        brokerId = o["brokerId"]?.int64Value ?? 0
        whichBrokerWhenConsumeSlowly = o["whichBrokerWhenConsumeSlowly"]?.int64Value ?? 1
        notifyConsumerIdsChangedEnable = o["notifyConsumerIdsChangedEnable"]?.boolValue ?? true
        groupSysFlag = o["groupSysFlag"]?.int32Value ?? 0
        consumeTimeoutMinute = o["consumeTimeoutMinute"]?.int32Value ?? 15
        for (k, v) in o["attributes"]?.objectValue?.members ?? [] {
            if let key = k.text, let value = v.stringValue { attributes[key] = value }
        }
    }

    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.field("attributes", stringMap: attributes)
        w.field("brokerId", brokerId)
        w.field("consumeBroadcastEnable", consumeBroadcastEnable)
        w.field("consumeEnable", consumeEnable)
        w.field("consumeFromMinEnable", consumeFromMinEnable)
        w.field("consumeMessageOrderly", consumeMessageOrderly)
        w.field("consumeTimeoutMinute", consumeTimeoutMinute)
        w.field("groupName", groupName)
        w.key("groupRetryPolicy")
        w.beginObject()
        w.field("type", "CUSTOMIZED")
        w.endObject()
        w.field("groupSysFlag", groupSysFlag)
        w.field("notifyConsumerIdsChangedEnable", notifyConsumerIdsChangedEnable)
        w.field("retryMaxTimes", retryMaxTimes)
        w.field("retryQueueNums", retryQueueNums)
        w.field("whichBrokerWhenConsumeSlowly", whichBrokerWhenConsumeSlowly)
        w.endObject()
    }
}

/// `subscriptionGroup.json` and the GET_ALL_SUBSCRIPTIONGROUP_CONFIG body.
public struct SubscriptionGroupWrapper: RemotingJSONBody, Equatable {
    public var subscriptionGroupTable: [String: SubscriptionGroupConfig]
    public var dataVersion: DataVersion
    public init(subscriptionGroupTable: [String: SubscriptionGroupConfig] = [:], dataVersion: DataVersion = DataVersion()) {
        self.subscriptionGroupTable = subscriptionGroupTable
        self.dataVersion = dataVersion
    }
    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("SubscriptionGroupWrapper")
        var table: [String: SubscriptionGroupConfig] = [:]
        for (k, v) in o["subscriptionGroupTable"]?.objectValue?.members ?? [] {
            guard let name = k.text else { continue }
            var c = try SubscriptionGroupConfig(json: v)
            if c.groupName.isEmpty { c.groupName = name }
            table[name] = c
        }
        subscriptionGroupTable = table
        dataVersion = try o["dataVersion"].map { v throws(RemotingError) in try DataVersion(json: v) } ?? DataVersion()
    }
    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.key("dataVersion")
        dataVersion.writeJSON(to: &w)
        w.key("forbiddenTable")
        w.beginObject()
        w.endObject()
        w.key("subscriptionGroupTable")
        w.beginObject()
        for name in subscriptionGroupTable.keys.sorted() {
            guard let c = subscriptionGroupTable[name] else { continue }
            w.key(name)
            c.writeJSON(to: &w)
        }
        w.endObject()
        w.endObject()
    }
}

/// `consumerOffset.json`: `topic@group` → queueId → next offset to consume (bare numeric keys).
public struct ConsumerOffsetSerializeWrapper: RemotingJSONBody, Equatable {
    public var offsetTable: [String: [Int32: Int64]]
    public var dataVersion: DataVersion
    public init(offsetTable: [String: [Int32: Int64]] = [:], dataVersion: DataVersion = DataVersion()) {
        self.offsetTable = offsetTable
        self.dataVersion = dataVersion
    }
    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("ConsumerOffsetSerializeWrapper")
        var table: [String: [Int32: Int64]] = [:]
        for (k, v) in o["offsetTable"]?.objectValue?.members ?? [] {
            guard let key = k.text else { continue }
            var queues: [Int32: Int64] = [:]
            for (qk, qv) in v.objectValue?.members ?? [] {
                if let q = qk.text.flatMap({ Int32($0) }), let off = qv.int64Value { queues[q] = off }
            }
            table[key] = queues
        }
        offsetTable = table
        dataVersion = try o["dataVersion"].map { v throws(RemotingError) in try DataVersion(json: v) } ?? DataVersion()
    }
    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.key("dataVersion")
        dataVersion.writeJSON(to: &w)
        w.key("offsetTable")
        w.beginObject()
        for key in offsetTable.keys.sorted() {
            guard let queues = offsetTable[key] else { continue }
            w.key(key)
            w.beginObject()
            for q in queues.keys.sorted() {
                w.numericKey(Int64(q))
                w.value(queues[q] ?? 0)
            }
            w.endObject()
        }
        w.endObject()
        w.endObject()
    }
}
