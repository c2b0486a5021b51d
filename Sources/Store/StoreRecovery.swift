// StoreRecovery: brings the store back to a consistent state at start (store.md §9). ConsumeQueues are
// cut to their valid units; the CommitLog is scanned from a safe file (normal: the newest whose first
// record is already dispatched; abnormal: the newest whose first record is older than the checkpoint's
// minTimestamp), validating each record (CRC when checkCRCOnRecover) and dispatching what the queues
// lack; the log is cut at the end of the last valid record and queues pointing past it are cut too.
// Runs on the starting thread before any service thread.
import CStore
import Glibc
import Logging

struct StoreRecovery {
    let commitLog: CommitLog
    let consumeQueues: ConsumeQueueStore
    let index: IndexService?
    let dispatcher: CommitLogDispatcher
    let checkpoint: StoreCheckpoint
    let checkCRC: Bool
    let messageIndexSafe: Bool
    let logger: Logger

    struct Outcome {
        var processOffset: Int64
        var dispatchedRecords: Int
        var truncatedBytes: Int64
        var startFile: Int64
    }

    /// The first record of `file`, if it is a valid message.
    private func firstRecord(_ file: MappedFile) -> apus_record_info? {
        var info = apus_record_info()
        let kind = apus_record_check(file.base, Int(file.sizeBytes), checkCRC ? 1 : 0, &info)
        return kind == APUS_RECORD_MESSAGE ? info : nil
    }

    func recover(lastExitOK: Bool) throws(StoreError) -> Outcome {
        let dispatchFrom = consumeQueues.recover()
        let files = commitLog.queue.mappedFiles
        guard !files.isEmpty else {
            if !consumeQueues.all.isEmpty { logger.warning("no CommitLog files: destroying every ConsumeQueue") }
            consumeQueues.destroyAll()
            index?.destroyAll()
            return Outcome(processOffset: 0, dispatchedRecords: 0, truncatedBytes: 0, startFile: 0)
        }
        let indexTs = checkpoint.indexMsgTimestampMs
        let minTs = checkpoint.minTimestampMs
        var startIndex = 0
        for i in stride(from: files.count - 1, through: 0, by: -1) {
            guard let info = firstRecord(files[i]), info.store_timestamp_ms != 0 else { continue }
            if messageIndexSafe && info.store_timestamp_ms > indexTs { continue }
            let ok = lastExitOK ? info.physical_offset <= dispatchFrom : info.store_timestamp_ms <= minTs
            if ok { startIndex = i; break }
        }
        logger.info("\(lastExitOK ? "normal" : "abnormal") recovery from CommitLog file \(MappedFile.fileName(forOffset: files[startIndex].startOffset)), ConsumeQueues dispatched up to \(dispatchFrom)")

        // Pass 1 validates (CRC included) and finds where the log really ends. ConsumeQueues are cut
        // there before anything is dispatched: a queue holding units past the end (a ConsumeQueue
        // longer than the log) would otherwise make re-dispatch of the real records look redundant.
        var processOffset = files[startIndex].startOffset
        let stop = forEachRecord(files, from: startIndex, checkCRC: checkCRC, logStop: true) { _, _, end in processOffset = end }
        // Only bytes that were written count as cut: the zero rest of the last file (and a zero file made
        // ahead) is room for the next message, and a clean restart reports no cut.
        let cutBytes = stop.isGarbage ? writtenBytes(files, from: processOffset) : 0
        let referenced = consumeQueues.all.map { $0.maxPhysicalEnd }.max() ?? -1
        if referenced > processOffset {
            logger.warning("ConsumeQueues reference CommitLog bytes up to \(referenced), past its end \(processOffset): cutting them")
        }
        consumeQueues.truncateDirty(physicalOffset: processOffset)
        let dispatchedUpTo = min(dispatchFrom, consumeQueues.all.map { $0.maxPhysicalEnd }.max() ?? -1)

        // Pass 2 dispatches what the queues lack (abnormal: everything; CQ writes are idempotent).
        var dispatched = 0
        var failure: StoreError? = nil
        forEachRecord(files, from: startIndex, checkCRC: false, logStop: false) { base, info, end in
            guard failure == nil, end <= processOffset else { return }
            if !lastExitOK || info.physical_offset >= dispatchedUpTo {
                do {
                    try dispatcher.dispatch(record: base, info: info)
                    dispatched += 1
                } catch let e as StoreError {
                    failure = e
                } catch {
                    failure = StoreError(.io, "\(error)")
                }
            }
            commitLog.lastStoreTimestampMs = info.store_timestamp_ms
        }
        if let failure { throw failure }
        if cutBytes > 0 { erase(files, from: processOffset, count: cutBytes) }
        commitLog.queue.truncateDirtyFiles(offset: processOffset)
        commitLog.resetTail()
        commitLog.flushedWhere = processOffset
        checkpoint.confirmPhysicalOffset = processOffset
        return Outcome(processOffset: processOffset, dispatchedRecords: dispatched,
                       truncatedBytes: cutBytes, startFile: files[startIndex].startOffset)
    }

    /// Why the scan of the log stopped.
    enum Stop: Equatable {
        /// No room for another record, or a zero header: the data written so far ends here.
        case endOfData
        /// Bytes that are not a valid record at their place (a torn or corrupt write).
        case garbage

        var isGarbage: Bool { self == .garbage }
    }

    /// Zeroes the cut bytes of the file holding `offset` (later files are deleted by the cut) and syncs
    /// them. Valid records can sit behind garbage; left in place, a later crash whose last record ends
    /// exactly where one of them starts would make the next scan take them (and their stale queue offsets)
    /// as new. Rare: only after a cut.
    private func erase(_ files: [MappedFile], from offset: Int64, count: Int64) {
        guard let f = files.first(where: { $0.startOffset <= offset && offset < $0.endOffset }) else { return }
        let pos = offset - f.startOffset
        let n = min(count, f.sizeBytes - pos)
        (f.base + Int(pos)).update(repeating: 0, count: Int(n))
        let page = Int64(sysconf(Int32(_SC_PAGESIZE)))
        let from = pos - pos % page
        if msync(UnsafeMutableRawPointer(f.base + Int(from)), Int(pos + n - from), MS_SYNC) != 0 {
            logger.warning("could not sync the erased CommitLog tail of \(f.path): errno \(errno)")
        }
    }

    /// Bytes from `offset` up to the last non-zero byte of every file at or after it: what a cut there
    /// throws away. Only called when the scan stopped at garbage (a rare start), since it reads the rest
    /// of the files.
    private func writtenBytes(_ files: [MappedFile], from offset: Int64) -> Int64 {
        var lastNonZero: Int64 = offset
        for f in files where f.endOffset > offset {
            let from = max(offset, f.startOffset) - f.startOffset
            var i = f.sizeBytes
            while i > from && f.base[Int(i - 1)] == 0 { i -= 1 }
            if i > from { lastNonZero = f.startOffset + i }
        }
        return lastNonZero - offset
    }

    /// Walks valid records from file `startIndex` on, crossing BLANK fillers into the next file, and
    /// calls `body(recordStart, info, recordEnd)` for each. Stops at the first invalid record.
    /// Returns why it stopped.
    @discardableResult
    private func forEachRecord(_ files: [MappedFile], from startIndex: Int, checkCRC: Bool, logStop: Bool,
                               _ body: (UnsafeMutablePointer<UInt8>, apus_record_info, Int64) -> Void) -> Stop {
        var i = startIndex
        scan: while i < files.count {
            let f = files[i]
            var pos: Int64 = 0
            while true {
                if f.sizeBytes - pos < 8 { return .endOfData }
                var info = apus_record_info()
                let kind = apus_record_check(f.base + Int(pos), Int(f.sizeBytes - pos), checkCRC ? 1 : 0, &info)
                if kind == APUS_RECORD_BLANK {
                    i += 1
                    continue scan
                }
                if kind < 0 {
                    // A zero header is where writing stopped (the unused rest of the file), not damage.
                    guard info.magic != 0 || info.total_size != 0 else { return .endOfData }
                    if logStop {
                        logger.warning("CommitLog ends at \(f.startOffset + pos): \(Self.reason(kind)) (torn or corrupt tail is cut)")
                    }
                    return .garbage
                }
                if info.physical_offset != f.startOffset + pos {
                    if logStop { logger.warning("CommitLog record at \(f.startOffset + pos) claims offset \(info.physical_offset): cut here") }
                    return .garbage
                }
                pos += Int64(info.total_size)
                body(f.base + Int(pos - Int64(info.total_size)), info, f.startOffset + pos)
            }
        }
        return .endOfData
    }

    static func reason(_ rc: Int32) -> String {
        switch -rc {
        case ENODATA: return "record runs past the written data"
        case EILSEQ: return "body CRC mismatch"
        default: return "not a valid record"
        }
    }
}
