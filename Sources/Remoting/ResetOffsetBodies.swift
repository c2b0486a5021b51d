// ResetOffsetRequestHeader and ResetOffsetBody: INVOKE_BROKER_TO_RESET_OFFSET (222, admin -> broker) and
// RESET_CONSUMER_CLIENT_OFFSET (220, broker -> consumers) (spec remoting.md §10, §11.11, admin.md §9.5).
// Plain values; built by Admin and the broker's ResetOffsetProcessor; any task.

public struct ResetOffsetRequestHeader: DescribedHeader, Equatable {
    public var topic: String
    public var group: String
    public var timestamp: Int64
    public var isForce: Bool
    public var queueId: Int32
    public var offset: Int64?

    public init(topic: String, group: String, timestamp: Int64, isForce: Bool = true, queueId: Int32 = -1,
                offset: Int64? = nil) {
        self.topic = topic
        self.group = group
        self.timestamp = timestamp
        self.isForce = isForce
        self.queueId = queueId
        self.offset = offset
    }

    public static let schema = HeaderSchema(Self(topic: "", group: "", timestamp: 0), [
        .required("topic", \.topic), .required("group", \.group), .required("timestamp", \.timestamp),
        .defaulted("isForce", \.isForce, false), .defaulted("queueId", \.queueId, -1), .optional("offset", \.offset),
    ])
}

/// `{"offsetTable":{{"brokerName":…,"queueId":…,"topic":…}:offset}}` (object-keyed, §16).
public struct ResetOffsetBody: RemotingJSONBody, Equatable {
    public var offsetTable: [MessageQueue: Int64]
    public init(offsetTable: [MessageQueue: Int64] = [:]) { self.offsetTable = offsetTable }
    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("ResetOffsetBody")
        offsetTable = try objectKeyedMap(o["offsetTable"]) { v throws(RemotingError) in v.int64Value ?? 0 }
    }
    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.key("offsetTable")
        w.beginObject()
        for mq in offsetTable.keys.sorted() {
            w.objectKey(mq)
            w.value(offsetTable[mq] ?? 0)
        }
        w.endObject()
        w.endObject()
    }
}

extension RequestCode {
    /// QUERY_TOPIC_CONSUME_BY_WHO: consumer groups with offsets on a topic (admin.md §4).
    public static let queryTopicConsumeByWho = RequestCode(300)
    /// GET_TOPIC_CONFIG: one topic's config from a broker.
    public static let getTopicConfig = RequestCode(351)
}
