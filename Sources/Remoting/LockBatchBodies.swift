// Bodies of LOCK_BATCH_MQ (41) and UNLOCK_BATCH_MQ (42), the broker-side queue locks of orderly consumers
// (spec broker.md §10, client.md §8.12): the request names a group, a client and queues; the lock answer
// lists the queues granted. Plain values; encoded by clients and tests, decoded by the broker; any task.

/// LockBatchRequestBody / UnlockBatchRequestBody (same members).
public struct LockBatchRequestBody: RemotingJSONBody, Equatable {
    public var consumerGroup: String
    public var clientId: String
    /// 5.x: lock on this broker only (no quorum); Apus has no replicas to ask, so every lock is local.
    public var onlyThisBroker: Bool
    public var mqSet: Set<MessageQueue>

    public init(consumerGroup: String, clientId: String, onlyThisBroker: Bool = false, mqSet: Set<MessageQueue>) {
        self.consumerGroup = consumerGroup
        self.clientId = clientId
        self.onlyThisBroker = onlyThisBroker
        self.mqSet = mqSet
    }

    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("LockBatchRequestBody")
        consumerGroup = o["consumerGroup"]?.stringValue ?? ""
        clientId = o["clientId"]?.stringValue ?? ""
        onlyThisBroker = o["onlyThisBroker"]?.boolValue ?? false
        var set = Set<MessageQueue>()
        for q in o["mqSet"]?.arrayValue ?? [] { set.insert(try MessageQueue(json: q)) }
        mqSet = set
    }

    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.field("clientId", clientId)
        w.field("consumerGroup", consumerGroup)
        w.key("mqSet")
        writeQueues(mqSet, to: &w)
        w.field("onlyThisBroker", onlyThisBroker)
        w.endObject()
    }
}

/// LockBatchResponseBody: the queues this client now holds.
public struct LockBatchResponseBody: RemotingJSONBody, Equatable {
    public var lockOKMQSet: Set<MessageQueue>

    public init(lockOKMQSet: Set<MessageQueue>) { self.lockOKMQSet = lockOKMQSet }

    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("LockBatchResponseBody")
        var set = Set<MessageQueue>()
        for q in o["lockOKMQSet"]?.arrayValue ?? [] { set.insert(try MessageQueue(json: q)) }
        lockOKMQSet = set
    }

    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.key("lockOKMQSet")
        writeQueues(lockOKMQSet, to: &w)
        w.endObject()
    }
}

/// Queues as a JSON array, in a stable order (Java writes HashSet order; nothing depends on it).
private func writeQueues(_ queues: Set<MessageQueue>, to w: inout JSONWriter) {
    w.beginArray()
    for q in queues.sorted() { q.writeJSON(to: &w) }
    w.endArray()
}
