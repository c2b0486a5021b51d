// Message types at the store's API edge: what a put takes (MessageToStore, MessageBatchToStore),
// what it answers (PutMessageResult). Host addresses are Common's MessageHost. No network types here.

import Common

/// One message to append: the fields of a CommitLog record that the producer and broker decide.
public struct MessageToStore: Sendable {
    public var topic: String
    public var queueId: Int32
    public var body: [UInt8]
    /// Encoded properties (name \u{1} value \u{2} ...), see `MessageProperties`.
    public var properties: String
    public var flag: Int32
    public var sysFlag: Int32
    public var bornTimestampMs: Int64
    public var bornHost: MessageHost
    public var reconsumeTimes: Int32
    public var preparedTransactionOffset: Int64

    public init(topic: String, queueId: Int32, body: [UInt8], properties: String = "", flag: Int32 = 0,
                sysFlag: Int32 = 0, bornTimestampMs: Int64 = 0, bornHost: MessageHost = .loopback,
                reconsumeTimes: Int32 = 0, preparedTransactionOffset: Int64 = 0) {
        self.topic = topic
        self.queueId = queueId
        self.body = body
        self.properties = properties
        self.flag = flag
        self.sysFlag = sysFlag
        self.bornTimestampMs = bornTimestampMs
        self.bornHost = bornHost
        self.reconsumeTimes = reconsumeTimes
        self.preparedTransactionOffset = preparedTransactionOffset
    }
}

/// A client batch (store.md §3.9): `body` is the concatenation of items
/// (TOTALSIZE, MAGIC, BODYCRC, FLAG, BODYLEN, BODY, PROPLEN, PROPS); each becomes its own record with
/// consecutive queue offsets and the same store timestamp.
public struct MessageBatchToStore: Sendable {
    public var topic: String
    public var queueId: Int32
    public var body: [UInt8]
    public var sysFlag: Int32
    public var bornTimestampMs: Int64
    public var bornHost: MessageHost
    public var reconsumeTimes: Int32

    public init(topic: String, queueId: Int32, body: [UInt8], sysFlag: Int32 = 0, bornTimestampMs: Int64 = 0,
                bornHost: MessageHost = .loopback, reconsumeTimes: Int32 = 0) {
        self.topic = topic
        self.queueId = queueId
        self.body = body
        self.sysFlag = sysFlag
        self.bornTimestampMs = bornTimestampMs
        self.bornHost = bornHost
        self.reconsumeTimes = reconsumeTimes
    }
}

/// Outcome of a put (RocketMQ's PutMessageStatus); closed, so every caller handles every case.
public enum PutMessageStatus: String, Sendable, Equatable {
    case putOk = "PUT_OK"
    case flushDiskTimeout = "FLUSH_DISK_TIMEOUT"
    case createMappedFileFailed = "CREATE_MAPPED_FILE_FAILED"
    case messageIllegal = "MESSAGE_ILLEGAL"
    case propertiesSizeExceeded = "PROPERTIES_SIZE_EXCEEDED"
    case serviceNotAvailable = "SERVICE_NOT_AVAILABLE"
    /// The bounded group-commit queue is full: the broker answers SYSTEM_BUSY.
    case flushQueueFull = "FLUSH_QUEUE_FULL"
    /// The put lock has been held longer than osPageCacheBusyTimeOutMills: the broker answers SYSTEM_BUSY.
    case osPageCacheBusy = "OS_PAGE_CACHE_BUSY"
    /// SYNC_MASTER: stored, but no slave acknowledged it within slaveTimeout (the broker answers 12).
    case flushSlaveTimeout = "FLUSH_SLAVE_TIMEOUT"
    /// SYNC_MASTER: stored, but no slave is connected or the best one is too far behind (the broker answers 11).
    case slaveNotAvailable = "SLAVE_NOT_AVAILABLE"
    /// Controller mode, SYNC_MASTER: the SyncStateSet has fewer members than minInSyncReplicas (stored, not
    /// acknowledged; the broker answers SYSTEM_ERROR as RocketMQ 5 does).
    case inSyncReplicasNotEnough = "IN_SYNC_REPLICAS_NOT_ENOUGH"
    case unknownError = "UNKNOWN_ERROR"
}

/// Where an appended message (or the first of a batch) landed.
public struct AppendMessageResult: Sendable, Equatable {
    /// CommitLog offset of the first record.
    public var physicalOffset: Int64
    /// Bytes written (all records of a batch).
    public var wroteBytes: Int32
    /// Queue offset of the first record.
    public var queueOffset: Int64
    /// Records written (1, or the batch size).
    public var messageCount: Int32
    public var storeTimestampMs: Int64
    public var storeHost: MessageHost
    /// Sizes of each record of a batch (empty for a single message).
    public var batchRecordSizes: [Int32]

    /// Physical offsets of every record written.
    public var recordPhysicalOffsets: [Int64] {
        if batchRecordSizes.isEmpty { return [physicalOffset] }
        var offsets: [Int64] = []
        var at = physicalOffset
        for size in batchRecordSizes {
            offsets.append(at)
            at += Int64(size)
        }
        return offsets
    }

    /// The id a send response carries (store.md §3.10): one offset message id, or a batch's ids joined by commas.
    public var messageId: String {
        if batchRecordSizes.isEmpty { return OffsetMessageId.make(host: storeHost, physicalOffset: physicalOffset) }
        return recordPhysicalOffsets.map { OffsetMessageId.make(host: storeHost, physicalOffset: $0) }.joined(separator: ",")
    }
}

public struct PutMessageResult: Sendable, Equatable {
    public var status: PutMessageStatus
    public var append: AppendMessageResult?
    /// A readable reason for a failure (logged and sent as the remark).
    public var remark: String?

    public init(status: PutMessageStatus, append: AppendMessageResult? = nil, remark: String? = nil) {
        self.status = status
        self.append = append
        self.remark = remark
    }

    public var isOk: Bool { status == .putOk }

    /// Written to the CommitLog, whether or not its flush or its slave kept the deadline (Java answers
    /// these with their own codes, but the message is there).
    public var isStored: Bool {
        switch status {
        case .putOk, .flushDiskTimeout, .flushSlaveTimeout, .slaveNotAvailable, .inSyncReplicasNotEnough: return true
        default: return false
        }
    }
}
