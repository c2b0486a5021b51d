// MessageStore+Read: the read side: pulls from a ConsumeQueue (getMessage), lookups by physical offset
// and by key, queue bounds, offset by time. Lock-free on the data: it reads below published positions.
import Common
import CStore
import Glibc

extension MessageStore {
    /// Reads up to `maxMsgNums` messages of a queue from `offset` (broker.md §3.3). `tagsCodes`, if not
    /// empty, keeps only messages whose tags hash (as an Int32) is in the set.
    /// `propertiesFilter` (SQL92 selectors) sees each candidate's properties after the tag check; a record it
    /// refuses is skipped like a tag mismatch.
    public func getMessage(topic: String, queueId: Int32, offset: Int64, maxMsgNums: Int,
                           tagsCodes: Set<Int32> = [], maxTotalBytes: Int = StoreLimits.getMessageBytesMax,
                           propertiesFilter: (([String: String]) -> Bool)? = nil) -> GetMessageResult {
        guard let cq = consumeQueues.find(TopicQueueKey(topic: topic, queueId: queueId)) else {
            return GetMessageResult(status: .noMatchedLogicQueue, nextBeginOffset: 0, minOffset: 0, maxOffset: 0)
        }
        let minOffset = cq.minOffsetInQueue, maxOffset = cq.maxOffsetInQueue
        var result = GetMessageResult(status: .noMatchedMessage, nextBeginOffset: offset, minOffset: minOffset, maxOffset: maxOffset)
        if maxOffset == 0 { result.status = .noMessageInQueue; result.nextBeginOffset = 0; return result }
        if offset < minOffset { result.status = .offsetTooSmall; result.nextBeginOffset = minOffset; return result }
        if offset == maxOffset { result.status = .offsetOverflowOne; return result }
        if offset > maxOffset { result.status = .offsetOverflowBadly; result.nextBeginOffset = maxOffset; return result }

        // One read of the live settings per pull (StoreLiveSettings).
        let config = self.config
        let scanMax = max(Int(config.maxFilterMessageSizeBytes) / Int(StoreLimits.consumeQueueUnitBytes), maxMsgNums)
        let (entries, fileMissing, nextIndex) = cq.entries(from: offset, maxCount: scanMax)
        if fileMissing {
            result.status = .offsetFoundNull
            result.nextBeginOffset = nextIndex
            return result
        }
        let maxPhysical = commitLog.maxOffset
        let minPhysical = commitLog.minOffset
        let memoryBytes = physicalMemoryBytesForReads(config)
        var next = offset
        var bytes = 0
        var lastStatus = GetMessageStatus.noMatchedMessage
        for (i, e) in entries.enumerated() {
            let index = offset + Int64(i)
            if e.size == APUS_CQ_BLANK_SIZE { next = index + 1; continue }
            let inMemory = maxPhysical - e.physical_offset <= memoryBytes
            if result.messages.count > 0 {
                if result.messages.count >= maxMsgNums { break }
                if bytes + Int(e.size) > maxTotalBytes { break }
                let (bytesMax, countMax) = inMemory
                    ? (config.maxTransferBytesOnMessageInMemory, config.maxTransferCountOnMessageInMemory)
                    : (config.maxTransferBytesOnMessageInDisk, config.maxTransferCountOnMessageInDisk)
                if Int64(bytes + Int(e.size)) > bytesMax || Int64(result.messages.count) > countMax - 1 { break }
            }
            next = index + 1
            if e.physical_offset < minPhysical { lastStatus = .messageWasRemoving; continue }
            if !tagsCodes.isEmpty && !tagsCodes.contains(Int32(truncatingIfNeeded: e.tags_code)) {
                lastStatus = .noMatchedMessage
                continue
            }
            guard let r = commitLog.select(physicalOffset: e.physical_offset, size: Int(e.size), near: result.messages.last?.file) else {
                lastStatus = .messageWasRemoving
                continue
            }
            if let propertiesFilter, !propertiesFilter(Self.properties(of: r)) {
                lastStatus = .noMatchedMessage
                continue
            }
            result.messages.append(r)
            result.queueOffsets.append(index)
            bytes += Int(e.size)
        }
        if entries.isEmpty { next = nextIndex }
        result.nextBeginOffset = next
        result.status = result.messages.isEmpty ? lastStatus : .found
        if let last = result.messages.last {
            result.suggestPullingFromSlave = maxPhysical - last.physicalOffset > memoryBytes
        }
        return result
    }

    /// The properties of a selected record (empty if it does not parse).
    static func properties(of r: SelectMappedBufferResult) -> [String: String] {
        let b = r.bytes
        var info = apus_record_info()
        guard let base = b.baseAddress,
              apus_record_check(base.assumingMemoryBound(to: UInt8.self), b.count, 0, &info) == APUS_RECORD_MESSAGE,
              Int(info.props_pos) + Int(info.props_len) <= b.count
        else { return [:] }
        let props = UnsafeRawBufferPointer(rebasing: b[Int(info.props_pos)..<(Int(info.props_pos) + Int(info.props_len))])
        return MessageProperties.decode(String(decoding: props, as: UTF8.self))
    }

    func physicalMemoryBytesForReads(_ config: MessageStoreConfig) -> Int64 {
        let pages = Int64(sysconf(Int32(_SC_PHYS_PAGES))), pageSize = Int64(sysconf(Int32(_SC_PAGESIZE)))
        return pages * pageSize * config.accessMessageInMemoryMaxRatioPercent / 100
    }

    /// The record stored at `physicalOffset` (VIEW_MESSAGE_BY_ID), or nil if there is none.
    public func lookMessage(physicalOffset: Int64) -> SelectMappedBufferResult? {
        commitLog.selectRecord(physicalOffset: physicalOffset)
    }

    /// `size` bytes at `physicalOffset`, if fully written.
    public func lookMessage(physicalOffset: Int64, size: Int) -> SelectMappedBufferResult? {
        commitLog.select(physicalOffset: physicalOffset, size: size)
    }

    /// Records whose UNIQ_KEY or KEYS contains `key`, stored within [beginMs, endMs] (QUERY_MESSAGE).
    public func queryMessage(topic: String, key: String, maxNum: Int, beginMs: Int64, endMs: Int64) -> QueryMessageResult {
        guard let index else { return QueryMessageResult(messages: [], indexLastUpdateTimestampMs: 0, indexLastUpdatePhysicalOffset: 0) }
        let q = index.query(topic: topic, key: key, maxNum: maxNum, beginMs: beginMs, endMs: endMs)
        return QueryMessageResult(messages: q.physicalOffsets.compactMap { commitLog.selectRecord(physicalOffset: $0) },
                                  indexLastUpdateTimestampMs: q.indexLastUpdateTimestampMs,
                                  indexLastUpdatePhysicalOffset: q.indexLastUpdatePhysicalOffset)
    }

    public func maxOffsetInQueue(topic: String, queueId: Int32) -> Int64 {
        consumeQueues.find(TopicQueueKey(topic: topic, queueId: queueId))?.maxOffsetInQueue ?? 0
    }

    public func minOffsetInQueue(topic: String, queueId: Int32) -> Int64 {
        consumeQueues.find(TopicQueueKey(topic: topic, queueId: queueId))?.minOffsetInQueue ?? 0
    }

    /// Queue offset of the first (LOWER) or last (UPPER) message stored at `timestampMs` (store.md §6.8).
    public func offsetInQueue(topic: String, queueId: Int32, timestampMs: Int64, boundary: OffsetBoundary = .lower) -> Int64 {
        guard let cq = consumeQueues.find(TopicQueueKey(topic: topic, queueId: queueId)) else { return 0 }
        return cq.offsetInQueue(byTime: timestampMs, boundary: boundary) { [commitLog] e in
            commitLog.storeTimestamp(physicalOffset: e.physical_offset, size: e.size)
        }
    }

    /// CommitLog offset of the message at `queueOffset`, or nil.
    public func commitLogOffset(topic: String, queueId: Int32, queueOffset: Int64) -> Int64? {
        consumeQueues.find(TopicQueueKey(topic: topic, queueId: queueId))?.entry(at: queueOffset).map { $0.physical_offset }
    }

    /// Store time of the oldest message still in the queue (GET_EARLIEST_MSG_STORETIME), or nil.
    public func earliestMessageTime(topic: String, queueId: Int32) -> Int64? {
        guard let cq = consumeQueues.find(TopicQueueKey(topic: topic, queueId: queueId)),
              let e = cq.entry(at: cq.minOffsetInQueue) else { return nil }
        return commitLog.storeTimestamp(physicalOffset: e.physical_offset, size: e.size)
    }

    /// The ConsumeQueue unit at `queueOffset`: physical offset, size and tags code (for the schedule topic,
    /// the deliver time). Nil if there is none.
    public func consumeQueueUnit(topic: String, queueId: Int32, queueOffset: Int64) -> (physicalOffset: Int64, size: Int32, tagsCode: Int64)? {
        guard let e = consumeQueues.find(TopicQueueKey(topic: topic, queueId: queueId))?.entry(at: queueOffset) else { return nil }
        return (e.physical_offset, e.size, e.tags_code)
    }

    /// Store time of the message at `queueOffset`, or nil.
    public func messageStoreTime(topic: String, queueId: Int32, queueOffset: Int64) -> Int64? {
        guard let e = consumeQueues.find(TopicQueueKey(topic: topic, queueId: queueId))?.entry(at: queueOffset) else { return nil }
        return commitLog.storeTimestamp(physicalOffset: e.physical_offset, size: e.size)
    }

    /// Up to `maxCount` whole records from `physicalOffset` on (crossing BLANK fillers into the next file),
    /// and the offset after the last one: for replication and tools that follow the log.
    public func records(fromPhysicalOffset physicalOffset: Int64, maxCount: Int) -> (records: [SelectMappedBufferResult], nextOffset: Int64) {
        var out: [SelectMappedBufferResult] = []
        var offset = physicalOffset
        let end = commitLog.maxOffset
        while out.count < maxCount && offset < end, let file = commitLog.queue.findMappedFile(offset: offset) {
            let pos = offset - file.startOffset
            let wrote = file.wrotePosition
            guard pos + 8 <= wrote else { break }
            var info = apus_record_info()
            let kind = apus_record_check(file.base + Int(pos), Int(wrote - pos), 0, &info)
            if kind == APUS_RECORD_BLANK {
                offset = file.endOffset
                continue
            }
            guard kind == APUS_RECORD_MESSAGE else { break }
            out.append(SelectMappedBufferResult(file: file, physicalOffset: offset, size: Int(info.total_size)))
            offset += Int64(info.total_size)
        }
        return (out, offset)
    }

    public var minPhysicalOffset: Int64 { commitLog.minOffset }
    public var maxPhysicalOffset: Int64 { commitLog.maxOffset }
    public var flushedPhysicalOffset: Int64 { commitLog.flushedWhere }
    /// CommitLog bytes not yet in ConsumeQueues.
    public var dispatchBehindBytes: Int64 { reputBehindBytes }

    /// Topic-queues the store knows, with their max offsets.
    public var queueTable: [TopicQueueKey: Int64] { consumeQueues.topicQueueTable() }

    /// Removes topics' ConsumeQueues and next offsets (DELETE_TOPIC); CommitLog bytes age out normally.
    public func deleteTopics(_ topics: Set<String>) {
        for t in topics {
            consumeQueues.destroy(topic: t)
            commitLog.removeTopicQueues(topic: t)
        }
        resetDispatchCache()
    }

    /// One retention pass now (tests, mqadmin); returns CommitLog files deleted. `diskUsedRatio` stands in
    /// for the disks' measured fullness (tests of time-based retention must not depend on the machine's disk).
    @discardableResult
    public func runCleanPass(nowMs: Int64, diskUsedRatio: Double? = nil) -> Int {
        cleanPass(nowMs: nowMs, diskUsedRatio: diskUsedRatio)
    }

    /// Used fraction (0...1) of the file system holding `path` as RocketMQ computes it (df's Use%), or nil.
    public static func diskUsedRatio(path: String) -> Double? { CleanCommitLogService.usedRatio(path) }

    /// The next 20 retention passes delete expired files whatever the hour.
    public func executeDeleteFilesManually() { deleteFilesManually() }

    public var isDiskFull: Bool { diskFull }
}
