// FlushCommitLogService: ASYNC_FLUSH (store.md §4.1). Every flushIntervalCommitLog ms it flushes when
// at least flushCommitLogLeastPages pages are dirty, and everything every
// flushCommitLogThoroughInterval ms; after a thorough round it records physicMsgTimestamp (the store
// time of the last message appended before the flush) in the checkpoint. Runs on its own thread with
// its own ring.
import Logging
import Synchronization

final class FlushCommitLogService: Sendable {
    private let commitLog: CommitLog
    private let checkpoint: StoreCheckpoint
    private let ring: IORing
    /// Interval, least pages and thorough interval are read each round (StoreLiveSettings).
    private let settings: StoreLiveSettings
    private let thread = ServiceThread(name: "FlushRealTimeService")
    private let logger: Logger

    init(commitLog: CommitLog, checkpoint: StoreCheckpoint, ring: IORing, settings: StoreLiveSettings, logger: Logger) {
        self.commitLog = commitLog
        self.checkpoint = checkpoint
        self.ring = ring
        self.settings = settings
        self.logger = logger
    }

    func start() {
        thread.start { [self] t in
            var lastThoroughNs = monotonicNs()
            while !t.isStopped {
                t.waitForRunning(settings.current.flushIntervalCommitLogMs, coalescingNs: StoreLimits.wakeupCoalescingNs)
                let config = settings.current
                let now = monotonicNs()
                let thorough = now - lastThoroughNs >= UInt64(config.flushCommitLogThoroughIntervalMs) * 1_000_000
                if thorough { lastThoroughNs = now }
                if !thorough && commitLog.dirtyPages < config.flushCommitLogLeastPages { continue }
                flushOnce(recordTimestamp: thorough)
            }
            for _ in 0..<10 where commitLog.flushedWhere < commitLog.maxOffset { flushOnce(recordTimestamp: true) }
        }
    }

    func wakeup() { thread.wakeup() }

    private func flushOnce(recordTimestamp: Bool) {
        let storeTs = commitLog.lastStoreTimestampMs
        do {
            try commitLog.flush(ring: ring)
            if recordTimestamp && storeTs > 0 { checkpoint.physicMsgTimestampMs = storeTs }
        } catch {
            logger.error("CommitLog flush failed: \(error)")
        }
    }

    func shutdown() { thread.shutdown() }
}
