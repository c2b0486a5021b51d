// CommitLog: the append-only message log over a MappedFileQueue (store.md §3). Owns the put lock:
// inside it only the store timestamp is taken, queue offsets assigned from the topic-queue table,
// offsets patched and bytes copied (encoding and CRC happened before, in MessageEncoder). Rolls to the
// allocator's next segment at END_OF_FILE. Publishes flushedWhere for the flush services and readers.
import Common
import CStore
import Synchronization

/// Key of the topic-queue table ("<topic>-<queueId>" in RocketMQ).
public struct TopicQueueKey: Hashable, Sendable {
    public var topic: String
    public var queueId: Int32
    public init(topic: String, queueId: Int32) {
        self.topic = topic
        self.queueId = queueId
    }
}

/// A readable range of stored bytes inside one mapped file. Holding it keeps the mapping alive.
public struct SelectMappedBufferResult: Sendable {
    public let file: MappedFile
    public let physicalOffset: Int64
    public let size: Int

    public var filePosition: Int64 { physicalOffset - file.startOffset }
    /// The bytes, valid while this value (and so `file`) is alive.
    public var bytes: UnsafeRawBufferPointer { file.bytes(at: filePosition, count: size) }
    public var copy: [UInt8] { Array(bytes) }
    /// Whether every page of the range is in the page cache (reading it then cannot wait for the disk).
    public var isResident: Bool { file.isResident(at: filePosition, count: size) }
}

final class CommitLog: Sendable {
    struct PutState {
        /// Next queue offset per topic-queue (store.md §3.8), rebuilt from ConsumeQueues at start.
        var topicQueueTable: [TopicQueueKey: Int64] = [:]
        /// The last key's slot: a writer putting to one queue after another skips hashing its key. Every
        /// change of the table's shape (insert, replace, filter) clears it; indices stay valid while only
        /// values change.
        var lastSlot: (key: TopicQueueKey, index: Dictionary<TopicQueueKey, Int64>.Index)?
        /// The segment appends go to, cached so a put never takes the file list's lock. The hot path
        /// uses `currentSegment` (a raw pointer kept alive by `current`): retaining the MappedFile on
        /// every put would bounce its reference count between the writer's and the dispatcher's cores.
        var current: MappedFile?
        var currentSegment: OpaquePointer?
        var currentStartOffset: Int64 = 0
    }

    let queue: MappedFileQueue
    private let allocator: AllocateMappedFileService
    private let putLock = CacheLinePadded(Mutex(PutState()))
    /// Bytes below this offset are durable. Stored (release) by the one flushing thread after
    /// fdatasync; loaded (acquire) by group commit, dispatch under SYNC_FLUSH, and shutdown.
    private let flushedWhereAtomic = CacheLinePadded(Atomic<Int64>(0))
    /// End of the last appended byte. Stored (release) under the put lock after each append and by
    /// recovery; loaded (acquire) by dispatch, flush and readers, so none of them takes a lock for it.
    private let maxOffsetAtomic = CacheLinePadded(Atomic<Int64>(0))
    let storeHost: MessageHost
    /// With a TransientStorePool appends are not visible until committed: CommitRealTimeService calls
    /// commit(leastPages:), which publishes maxOffset; without one the writer publishes it.
    let pool: TransientStorePool?
    /// TransientStorePool mode: everything below this is committed to the files (the committer's cursor).
    private let committedWhereAtomic = Atomic<Int64>(0)
    /// Store time of the last appended record (set under the put lock; read by the flush services).
    private let lastStoreTimestampAtomic = Atomic<Int64>(0)
    /// When the put lock's current holder took it (ms), 0 while free: RocketMQ's beginTimeInLock, read by
    /// isOSPageCacheBusy. Written only by the holder.
    /// On its own cache line: the writer stores it twice per append and every send reads it.
    private let beginTimeInLockAtomic = CacheLinePadded(Atomic<Int64>(0))
    /// Set while a holder of the put lock rolls to a new segment (it may wait for the allocator):
    /// a put that must not wait sees it and goes elsewhere instead of queueing behind the lock.
    private let rollingAtomic = Atomic<Bool>(false)

    init(queue: MappedFileQueue, allocator: AllocateMappedFileService, storeHost: MessageHost, pool: TransientStorePool? = nil) {
        self.queue = queue
        self.allocator = allocator
        self.storeHost = storeHost
        self.pool = pool
    }

    var flushedWhere: Int64 {
        get { flushedWhereAtomic.value.load(ordering: .acquiring) }
        set { flushedWhereAtomic.value.store(newValue, ordering: .releasing) }
    }

    var lastStoreTimestampMs: Int64 {
        get { lastStoreTimestampAtomic.load(ordering: .relaxed) }
        set { lastStoreTimestampAtomic.store(newValue, ordering: .relaxed) }
    }

    var minOffset: Int64 {
        guard let first = queue.first else { return -1 }
        return first.startOffset
    }

    var maxOffset: Int64 { maxOffsetAtomic.value.load(ordering: .acquiring) }

    /// Re-reads the tail from the file list (after recovery or truncation).
    func resetTail() {
        putLock.value.withLock {
            $0.current = nil
            $0.currentSegment = nil
        }
        maxOffsetAtomic.value.store(queue.maxOffset, ordering: .releasing)
        committedWhereAtomic.store(queue.maxOffset, ordering: .relaxed)
    }

    func setTopicQueueTable(_ table: [TopicQueueKey: Int64]) {
        putLock.value.withLock {
            $0.topicQueueTable = table
            $0.lastSlot = nil
        }
    }

    func nextQueueOffset(_ key: TopicQueueKey) -> Int64 {
        putLock.value.withLock { $0.topicQueueTable[key] ?? 0 }
    }

    func removeTopicQueues(topic: String) {
        putLock.value.withLock { s in
            s.topicQueueTable = s.topicQueueTable.filter { $0.key.topic != topic }
            s.lastSlot = nil
        }
    }

    enum AppendFailure: Error {
        case createMappedFileFailed(StoreError)
        case tooLarge
        /// Only when the caller may not wait: the put lock is busy rolling, or the next segment is not
        /// ready. Nothing was written.
        case wouldWait
    }

    /// Whether a writer holds the put lock now (one relaxed load).
    var isPutLockHeld: Bool { beginTimeInLockAtomic.value.load(ordering: .relaxed) != 0 }

    /// How long (ms) the current holder has held the put lock, or 0 if it is free.
    func lockHeldMs(nowMs: Int64) -> Int64 {
        let begin = beginTimeInLockAtomic.value.load(ordering: .relaxed)
        return begin == 0 ? 0 : max(0, nowMs - begin)
    }

    /// Appends encoded records under the put lock. PREPARED/ROLLBACK records take queue offset 0 and no slot.
    /// With `mayWait` false the append never waits for more than a brief handover of the lock: it fails
    /// with `.wouldWait` (nothing written) when the lock's holder is rolling to a new segment or this
    /// append would have to wait for the allocator itself (callers on an event loop).
    func append(_ encoded: EncodedMessages, key: TopicQueueKey, sysFlag: Int32,
                mayWait: Bool = true) -> Result<AppendMessageResult, AppendFailure> {
        let len = encoded.length
        if Int64(len) + StoreLimits.blankBytesMin > queue.fileSizeBytes { return .failure(.tooLarge) }
        if mayWait {
            return putLock.value.withLock { appendLocked(&$0, encoded, key: key, sysFlag: sysFlag, mayWait: true) }
        }
        // Other writers hold the lock for about a microsecond; only a roll holds it for long, and that is
        // announced. The spin watches the holder's flag (no lock traffic, no futex call: a failed try-lock
        // costs a system call on Linux) and is bounded, so the caller's wait is too.
        for _ in 0..<64 {
            if rollingAtomic.load(ordering: .acquiring) { return .failure(.wouldWait) }
            if isPutLockHeld {
                for _ in 0..<8 { apus_cpu_relax() }
                continue
            }
            if let r = putLock.value.withLockIfAvailable({ appendLocked(&$0, encoded, key: key, sysFlag: sysFlag, mayWait: false) }) {
                return r
            }
        }
        return .failure(.wouldWait)
    }

    private func appendLocked(_ state: inout PutState, _ encoded: EncodedMessages, key: TopicQueueKey, sysFlag: Int32,
                              mayWait: Bool) -> Result<AppendMessageResult, AppendFailure> {
        let tx = sysFlag & APUS_SYSFLAG_TX_MASK
        let consumesSlot = tx == APUS_SYSFLAG_TX_NOT_TYPE || tx == APUS_SYSFLAG_TX_COMMIT
        let count = encoded.count
        let len = encoded.length
        do {
            let storeTimestampMs = currentTimeMs()
            beginTimeInLockAtomic.value.store(storeTimestampMs, ordering: .relaxed)
            defer { beginTimeInLockAtomic.value.store(0, ordering: .relaxed) }
            // One hash of the key: find (or insert) the slot once and update it in place.
            var slot: Dictionary<TopicQueueKey, Int64>.Index?
            if let last = state.lastSlot, last.key.queueId == key.queueId, last.key.topic == key.topic {
                slot = last.index
            } else {
                slot = state.topicQueueTable.index(forKey: key)
                if slot == nil && consumesSlot {
                    state.topicQueueTable[key] = 0
                    slot = state.topicQueueTable.index(forKey: key)
                    state.lastSlot = nil  // the insert may have moved every slot
                }
                if let slot { state.lastSlot = (key, slot) }
            }
            let queueOffset = consumesSlot ? slot.map { state.topicQueueTable.values[$0] } ?? 0 : 0
            var attempts = 0
            while true {
                attempts += 1
                precondition(attempts <= 3, "append rolled more than once")
                if state.currentSegment == nil || apus_segment_append_position(state.currentSegment) == queue.fileSizeBytes {
                    if !mayWait && !nextWritableFileIsReady() { return .failure(.wouldWait) }
                    rollingAtomic.store(true, ordering: .releasing)
                    let next = nextWritableFile()
                    rollingAtomic.store(false, ordering: .releasing)
                    switch next {
                    case .success(let f):
                        state.current = f
                        state.currentSegment = f.segment
                        state.currentStartOffset = f.startOffset
                    case .failure(let e):
                        return .failure(.createMappedFileFailed(e))
                    }
                }
                let segment = state.currentSegment
                let fileStart = state.currentStartOffset
                var position: Int64 = 0
                let rc: Int32
                if let body = encoded.body {
                    rc = apus_segment_append_split(segment, encoded.pointer, UInt32(encoded.bodyAt), body.baseAddress,
                                                   UInt32(body.count), UInt32(len - encoded.bodyAt - body.count),
                                                   queueOffset, storeTimestampMs, &position)
                } else {
                    rc = apus_segment_append_records(segment, encoded.pointer, UInt32(len), UInt32(count),
                                                     queueOffset, storeTimestampMs, &position)
                }
                if rc == APUS_SEGMENT_END_OF_FILE { continue }
                precondition(rc == 0, "append of \(len) bytes failed: \(rc)")
                if consumesSlot, let slot { state.topicQueueTable.values[slot] = queueOffset + Int64(count) }
                lastStoreTimestampAtomic.store(storeTimestampMs, ordering: .relaxed)
                if pool == nil { maxOffsetAtomic.value.store(fileStart + position + Int64(len), ordering: .releasing) }
                return .success(AppendMessageResult(physicalOffset: fileStart + position, wroteBytes: Int32(len),
                                                    queueOffset: queueOffset, messageCount: Int32(count),
                                                    storeTimestampMs: storeTimestampMs, storeHost: storeHost,
                                                    recordSizes: count > 1 ? Self.recordSizes(encoded) : []))
            }
        }
    }

    /// A slave's append of CommitLog bytes replicated from its master (HA, broker.md §12.1): the bytes go to
    /// the same offsets (so the same file names) as on the master. `startOffset` must be this log's end, or,
    /// on an empty log, the start of a file (the master starts a new slave at its last file). The bytes never
    /// cross a file's end (the master sends at most one file's part per batch). Under the put lock.
    func appendReplicated(startOffset: Int64, data: UnsafeRawBufferPointer) -> Result<Void, StoreError> {
        guard !data.isEmpty else { return .success(()) }
        return putLock.value.withLock { state in
            let end = maxOffset
            let empty = queue.isEmpty
            if empty {
                guard startOffset % queue.fileSizeBytes == 0 else {
                    return .failure(StoreError(.corruptFile, "replicated bytes for an empty CommitLog must start a file, got offset \(startOffset)"))
                }
            } else if startOffset != end {
                return .failure(StoreError(.corruptFile, "replicated bytes start at \(startOffset), the CommitLog ends at \(end)"))
            }
            var file: MappedFile
            if let last = queue.last, !last.isFull {
                file = last
            } else {
                let start = queue.last.map { $0.endOffset } ?? startOffset
                switch allocator.take(start: start) {
                case .success(let f):
                    queue.append(f)
                    file = f
                case .failure(let e):
                    return .failure(e)
                }
            }
            let position = startOffset - file.startOffset
            guard position >= 0, position + Int64(data.count) <= file.sizeBytes, let base = data.baseAddress else {
                return .failure(StoreError(.corruptFile, "replicated bytes [\(startOffset), +\(data.count)) cross the end of CommitLog file \(MappedFile.fileName(forOffset: file.startOffset))"))
            }
            let rc = apus_segment_write_at(file.segment, position, base, UInt32(data.count))
            guard rc == 0 else { return .failure(StoreError(.io, "replicated write at \(startOffset) failed: \(rc)")) }
            state.current = nil
            state.currentSegment = nil
            maxOffsetAtomic.value.store(startOffset + Int64(data.count), ordering: .releasing)
            return .success(())
        }
    }

    /// The master side of replication: the written bytes of the file holding `offset`, from `offset` on,
    /// at most `maxBytes` (nil when nothing is written there yet).
    func replicationData(from offset: Int64, maxBytes: Int) -> SelectMappedBufferResult? {
        guard maxBytes > 0, let file = queue.findMappedFile(offset: offset) else { return nil }
        let visible = min(file.startOffset + file.wrotePosition, maxOffset)
        let size = min(Int64(maxBytes), visible - offset)
        guard size > 0 else { return nil }
        return SelectMappedBufferResult(file: file, physicalOffset: offset, size: Int(size))
    }

    private static func recordSizes(_ encoded: EncodedMessages) -> [Int32] {
        let bytes = UnsafeBufferPointer(start: encoded.pointer, count: encoded.length)
        var sizes: [Int32] = []
        var at = 0
        while at + 4 <= bytes.count {
            let n = Int32(bytes[at]) << 24 | Int32(bytes[at + 1]) << 16 | Int32(bytes[at + 2]) << 8 | Int32(bytes[at + 3])
            sizes.append(n)
            at += Int(n)
        }
        return sizes
    }

    /// Whether nextWritableFile() would return without waiting for the allocator (caller holds the put lock).
    private func nextWritableFileIsReady() -> Bool {
        if let last = queue.last, !last.isFull { return true }
        return allocator.isReady(start: queue.last.map { $0.endOffset } ?? 0)
    }

    /// The last file if it has room, else the allocator's next one (caller holds the put lock).
    private func nextWritableFile() -> Result<MappedFile, StoreError> {
        if let last = queue.last, !last.isFull { return .success(last) }
        let start = queue.last.map { $0.endOffset } ?? 0
        let result = allocator.take(start: start)
        if case .success(let f) = result { queue.append(f) }
        return result
    }

    /// The stored bytes of the record at `physicalOffset` of `size` bytes, if fully written. `near`, the
    /// file of the previous record a reader selected, is tried before the file list: a pull reads runs of
    /// records from one file, and taking the list's lock per record made pull threads queue on it.
    func select(physicalOffset: Int64, size: Int, near: MappedFile? = nil) -> SelectMappedBufferResult? {
        guard size > 0 else { return nil }
        let file: MappedFile
        if let near, physicalOffset >= near.startOffset, physicalOffset < near.endOffset {
            file = near
        } else if let found = queue.findMappedFile(offset: physicalOffset) {
            file = found
        } else {
            return nil
        }
        let pos = physicalOffset - file.startOffset
        guard pos + Int64(size) <= file.wrotePosition else { return nil }
        return SelectMappedBufferResult(file: file, physicalOffset: physicalOffset, size: size)
    }

    /// Reads the record at `physicalOffset` using its own TOTALSIZE.
    func selectRecord(physicalOffset: Int64) -> SelectMappedBufferResult? {
        guard let file = queue.findMappedFile(offset: physicalOffset) else { return nil }
        let pos = physicalOffset - file.startOffset
        let wrote = file.wrotePosition
        guard pos + 8 <= wrote else { return nil }
        var info = apus_record_info()
        let kind = apus_record_check(file.base + Int(pos), Int(wrote - pos), 0, &info)
        guard kind == APUS_RECORD_MESSAGE else { return nil }
        return SelectMappedBufferResult(file: file, physicalOffset: physicalOffset, size: Int(info.total_size))
    }

    /// Store timestamp of the record at `physicalOffset` (for binary search by time), or nil.
    func storeTimestamp(physicalOffset: Int64, size: Int32) -> Int64? {
        guard let r = select(physicalOffset: physicalOffset, size: Int(size)) else { return nil }
        var info = apus_record_info()
        guard let base = r.bytes.baseAddress,
              apus_record_check(base.assumingMemoryBound(to: UInt8.self), r.size, 0, &info) == APUS_RECORD_MESSAGE else { return nil }
        return info.store_timestamp_ms
    }

    /// Flushes every segment holding bytes in [flushedWhere, maxOffset) with one batched fdatasync and
    /// advances flushedWhere to the max offset captured before the sync. Called by one thread at a time.
    /// Returns the new flushedWhere.
    @discardableResult
    func flush(ring: IORing) throws(StoreError) -> Int64 {
        let target = maxOffset
        let from = flushedWhere
        guard target > from else { return from }
        var fds: [Int32] = []
        var files: [MappedFile] = []
        var offset = from
        while offset < target, let f = queue.findMappedFile(offset: offset) {
            fds.append(f.fd)
            files.append(f)
            offset = f.endOffset
        }
        try ring.fdatasync(fds)
        for f in files { f.flushedPosition = min(f.sizeBytes, max(f.flushedPosition, target - f.startOffset)) }
        flushedWhere = target
        return target
    }

    /// TransientStorePool mode: pwrites appended bytes of each file from the committed cursor on (a file
    /// the writer has filled whatever its page count, the last one if `leastPages` are pending), gives
    /// the buffers of completely committed files back to the pool and publishes the new max offset.
    /// One thread at a time (CommitRealTimeService, or shutdown). Returns the bytes committed.
    @discardableResult
    func commit(leastPages: Int) throws(StoreError) -> Int64 {
        guard let pool else { return 0 }
        var total: Int64 = 0
        var offset = committedWhereAtomic.load(ordering: .relaxed)
        while let file = queue.findMappedFile(offset: offset) {
            total += try file.commit(leastPages: leastPages)
            let visible = file.startOffset + file.wrotePosition
            if visible > maxOffsetAtomic.value.load(ordering: .relaxed) {
                maxOffsetAtomic.value.store(visible, ordering: .releasing)
            }
            committedWhereAtomic.store(visible, ordering: .relaxed)
            guard visible == file.endOffset else { break }
            if let buffer = file.detachWriteBuffer() { pool.giveBack(buffer) }
            offset = file.endOffset
        }
        return total
    }

    /// Bytes appended but not yet committed (TransientStorePool mode; 0 otherwise).
    var uncommittedBytes: Int64 {
        guard pool != nil, let last = queue.last else { return 0 }
        return last.startOffset + last.appendPosition - committedWhereAtomic.load(ordering: .relaxed)
    }

    /// Dirty pages between flushedWhere and the max offset.
    var dirtyPages: Int64 { (maxOffset / 4096) - (flushedWhere / 4096) }
}

extension AppendMessageResult {
    init(physicalOffset: Int64, wroteBytes: Int32, queueOffset: Int64, messageCount: Int32, storeTimestampMs: Int64,
         storeHost: MessageHost, recordSizes: [Int32]) {
        self.init(physicalOffset: physicalOffset, wroteBytes: wroteBytes, queueOffset: queueOffset,
                  messageCount: messageCount, storeTimestampMs: storeTimestampMs, storeHost: storeHost,
                  batchRecordSizes: recordSizes)
    }
}
