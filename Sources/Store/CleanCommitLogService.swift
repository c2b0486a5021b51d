// CleanCommitLogService: retention (store.md §10). Every cleanResourceInterval ms (after a first
// delay) it decides whether to delete: at a `deleteWhen` hour, when the disk is fuller than
// diskMaxUsedSpaceRatio, or at once (forcibly) past diskSpaceCleanForciblyRatio; past
// diskSpaceWarningLevelRatio the store also refuses writes until space returns. Deletes CommitLog files
// oldest first (never the active one, never with a hole, at most deleteFileBatchMax per pass) that are
// older than fileReservedTime or forced, then the ConsumeQueue and index files pointing below the new
// min offset.
import Glibc
import Logging
import Synchronization

final class CleanCommitLogService: Sendable {
    private let commitLog: CommitLog
    private let consumeQueues: ConsumeQueueStore
    private let index: IndexService?
    /// Retention keys are read each pass (StoreLiveSettings), so UPDATE_BROKER_CONFIG changes the next one.
    private let settings: StoreLiveSettings
    private let thread = ServiceThread(name: "CleanCommitLogService")
    private let logger: Logger
    private let diskFullAtomic = Atomic<Bool>(false)
    private let manualPasses = Atomic<Int>(0)
    /// Where dispatch has reached: a CommitLog file holding anything past it is never deleted, forced or
    /// not (its messages were acknowledged and are not consumable yet).
    private let dispatchedOffset: @Sendable () -> Int64

    init(commitLog: CommitLog, consumeQueues: ConsumeQueueStore, index: IndexService?, settings: StoreLiveSettings,
         dispatchedOffset: @escaping @Sendable () -> Int64, logger: Logger) {
        self.dispatchedOffset = dispatchedOffset
        self.commitLog = commitLog
        self.consumeQueues = consumeQueues
        self.index = index
        self.settings = settings
        self.logger = logger
    }

    /// True while the CommitLog's disk is past diskSpaceWarningLevelRatio: puts are refused.
    var isDiskFull: Bool { diskFullAtomic.load(ordering: .relaxed) }

    func start(firstDelayMs: Int64 = 60_000) {
        thread.start { [self] t in
            t.waitForRunning(firstDelayMs)
            while !t.isStopped {
                _ = runPass(nowMs: currentTimeMs())
                t.waitForRunning(settings.current.cleanResourceIntervalMs)
            }
        }
    }

    /// The next 20 passes delete expired files whatever the hour (mqadmin deleteExpiredCommitLog).
    func executeDeleteFilesManually() {
        manualPasses.store(20, ordering: .relaxed)
        thread.wakeup()
    }

    func shutdown() { thread.shutdown() }

    /// Used-space ratio (0...1) of the partition holding `path`, or nil if it cannot be read. As RocketMQ's
    /// UtilAll.getDiskPartitionSpaceUsedPercent (and df's Use%): used / (used + available to users), so
    /// blocks reserved for root count neither as used nor as free. Counting them as used made a disk
    /// df shows 61% full read as 85% and trip the forcible clean.
    static func usedRatio(_ path: String) -> Double? {
        var st = statvfs()
        guard statvfs(path, &st) == 0, st.f_blocks > 0 else { return nil }
        let used = Double(st.f_blocks - st.f_bfree), avail = Double(st.f_bavail)
        guard used + avail > 0 else { return nil }
        return used / (used + avail)
    }

    private func clamp(_ v: Int64, _ lo: Int64, _ hi: Int64) -> Double { Double(min(max(v, lo), hi)) / 100 }

    private func isTimeToDelete(nowMs: Int64, deleteWhen: String) -> Bool {
        var t = time_t(nowMs / 1000)
        var tmv = tm()
        localtime_r(&t, &tmv)
        return deleteWhen.split(separator: ";").contains { Int($0.trimmingCharacters()) == Int(tmv.tm_hour) }
    }

    /// One pass; returns the number of CommitLog files deleted.
    @discardableResult
    func runPass(nowMs: Int64, usedRatioOverride: Double? = nil, dispatchedOverride: Int64? = nil) -> Int {
        let config = settings.current
        let warning = clamp(config.diskSpaceWarningLevelRatioPercent, 35, 90)
        let forcibly = clamp(config.diskSpaceCleanForciblyRatioPercent, 30, 85)
        let maxUsed = clamp(config.diskMaxUsedSpaceRatioPercent, 10, 95)
        var cleanImmediately = false
        var spaceToDelete = false
        for path in [config.commitLogPath, config.consumeQueuePath] {
            guard let r = usedRatioOverride ?? Self.usedRatio(path) else { continue }
            if r > warning {
                if path == config.commitLogPath && !isDiskFull {
                    logger.error("disk of \(path) is \(Int(r * 100))% full (over \(Int(warning * 100))%): refusing new messages until space is freed")
                    diskFullAtomic.store(true, ordering: .relaxed)
                }
                cleanImmediately = true
            } else if r > forcibly {
                cleanImmediately = true
            } else if path == config.commitLogPath && isDiskFull {
                logger.info("disk of \(path) is back to \(Int(r * 100))%: accepting messages again")
                diskFullAtomic.store(false, ordering: .relaxed)
            }
            if r > maxUsed { spaceToDelete = true }
        }
        let manual = manualPasses.load(ordering: .relaxed) > 0
        if manual { manualPasses.subtract(1, ordering: .relaxed) }
        guard isTimeToDelete(nowMs: nowMs, deleteWhen: config.deleteWhen) || spaceToDelete || cleanImmediately || manual else { return 0 }
        let force = config.cleanFileForciblyEnable && cleanImmediately
        let reservedMs = config.fileReservedTimeHours * 3_600_000
        var doomed: [MappedFile] = []
        let dispatched = dispatchedOverride ?? dispatchedOffset()
        for f in commitLog.queue.mappedFiles.dropLast() {
            guard doomed.count < config.deleteFileBatchMax else { break }
            if f.endOffset > dispatched {
                if force { logger.warning("disk full, but CommitLog file \(MappedFile.fileName(forOffset: f.startOffset)) holds messages not dispatched yet: kept") }
                break
            }
            if force || nowMs >= f.lastModifiedMs + reservedMs { doomed.append(f) } else { break }
        }
        guard !doomed.isEmpty else { return 0 }
        logger.info("deleting \(doomed.count) CommitLog file(s) from \(MappedFile.fileName(forOffset: doomed[0].startOffset))\(force ? " (forced: disk full)" : "")")
        commitLog.queue.deleteFirst(doomed)
        let minOffset = commitLog.minOffset
        for cq in consumeQueues.all { _ = cq.deleteExpiredFiles(commitLogMinOffset: minOffset) }
        index?.deleteExpiredFiles(commitLogMinOffset: minOffset)
        return doomed.count
    }
}

extension Substring {
    func trimmingCharacters() -> String { String(self).trimmingWhitespace() }
}
