// CommitLogDispatcher: turns one CommitLog record into its ConsumeQueue unit and index entries and
// tells the listener a queue gained a message (store.md §6.6 dispatchers). Used by the reput thread
// and by recovery, one thread at a time. Caches the last ConsumeQueue so a run of records for one
// queue costs no topic-string work.
import CStore
import Logging

/// What a dispatched message tells long-polling holders (RocketMQ's MessageArrivingListener args).
public struct MessageArrival: Sendable {
    public let topic: String
    public let queueId: Int32
    /// Queue offset just past the new message (max offset after dispatch).
    public let nextQueueOffset: Int64
    public let tagsCode: Int64
    public let storeTimestampMs: Int64
}

final class CommitLogDispatcher {
    private let consumeQueues: ConsumeQueueStore
    private let index: IndexService?
    private let checkpoint: StoreCheckpoint
    private let ring: IORing
    private let listener: (@Sendable (MessageArrival) -> Void)?
    private let logger: Logger
    private var lastTopic: [UInt8] = []
    private var lastQueueId: Int32 = -1
    private var lastQueue: ConsumeQueue?
    private let delayLevelTableMs: [Int64]
    /// Records dispatched without index entries since the last warning, and when that was (ms).
    private var indexSkips = 0
    private var indexSkipLoggedMs: Int64 = 0
    private static let scheduleTopicBytes = Array(MessageStoreConfig.scheduleTopic.utf8)

    init(consumeQueues: ConsumeQueueStore, index: IndexService?, checkpoint: StoreCheckpoint, ring: IORing,
         listener: (@Sendable (MessageArrival) -> Void)?, delayLevelTableMs: [Int64] = [], logger: Logger) {
        self.delayLevelTableMs = delayLevelTableMs
        self.consumeQueues = consumeQueues
        self.index = index
        self.checkpoint = checkpoint
        self.ring = ring
        self.listener = listener
        self.logger = logger
    }

    /// Logs skipped index entries at most once a minute (the reput thread only).
    private func indexSkipped(_ error: StoreError, physicalOffset: Int64) {
        indexSkips += 1
        let now = currentTimeMs()
        guard now - indexSkipLoggedMs >= 60_000 else { return }
        logger.warning("index entries skipped for \(indexSkips) record(s), the last at CommitLog offset \(physicalOffset): \(error) (messages are delivered; queries by key miss them)")
        indexSkips = 0
        indexSkipLoggedMs = now
    }

    /// Forget cached queues (after topics were deleted).
    func resetCache() {
        lastQueue = nil
        lastTopic = []
        lastQueueId = -1
    }

    private func queue(topic: UnsafeRawBufferPointer, queueId: Int32) -> ConsumeQueue {
        if let q = lastQueue, queueId == lastQueueId, topic.elementsEqual(lastTopic) { return q }
        let name = String(decoding: topic, as: UTF8.self)
        let q = consumeQueues.findOrCreate(TopicQueueKey(topic: name, queueId: queueId))
        lastTopic = Array(topic)
        lastQueueId = queueId
        lastQueue = q
        return q
    }

    static func tagsCode(props: UnsafeRawBufferPointer) -> Int64 {
        guard let base = props.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return 0 }
        var pos: UInt32 = 0, len: UInt32 = 0
        guard apus_props_find(base, UInt32(props.count), "TAGS", 4, &pos, &len) == 1 else { return 0 }
        return Int64(apus_java_hash_utf8(base + Int(pos), Int(len)))
    }

    private static func property(_ key: StaticString, in props: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard let base = props.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
        var pos: UInt32 = 0, len: UInt32 = 0
        let found = key.withUTF8Buffer { k in
            k.withMemoryRebound(to: CChar.self) { apus_props_find(base, UInt32(props.count), $0.baseAddress, UInt32(k.count), &pos, &len) }
        }
        guard found == 1 else { return nil }
        return UnsafeRawBufferPointer(start: base + Int(pos), count: Int(len))
    }

    /// For SCHEDULE_TOPIC_XXXX the unit's tag field holds the deliver time: store time + the delay of the
    /// level in DELAY, capped at the highest level; +1 s if the level cannot be read (store.md §6.4).
    private func deliverTimestamp(props: UnsafeRawBufferPointer, storeTimestampMs: Int64) -> Int64 {
        guard let text = Self.property("DELAY", in: props), let level = Int(String(decoding: text, as: UTF8.self)),
              level > 0, !delayLevelTableMs.isEmpty else { return storeTimestampMs + 1000 }
        return storeTimestampMs + delayLevelTableMs[min(level, delayLevelTableMs.count) - 1]
    }

    /// Builds the index entries of the record at `record` only (dispatch, and a replica's truncation
    /// re-indexing what lies below its cut).
    func dispatchIndex(record: UnsafeRawPointer, info: apus_record_info) {
        guard let index else { return }
        let topic = UnsafeRawBufferPointer(start: record + Int(info.topic_pos), count: Int(info.topic_len))
        let props = UnsafeRawBufferPointer(start: record + Int(info.props_pos), count: Int(info.props_len))
        // The index only serves queries by key: a record it cannot take (no room for a new IndexFile on a
        // small or full disk) is delivered all the same, without index entries, as RocketMQ's
        // buildIndex does ("build index error, stop building index"). Dispatch must not stall on it.
        do {
            if let rolled = try index.buildIndex(topic: topic, uniqKey: Self.property("UNIQ_KEY", in: props),
                                                 keys: Self.property("KEYS", in: props), physicalOffset: info.physical_offset,
                                                 storeTimestampMs: info.store_timestamp_ms, sysFlag: info.sys_flag, ring: ring) {
                checkpoint.indexMsgTimestampMs = rolled
                try? checkpoint.flush()
            }
        } catch {
            indexSkipped(error, physicalOffset: info.physical_offset)
        }
    }

    /// Dispatches the record at `record` (already validated, `info` from apus_record_check).
    func dispatch(record: UnsafeRawPointer, info: apus_record_info) throws(StoreError) {
        let topic = UnsafeRawBufferPointer(start: record + Int(info.topic_pos), count: Int(info.topic_len))
        let props = UnsafeRawBufferPointer(start: record + Int(info.props_pos), count: Int(info.props_len))
        let tx = info.sys_flag & APUS_SYSFLAG_TX_MASK
        var tagsCode: Int64 = 0
        var cq: ConsumeQueue? = nil
        if tx == APUS_SYSFLAG_TX_NOT_TYPE || tx == APUS_SYSFLAG_TX_COMMIT {
            tagsCode = topic.elementsEqual(Self.scheduleTopicBytes)
                ? deliverTimestamp(props: props, storeTimestampMs: info.store_timestamp_ms)
                : Self.tagsCode(props: props)
            let q = queue(topic: topic, queueId: info.queue_id)
            try q.putMessagePositionInfo(physicalOffset: info.physical_offset, size: info.total_size,
                                         tagsCode: tagsCode, queueOffset: info.queue_offset)
            checkpoint.logicsMsgTimestampMs = info.store_timestamp_ms
            cq = q
        }
        dispatchIndex(record: record, info: info)
        if let listener, let cq {
            listener(MessageArrival(topic: cq.topic, queueId: cq.queueId, nextQueueOffset: info.queue_offset + 1,
                                    tagsCode: tagsCode, storeTimestampMs: info.store_timestamp_ms))
        }
    }
}
