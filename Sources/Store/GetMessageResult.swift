// GetMessageResult: what a pull reads from the store (broker.md §3.3): a status, the stored records as
// ranges of mapped bytes (kept alive while held), the next offset to ask for, and the queue's bounds.
public enum GetMessageStatus: String, Sendable {
    case found = "FOUND"
    case noMatchedMessage = "NO_MATCHED_MESSAGE"
    case messageWasRemoving = "MESSAGE_WAS_REMOVING"
    case offsetFoundNull = "OFFSET_FOUND_NULL"
    case offsetOverflowBadly = "OFFSET_OVERFLOW_BADLY"
    case offsetOverflowOne = "OFFSET_OVERFLOW_ONE"
    case offsetTooSmall = "OFFSET_TOO_SMALL"
    case noMatchedLogicQueue = "NO_MATCHED_LOGIC_QUEUE"
    case noMessageInQueue = "NO_MESSAGE_IN_QUEUE"
}

public struct GetMessageResult: Sendable {
    public var status: GetMessageStatus
    public var nextBeginOffset: Int64
    public var minOffset: Int64
    public var maxOffset: Int64
    /// Each record's stored bytes, in queue order.
    public var messages: [SelectMappedBufferResult] = []
    /// Queue offset of each returned record.
    public var queueOffsets: [Int64] = []
    /// True when the reader is far behind the log's head (suggest pulling from a slave, broker.md §3.4).
    public var suggestPullingFromSlave = false

    public var bufferTotalSize: Int { messages.reduce(0) { $0 + $1.size } }
    public var messageCount: Int { messages.count }
}

/// What QUERY_MESSAGE returns: records for a key within a time range.
public struct QueryMessageResult: Sendable {
    public var messages: [SelectMappedBufferResult]
    public var indexLastUpdateTimestampMs: Int64
    public var indexLastUpdatePhysicalOffset: Int64
}
