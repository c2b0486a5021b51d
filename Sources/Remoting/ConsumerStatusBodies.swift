// GetConsumerStatusRequestHeader and GetConsumerStatusBody: INVOKE_BROKER_TO_GET_CONSUMER_STATUS (223,
// admin -> broker) and GET_CONSUMER_STATUS_FROM_CLIENT (221, broker -> each consumer of the group): the
// offsets a consumer holds in memory for one topic (Java: Broker2Client.getConsumeStatus,
// ClientRemotingProcessor.getConsumeStatus). Plain values; any task.

public struct GetConsumerStatusRequestHeader: DescribedHeader, Equatable {
    public var topic: String
    public var group: String
    /// 223 only: ask just this client id (empty = every consumer of the group).
    public var clientAddr: String?

    public init(topic: String, group: String, clientAddr: String? = nil) {
        self.topic = topic
        self.group = group
        self.clientAddr = clientAddr
    }

    public static let schema = HeaderSchema(Self(topic: "", group: ""), [
        .required("topic", \.topic), .required("group", \.group), .optional("clientAddr", \.clientAddr, emptyIsAbsent: true),
    ])
}

/// `{"consumerTable":{"<clientId>":{<mq>:offset}},"messageQueueTable":{<mq>:offset}}` — a client answers
/// with `messageQueueTable`, the broker with `consumerTable` (object-keyed maps, remoting.md §16).
public struct GetConsumerStatusBody: RemotingJSONBody, Equatable {
    public var messageQueueTable: [MessageQueue: Int64]
    public var consumerTable: [String: [MessageQueue: Int64]]

    public init(messageQueueTable: [MessageQueue: Int64] = [:], consumerTable: [String: [MessageQueue: Int64]] = [:]) {
        self.messageQueueTable = messageQueueTable
        self.consumerTable = consumerTable
    }

    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("GetConsumerStatusBody")
        messageQueueTable = try objectKeyedMap(o["messageQueueTable"]) { v throws(RemotingError) in v.int64Value ?? 0 }
        var table: [String: [MessageQueue: Int64]] = [:]
        for (k, v) in o["consumerTable"]?.objectValue?.members ?? [] {
            guard let clientId = k.text else { continue }
            table[clientId] = try objectKeyedMap(v) { v throws(RemotingError) in v.int64Value ?? 0 }
        }
        consumerTable = table
    }

    public func writeJSON(to w: inout JSONWriter) {
        func writeOffsets(_ t: [MessageQueue: Int64]) {
            w.beginObject()
            for mq in t.keys.sorted() {
                w.objectKey(mq)
                w.value(t[mq] ?? 0)
            }
            w.endObject()
        }
        w.beginObject()
        w.key("consumerTable")
        w.beginObject()
        for clientId in consumerTable.keys.sorted() {
            w.key(clientId)
            writeOffsets(consumerTable[clientId] ?? [:])
        }
        w.endObject()
        w.key("messageQueueTable")
        writeOffsets(messageQueueTable)
        w.endObject()
    }
}

extension RequestCode {
    /// INVOKE_BROKER_TO_GET_CONSUMER_STATUS: the broker asks each consumer of a group (221) and merges.
    public static let invokeBrokerToGetConsumerStatus = RequestCode(223)
}
