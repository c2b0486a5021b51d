// GroupCommitService: completes SYNC_FLUSH puts once their bytes are durable (store.md §4.2).
// Owns the bounded list of pending requests; its thread wakes on a put (or every 10 ms), runs one
// batched fdatasync covering everything written so far, and completes every request it covered:
// many puts share one fdatasync ("group commit"). A watcher thread completes requests whose
// syncFlushTimeout passed with FLUSH_DISK_TIMEOUT even while an fdatasync hangs. Each request is
// completed exactly once: whoever removes it from the list completes it.
import Glibc
import Logging
import Synchronization

final class GroupCommitService: Sendable {
    struct Request: Sendable {
        let nextOffset: Int64
        let deadlineNs: UInt64
        let result: PutMessageResult
        let completion: @Sendable (PutMessageResult) -> Void
    }

    private let commitLog: CommitLog
    private let checkpoint: StoreCheckpoint
    private let ring: IORing
    private let timeoutNs: UInt64
    private let pending = Mutex<[Request]>([])
    private let pendingCount = Atomic<Int>(0)
    private let thread = ServiceThread(name: "GroupCommitService")
    private let watcher = ServiceThread(name: "FlushDiskWatcher")
    private let logger: Logger
    /// Test hook: extra time each group-commit round takes before it syncs (a slow disk), so tests can
    /// drive FLUSH_DISK_TIMEOUT. Zero outside tests.
    let slowDiskDelayNs = Atomic<UInt64>(0)
    /// fdatasync calls made and requests completed by them (for benchmarks: requests per sync).
    private let stats = Mutex<(syncs: Int, requests: Int)>((0, 0))

    init(commitLog: CommitLog, checkpoint: StoreCheckpoint, ring: IORing, syncFlushTimeoutMs: Int64, logger: Logger) {
        self.commitLog = commitLog
        self.checkpoint = checkpoint
        self.ring = ring
        self.timeoutNs = UInt64(max(1, syncFlushTimeoutMs)) * 1_000_000
        self.logger = logger
    }

    var statistics: (syncs: Int, requests: Int) { stats.withLock { $0 } }

    /// True when the bounded queue has no room; the put is then refused before appending.
    var isFull: Bool { pendingCount.load(ordering: .relaxed) >= StoreLimits.groupCommitRequestsMax }

    /// Queues a request completed once CommitLog bytes up to `nextOffset` are durable.
    func enqueue(nextOffset: Int64, result: PutMessageResult, completion: @escaping @Sendable (PutMessageResult) -> Void) {
        let request = Request(nextOffset: nextOffset, deadlineNs: monotonicNs() + timeoutNs, result: result, completion: completion)
        pending.withLock { $0.append(request) }
        pendingCount.add(1, ordering: .relaxed)
        thread.wakeup()
    }

    func start() {
        thread.start { [self] t in
            var lastBatch = 0
            while !t.isStopped {
                t.waitForRunning(10)
                gather(t, expecting: lastBatch)
                lastBatch = doCommit()
            }
            sleepOneMs()
            doCommit()
            completeAll(status: .flushDiskTimeout)
        }
        watcher.start { [self] t in
            while !t.isStopped {
                t.waitForRunning(10)
                let now = monotonicNs()
                complete(status: .flushDiskTimeout) { $0.deadlineNs <= now }
            }
        }
    }

    /// Group commit's batching: writers whose puts the last fdatasync completed come back within
    /// microseconds, so before the next fdatasync wait (briefly) until about as many requests are
    /// pending as the last sync completed. One writer never waits (it expects 1); the wait is bounded
    /// by `gatherWindowNs` so a writer that went away costs at most that.
    private func gather(_ t: ServiceThread, expecting lastBatch: Int) {
        guard lastBatch > 1 else { return }
        let want = lastBatch * 3 / 4
        let deadline = monotonicNs() + Self.gatherWindowNs
        while pendingCount.load(ordering: .relaxed) < want && !t.isStopped {
            let now = monotonicNs()
            if now >= deadline { break }
            t.waitForRunning(nanoseconds: deadline - now)
        }
    }

    /// Longest a flush waits for a batch to form (well under one fdatasync on slow disks).
    static let gatherWindowNs: UInt64 = 1_000_000

    @discardableResult
    private func doCommit() -> Int {
        let waiting = pendingCount.load(ordering: .relaxed)
        guard waiting > 0 || commitLog.flushedWhere < commitLog.maxOffset else { return 0 }
        let storeTs = commitLog.lastStoreTimestampMs
        let delay = slowDiskDelayNs.load(ordering: .relaxed)
        if delay > 0 {
            var ts = timespec(tv_sec: Int(delay / 1_000_000_000), tv_nsec: Int(delay % 1_000_000_000))
            nanosleep(&ts, nil)
        }
        let flushed: Int64
        do {
            flushed = try commitLog.flush(ring: ring)
        } catch {
            logger.error("group commit fdatasync failed: \(error)")
            return 0 // requests stay queued; the watcher times them out if this persists
        }
        if storeTs > 0 { checkpoint.physicMsgTimestampMs = storeTs }
        let done = complete(status: .putOk) { $0.nextOffset <= flushed }
        if done > 0 { stats.withLock { $0.syncs += 1; $0.requests += done } }
        return done
    }

    /// Removes the requests matching `predicate` under the lock, completes them outside it.
    @discardableResult
    private func complete(status: PutMessageStatus, where predicate: (Request) -> Bool) -> Int {
        let taken: [Request] = pending.withLock { list in
            var keep: [Request] = []
            var take: [Request] = []
            for r in list { if predicate(r) { take.append(r) } else { keep.append(r) } }
            list = keep
            return take
        }
        if taken.isEmpty { return 0 }
        pendingCount.subtract(taken.count, ordering: .relaxed)
        for r in taken {
            var result = r.result
            result.status = status
            if status == .flushDiskTimeout { result.remark = "flush disk timeout after \(timeoutNs / 1_000_000) ms; the message is stored" }
            r.completion(result)
        }
        return taken.count
    }

    private func completeAll(status: PutMessageStatus) { complete(status: status) { _ in true } }

    func shutdown() {
        thread.shutdown()
        watcher.shutdown()
    }
}
