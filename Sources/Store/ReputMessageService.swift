// ReputMessageService: the one dispatcher thread (store.md §6.6). Follows the CommitLog from the reput
// offset up to the confirm offset (the flushed offset under SYNC_FLUSH, else the max offset, §4.3),
// parses records without CRC or body reads, and hands each to the CommitLogDispatcher.
import CStore
import Glibc
import Synchronization
import Logging

final class ReputMessageService: Sendable {
    private let commitLog: CommitLog
    private let thread = ServiceThread(name: "ReputMessageService")
    // Sendable because: the dispatcher is used only by the reput thread once started (recovery used it
    // before, on the starting thread, strictly before `start`).
    private nonisolated(unsafe) let dispatcher: CommitLogDispatcher
    /// Next CommitLog byte to dispatch. Written by the reput thread (release); read by anyone (acquire).
    private let reputFromOffsetAtomic = Atomic<Int64>(0)
    private let syncFlush: Bool
    private let logger: Logger
    /// Set while a record cannot be dispatched (no room for a ConsumeQueue file, a corrupt record): the
    /// store then refuses new messages, which consumers could not see (issue 15).
    private let stalledAtomic = Atomic<Bool>(false)
    /// Held for each dispatch pass, so a replica's truncation (controller mode) can move `reputFromOffset`
    /// back without a pass in flight writing its old position over it. Uncontended otherwise: one lock per
    /// pass (at most every millisecond), never per put.
    private let passLock = Mutex<Void>(())

    init(commitLog: CommitLog, dispatcher: CommitLogDispatcher, syncFlush: Bool, logger: Logger) {
        self.commitLog = commitLog
        self.dispatcher = dispatcher
        self.syncFlush = syncFlush
        self.logger = logger
    }

    var reputFromOffset: Int64 {
        get { reputFromOffsetAtomic.load(ordering: .acquiring) }
        set { reputFromOffsetAtomic.store(newValue, ordering: .releasing) }
    }

    /// Controller mode with allAckInSyncStateSet, on a master: what every SyncStateSet member holds (RocketMQ's
    /// confirm offset), so consumers see only what a failover keeps; `Int64.max` otherwise. Written by the
    /// broker's HAService; read once per pass (relaxed: the bytes below it are published by `maxOffset`, which
    /// the same pass loads with acquire).
    private let confirmCeiling = Atomic<Int64>(.max)

    /// Where dispatch may read up to (store.md §4.3), and no further than the confirm offset.
    var endOffset: Int64 {
        min(syncFlush ? commitLog.flushedWhere : commitLog.maxOffset, confirmCeiling.load(ordering: .relaxed))
    }

    func setConfirmCeiling(_ offset: Int64) { confirmCeiling.store(offset, ordering: .relaxed) }

    /// True while dispatch is stuck on a record (retried every second).
    var isStalled: Bool { stalledAtomic.load(ordering: .relaxed) }

    /// Bytes written but not yet dispatched.
    var behindBytes: Int64 { max(0, endOffset - reputFromOffset) }

    func start() {
        thread.start { [self] t in
            while !t.isStopped {
                t.waitForRunning(1)
                let progressed = passLock.withLock { _ in doReput() }
                if stalledAtomic.load(ordering: .relaxed) == progressed {
                    stalledAtomic.store(!progressed, ordering: .relaxed)
                    if progressed { logger.info("dispatch proceeds again at CommitLog offset \(reputFromOffset): accepting messages") }
                }
                if !progressed {
                    // A failed dispatch (e.g. no space for a new ConsumeQueue file) is retried once a
                    // second, as RocketMQ does, instead of spinning.
                    t.waitForRunning(1000)
                }
            }
            _ = passLock.withLock { _ in doReput() } // catch up before stopping
        }
    }

    func wakeup() { thread.wakeup() }

    /// Shuts down after dispatch caught up (bounded by 5 s, as RocketMQ waits at shutdown).
    func shutdown() {
        let deadline = monotonicNs() + 5_000_000_000
        while behindBytes > 0 && monotonicNs() < deadline { thread.wakeup(); sleepOneMs() }
        thread.shutdown()
    }

    func resetCache() { dispatcher.resetCache() }

    /// Runs `body` between two dispatch passes (a replica's truncation).
    func withDispatchPaused<T>(_ body: () -> T) -> T { passLock.withLock { _ in body() } }

    /// Builds the index entries of the records in [`from`, `to`) again (a replica's truncation dropped the
    /// index files holding them). Only inside `withDispatchPaused`; `from` is a record start (or below the
    /// CommitLog's min offset).
    func reindex(from: Int64, to end: Int64) -> Int {
        var from = max(from, commitLog.minOffset)
        var records = 0
        while from < end, let file = commitLog.queue.findMappedFile(offset: from) {
            let limit = min(file.wrotePosition, end - file.startOffset)
            var pos = from - file.startOffset
            var rolled = false
            while pos < limit {
                var info = apus_record_info()
                let kind = apus_record_check(file.base + Int(pos), Int(limit - pos), 0, &info)
                if kind == APUS_RECORD_BLANK {
                    rolled = true
                    break
                }
                if kind < 0 {
                    logger.error("re-indexing stopped at CommitLog offset \(file.startOffset + pos) (errno \(-kind))")
                    return records
                }
                dispatcher.dispatchIndex(record: file.base + Int(pos), info: info)
                records += 1
                pos += Int64(info.total_size)
            }
            let next = rolled ? file.endOffset : file.startOffset + pos
            if next <= from { break }
            from = next
        }
        return records
    }

    /// Dispatches what is available; false if a record could not be dispatched.
    @discardableResult
    private func doReput() -> Bool {
        var from = reputFromOffset
        let end = endOffset
        var passBytes: Int64 = 0
        while from < end && passBytes < StoreLimits.dispatchPassBytesMax {
            let minOffset = commitLog.minOffset
            if minOffset >= 0 && from < minOffset {
                logger.warning("reput offset \(from) below CommitLog min \(minOffset) (files deleted): jumping")
                from = minOffset
                continue
            }
            guard let file = commitLog.queue.findMappedFile(offset: from) else { break }
            let limit = min(file.wrotePosition, end - file.startOffset)
            var pos = from - file.startOffset
            var rolled = false
            while pos < limit {
                var info = apus_record_info()
                let kind = apus_record_check(file.base + Int(pos), Int(limit - pos), 0, &info)
                if kind == APUS_RECORD_BLANK {
                    from = file.endOffset
                    rolled = true
                    break
                }
                if kind == -ENODATA { break } // record beyond the end offset: next round
                if kind < 0 {
                    logger.error("reput stopped: corrupt record at CommitLog offset \(file.startOffset + pos) (errno \(-kind))")
                    reputFromOffset = file.startOffset + pos
                    return false
                }
                do {
                    try dispatcher.dispatch(record: file.base + Int(pos), info: info)
                } catch {
                    logger.error("dispatch failed at CommitLog offset \(file.startOffset + pos): \(error); retrying in 1 s")
                    reputFromOffset = file.startOffset + pos
                    return false
                }
                pos += Int64(info.total_size)
                passBytes += Int64(info.total_size)
                from = file.startOffset + pos
                reputFromOffset = from
            }
            reputFromOffset = from
            if !rolled { break }
        }
        reputFromOffset = from
        return true
    }
}

func sleepOneMs() {
    var ts = timespec(tv_sec: 0, tv_nsec: 1_000_000)
    nanosleep(&ts, nil)
}
