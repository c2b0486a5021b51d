// ConsumeQueue: the per topic-queue index of 20-byte units (store.md §6) over its own MappedFileQueue
// in consumequeue/<topic>/<queueId>/. Written only by the dispatcher thread (and recovery); read by
// pulls on any thread below the files' published wrote positions.
import CStore
import Synchronization
import Logging

public enum OffsetBoundary: Sendable {
    case lower
    case upper
}

final class ConsumeQueue: Sendable {
    let topic: String
    let queueId: Int32
    let files: MappedFileQueue
    private struct State {
        /// End (offset+size) of the furthest CommitLog record this queue references.
        var maxPhysicalEnd: Int64 = -1
        /// Logical byte offset of the first valid unit.
        var minLogicOffset: Int64 = 0
    }
    private let state = Mutex(State())
    private let unit = StoreLimits.consumeQueueUnitBytes

    init(topic: String, queueId: Int32, rootDirectory: String, fileSizeBytes: Int64) {
        self.topic = topic
        self.queueId = queueId
        self.files = MappedFileQueue(directory: "\(rootDirectory)/\(topic)/\(queueId)", fileSizeBytes: fileSizeBytes)
    }

    var maxPhysicalEnd: Int64 { state.withLock { $0.maxPhysicalEnd } }

    /// Entries in the queue, prefill included (store.md §6.3).
    var maxOffsetInQueue: Int64 { files.maxOffset / unit }
    var minOffsetInQueue: Int64 { state.withLock { $0.minLogicOffset } / unit }

    func load() throws(StoreError) {
        try files.load()
        for f in files.mappedFiles { f.adviseRandom() }
    }

    /// Recovery (store.md §9 step 3): find the end of valid units, drop what follows.
    /// Returns the end of the furthest CommitLog record referenced.
    @discardableResult
    func recover() -> Int64 {
        let all = files.mappedFiles
        var maxEnd: Int64 = -1
        var validEnd: Int64 = all.first?.startOffset ?? 0
        for f in all {
            let valid = apus_cq_scan_valid(f.base, UInt64(f.sizeBytes), &maxEnd)
            validEnd = f.startOffset + valid
            if valid < f.sizeBytes { break }
        }
        files.truncateDirtyFiles(offset: validEnd, zeroTail: unit)
        let first = files.first
        state.withLock { s in
            s.maxPhysicalEnd = maxEnd
            if let first { s.minLogicOffset = max(s.minLogicOffset, first.startOffset) }
        }
        return maxEnd
    }

    /// Appends the unit for queue offset `queueOffset` (dispatch). Idempotent: a unit already present
    /// (re-dispatch after recovery) is skipped; a hole (first file after deletions) is prefilled.
    func putMessagePositionInfo(physicalOffset: Int64, size: Int32, tagsCode: Int64, queueOffset: Int64) throws(StoreError) {
        if physicalOffset + Int64(size) <= maxPhysicalEnd { return }
        let expected = queueOffset * unit
        let currentEnd = files.maxOffset
        if !files.isEmpty && expected < currentEnd { return }
        let file = try fileForWrite(logicOffset: expected)
        var pos = expected - file.startOffset
        // Fill any gap before `expected` inside this file with blank units so offsets stay aligned.
        var gapStart = file.wrotePosition
        while gapStart < pos {
            var blank = [UInt8](repeating: 0, count: Int(unit))
            apus_cq_entry_encode(&blank, 0, APUS_CQ_BLANK_SIZE, 0)
            _ = apus_segment_write_at(file.segment, gapStart, blank, UInt32(unit))
            gapStart += unit
        }
        // On the stack: this runs once per dispatched message.
        var entry: (UInt64, UInt64, UInt32) = (0, 0, 0)
        let rc = withUnsafeMutableBytes(of: &entry) { e -> Int32 in
            precondition(e.count >= Int(unit))
            apus_cq_entry_encode(e.baseAddress, physicalOffset, size, tagsCode)
            return apus_segment_write_at(file.segment, pos, e.baseAddress, UInt32(unit))
        }
        precondition(rc == 0, "ConsumeQueue unit outside its file")
        pos += unit
        state.withLock { $0.maxPhysicalEnd = physicalOffset + Int64(size) }
    }

    /// The file that holds logical byte offset `logicOffset`, creating it (and, for a first file that
    /// does not start at 0, recording the min offset) when needed.
    private func fileForWrite(logicOffset: Int64) throws(StoreError) -> MappedFile {
        if let last = files.last, logicOffset >= last.startOffset, logicOffset < last.endOffset { return last }
        let start: Int64
        if let last = files.last {
            start = last.endOffset
            precondition(logicOffset >= start, "ConsumeQueue write before its last file")
        } else {
            start = logicOffset - logicOffset % files.fileSizeBytes
            state.withLock { $0.minLogicOffset = logicOffset }
        }
        try makeDirectories(files.directory)
        let f = try MappedFile.create(path: files.directory + "/" + MappedFile.fileName(forOffset: start),
                                      startOffset: start, sizeBytes: files.fileSizeBytes)
        // Units are written 20 bytes at a time into a fresh (unwritten) file: without MADV_RANDOM every
        // write fault would read ahead, i.e. zero, a whole window of pages (measured: a third of the broker's
        // CPU with 1024 queues). The page that faults is enough.
        f.adviseRandom()
        files.append(f)
        syncDirectory(files.directory)
        if logicOffset >= f.endOffset { return try fileForWrite(logicOffset: logicOffset) }
        return f
    }

    /// The unit at queue offset `index`, or nil if its file is gone or it is not written yet.
    func entry(at index: Int64) -> apus_cq_entry? {
        let logic = index * unit
        guard let f = files.findMappedFile(offset: logic) else { return nil }
        let pos = logic - f.startOffset
        guard pos + unit <= f.wrotePosition else { return nil }
        var e = apus_cq_entry()
        apus_cq_entry_decode(f.base + Int(pos), &e)
        return e
    }

    /// Readable units from `index` within one file, at most `maxCount`. Empty if the file is missing;
    /// `nextFileStart` then tells where the next file begins (OFFSET_FOUND_NULL).
    func entries(from index: Int64, maxCount: Int) -> (entries: [apus_cq_entry], fileMissing: Bool, nextIndex: Int64) {
        let logic = index * unit
        guard let f = files.findMappedFile(offset: logic) else {
            let next = files.mappedFiles.first { $0.startOffset > logic }
            return ([], true, next.map { $0.startOffset / unit } ?? index)
        }
        let wrote = f.wrotePosition
        var pos = logic - f.startOffset
        var out: [apus_cq_entry] = []
        out.reserveCapacity(min(maxCount, 64))
        while pos + unit <= wrote && out.count < maxCount {
            var e = apus_cq_entry()
            apus_cq_entry_decode(f.base + Int(pos), &e)
            out.append(e)
            pos += unit
        }
        return (out, false, index + Int64(out.count))
    }

    /// Drops units that point at or past `physicalOffset` (CommitLog truncated by recovery): from the
    /// last file backwards, a file whose first unit is already beyond is deleted whole.
    func truncateDirty(physicalOffset: Int64) {
        var cut: Int64? = nil
        for f in files.mappedFiles.reversed() {
            let wrote = f.wrotePosition
            var pos: Int64 = 0
            var newMaxEnd: Int64 = -1
            while pos + unit <= wrote {
                var e = apus_cq_entry()
                apus_cq_entry_decode(f.base + Int(pos), &e)
                if e.size != APUS_CQ_BLANK_SIZE {
                    if e.physical_offset >= physicalOffset { break }
                    newMaxEnd = e.physical_offset + Int64(e.size)
                }
                pos += unit
            }
            cut = f.startOffset + pos
            if pos == 0 { continue }
            state.withLock { $0.maxPhysicalEnd = newMaxEnd }
            break
        }
        guard let cut else { return }
        files.truncateDirtyFiles(offset: cut, zeroTail: unit)
        if cut == files.first?.startOffset ?? 0 { state.withLock { $0.maxPhysicalEnd = -1 } }
    }

    /// After CommitLog deletions: the first unit pointing at or past `commitLogMinOffset` becomes the
    /// queue's min (store.md §6.3).
    func correctMinOffset(commitLogMinOffset: Int64) {
        let maxIndex = maxOffsetInQueue
        guard maxIndex > 0, let lastEntry = entry(at: maxIndex - 1) else { return }
        if lastEntry.physical_offset < commitLogMinOffset {
            state.withLock { $0.minLogicOffset = maxIndex * unit }
            return
        }
        var lo = minOffsetInQueue, hi = maxIndex - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if let e = entry(at: mid), e.size != APUS_CQ_BLANK_SIZE, e.physical_offset >= commitLogMinOffset {
                hi = mid
            } else {
                lo = mid + 1
            }
        }
        state.withLock { $0.minLogicOffset = max($0.minLogicOffset, lo * unit) }
    }

    /// Queue offset at a store timestamp (store.md §6.8), clamped to [min, max].
    func offsetInQueue(byTime timestampMs: Int64, boundary: OffsetBoundary,
                       storeTime: (apus_cq_entry) -> Int64?) -> Int64 {
        let minIndex = minOffsetInQueue, maxIndex = maxOffsetInQueue
        guard maxIndex > minIndex else { return minIndex }
        // Entries whose CommitLog bytes are gone (storeTime nil) count as "too small".
        func time(_ i: Int64) -> Int64 {
            guard let e = entry(at: i), e.size != APUS_CQ_BLANK_SIZE, let t = storeTime(e) else { return Int64.min }
            return t
        }
        switch boundary {
        case .lower:
            var lo = minIndex, hi = maxIndex
            while lo < hi {
                let mid = (lo + hi) / 2
                if time(mid) >= timestampMs { hi = mid } else { lo = mid + 1 }
            }
            return lo
        case .upper:
            var lo = minIndex, hi = maxIndex
            while lo < hi {
                let mid = (lo + hi) / 2
                if time(mid) > timestampMs { hi = mid } else { lo = mid + 1 }
            }
            return max(minIndex, lo - 1)
        }
    }

    /// Deletes files (never the last) whose last unit points below `commitLogMinOffset`.
    func deleteExpiredFiles(commitLogMinOffset: Int64) -> Int {
        let all = files.mappedFiles
        var doomed: [MappedFile] = []
        for f in all.dropLast() {
            var e = apus_cq_entry()
            apus_cq_entry_decode(f.base + Int(f.sizeBytes - unit), &e)
            if e.physical_offset + Int64(max(e.size, 0)) <= commitLogMinOffset || e.size == APUS_CQ_BLANK_SIZE {
                doomed.append(f)
            } else {
                break
            }
        }
        files.deleteFirst(doomed)
        if !doomed.isEmpty { correctMinOffset(commitLogMinOffset: commitLogMinOffset) }
        return doomed.count
    }

    /// Files with unflushed units and the positions to mark once synced.
    func dirtyFiles() -> [(MappedFile, Int64)] {
        files.mappedFiles.compactMap { f in
            let w = f.wrotePosition
            return w > f.flushedPosition ? (f, w) : nil
        }
    }

    func destroy() {
        files.destroyAll()
        state.withLock { $0 = State() }
    }
}
