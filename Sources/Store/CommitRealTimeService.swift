// CommitRealTimeService: with a TransientStorePool (store.md §3.12), moves appended bytes from the
// write buffers into the CommitLog files. Every commitIntervalCommitLog ms, or when a put wakes it, it
// commits once at least commitCommitLogLeastPages pages are pending, and everything every
// commitCommitLogThoroughInterval ms; whatever it commits becomes visible to dispatch and readers and
// is then flushed by the flush service. At shutdown it commits everything that is left.
import Logging

final class CommitRealTimeService: Sendable {
    private let commitLog: CommitLog
    /// Interval, least pages and thorough interval are read each round (StoreLiveSettings).
    private let settings: StoreLiveSettings
    private let thread = ServiceThread(name: "CommitRealTimeService")
    private let onCommitted: @Sendable () -> Void
    private let logger: Logger

    init(commitLog: CommitLog, settings: StoreLiveSettings, logger: Logger, onCommitted: @escaping @Sendable () -> Void) {
        self.commitLog = commitLog
        self.settings = settings
        self.logger = logger
        self.onCommitted = onCommitted
    }

    func start() {
        thread.start { [self] t in
            var lastThoroughNs = monotonicNs()
            while !t.isStopped {
                t.waitForRunning(settings.current.commitIntervalCommitLogMs, coalescingNs: StoreLimits.wakeupCoalescingNs)
                let config = settings.current
                let now = monotonicNs()
                var leastPages = Int(config.commitCommitLogLeastPages)
                if now - lastThoroughNs >= UInt64(max(0, config.commitCommitLogThoroughIntervalMs)) * 1_000_000 {
                    lastThoroughNs = now
                    leastPages = 0
                }
                commitOnce(leastPages: leastPages)
            }
        }
    }

    /// Cheap while a wake-up is pending (one atomic load), so every put may call it.
    func wakeup() { thread.wakeup() }

    @discardableResult
    private func commitOnce(leastPages: Int) -> Int64 {
        do {
            let n = try commitLog.commit(leastPages: leastPages)
            if n > 0 { onCommitted() }
            return n
        } catch {
            logger.error("CommitLog commit failed: \(error)")
            return -1
        }
    }

    /// Stops the thread, then commits what the writers left (they have stopped by now).
    func shutdown() {
        thread.shutdown()
        var rounds = 0
        while rounds < 10 && commitOnce(leastPages: 0) > 0 { rounds += 1 }
    }
}
