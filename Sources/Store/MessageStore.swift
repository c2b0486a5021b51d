// MessageStore: the store's public face (RocketMQ's DefaultMessageStore without the god class).
// `init` takes the lock file, loads every file and recovers; `start` starts the service threads and
// marks the store running (abort file); `shutdown` flushes, checkpoints and removes the abort file.
// Puts encode on the caller's thread, append under the CommitLog's put lock, and complete either at
// once (ASYNC_FLUSH) or from the group-commit thread (SYNC_FLUSH) — no caller thread ever blocks on a
// flush. Reads (getMessage, lookMessage, queryMessage) run on any thread without locks on the data.
import CStore
import Glibc
import Logging
import Synchronization

public final class MessageStore: Sendable {
    /// The settings as they stand: the start-up ones with UPDATE_BROKER_CONFIG's changes (StoreLiveSettings).
    public var config: MessageStoreConfig { settings.current }
    /// What may change while the store runs, and the changes made so far.
    public let settings: StoreLiveSettings
    /// The start-up settings, for what the put path reads (role, flush mode): no lock per message.
    private let boot: MessageStoreConfig
    /// `brokerRole` as `BrokerRole.code`; see `brokerRole`.
    let roleCode: Atomic<UInt8>
    let logger: Logger
    let commitLog: CommitLog
    let consumeQueues: ConsumeQueueStore
    let index: IndexService?
    let checkpoint: StoreCheckpoint
    private let lockFile: StoreLockFile
    private let allocator: AllocateMappedFileService
    let reput: ReputMessageService
    private let flushService: FlushCommitLogService?
    private let commitService: CommitRealTimeService?
    private let groupCommit: GroupCommitService?
    private let flushConsumeQueue: FlushConsumeQueueService
    private let clean: CleanCommitLogService
    private let encoder: MessageEncoder
    private let shutdownRing: IORing
    /// Reads of data that is not in the page cache, through io_uring (see ColdReadService).
    public let coldReads: ColdReadService
    /// The recovery that ran in init (for logs and tests).
    public let recoveryReport: RecoveryReport
    private let running = Atomic<Bool>(false)
    private let physicalMemoryBytes: Int64
    /// SYNC_MASTER's replica acknowledgements (the broker's HA service); nil elsewhere.
    let replicaAckWaiter = Mutex<(any ReplicaAckWaiting)?>(nil)

    public struct RecoveryReport: Sendable {
        public let lastExitOK: Bool
        public let processOffset: Int64
        public let dispatchedRecords: Int
        public let truncatedBytes: Int64
    }

    /// Opens the store at `config.storePathRootDir`: takes the lock (a second process fails at once),
    /// loads and recovers. `onMessageArriving` is called on the dispatcher thread for each new message.
    public init(config: MessageStoreConfig, logger: Logger = Logger(label: "apus.store"),
                onMessageArriving: (@Sendable (MessageArrival) -> Void)? = nil) throws {
        boot = config
        roleCode = Atomic(config.brokerRole.code)
        let settings = StoreLiveSettings(config)
        self.settings = settings
        self.logger = logger
        try makeDirectories(config.storePathRootDir)
        ServiceThread.niceness.store(Int32(clamping: min(max(config.storeServiceThreadNice, 0), 19)), ordering: .relaxed)
        lockFile = try StoreLockFile(path: config.lockPath)
        let lastExitOK = !AbortFile.exists(config.abortPath)

        let pool: TransientStorePool? = config.isTransientStorePoolEnabled
            ? try TransientStorePool(count: Int(config.transientStorePoolSize), bufferBytes: Int(config.mappedFileSizeCommitLogBytes), logger: logger)
            : nil
        if config.transientStorePoolEnable && pool == nil {
            logger.warning("transientStorePoolEnable ignored: it needs ASYNC_FLUSH on a master and transientStorePoolSize > 0")
        }
        allocator = try AllocateMappedFileService(directory: config.commitLogPath, fileSizeBytes: config.mappedFileSizeCommitLogBytes,
                                                  config: config, pool: pool, logger: logger)
        let queue = MappedFileQueue(directory: config.commitLogPath, fileSizeBytes: config.mappedFileSizeCommitLogBytes)
        try queue.load()
        commitLog = CommitLog(queue: queue, allocator: allocator, storeHost: config.storeHost, pool: pool)
        consumeQueues = ConsumeQueueStore(rootDirectory: config.consumeQueuePath, fileSizeBytes: config.consumeQueueFileBytes)
        try consumeQueues.load()
        checkpoint = try StoreCheckpoint(path: config.checkpointPath)
        if config.messageIndexEnable {
            let idx = IndexService(directory: config.indexPath, slotNum: config.maxHashSlotNum, indexNum: config.maxIndexNum, logger: logger)
            try idx.load(lastExitOK: lastExitOK, indexMsgTimestampMs: checkpoint.indexMsgTimestampMs)
            index = idx
        } else {
            index = nil
        }
        let dispatchRing = try IORing(config: config)
        let dispatcher = CommitLogDispatcher(consumeQueues: consumeQueues, index: index, checkpoint: checkpoint,
                                             ring: dispatchRing, listener: onMessageArriving,
                                             delayLevelTableMs: config.delayLevelTableMs, logger: logger)
        let recovery = StoreRecovery(commitLog: commitLog, consumeQueues: consumeQueues, index: index, dispatcher: dispatcher,
                                     checkpoint: checkpoint, checkCRC: config.checkCRCOnRecover,
                                     messageIndexSafe: config.messageIndexSafe, logger: logger)
        let outcome = try recovery.recover(lastExitOK: lastExitOK)
        recoveryReport = RecoveryReport(lastExitOK: lastExitOK, processOffset: outcome.processOffset,
                                        dispatchedRecords: outcome.dispatchedRecords, truncatedBytes: outcome.truncatedBytes)
        commitLog.setTopicQueueTable(consumeQueues.topicQueueTable())
        let minPhysical = commitLog.minOffset
        if minPhysical > 0 { for cq in consumeQueues.all { cq.correctMinOffset(commitLogMinOffset: minPhysical) } }

        let syncFlush = config.flushDiskType == .syncFlush
        reput = ReputMessageService(commitLog: commitLog, dispatcher: dispatcher, syncFlush: syncFlush && !config.readUnCommitted, logger: logger)
        reput.reputFromOffset = outcome.processOffset
        let flushRing = try IORing(config: config, sqPoll: config.ioUringSqPoll)
        flushRing.logBackend(logger, role: "store flush")
        if syncFlush {
            commitService = nil
            groupCommit = GroupCommitService(commitLog: commitLog, checkpoint: checkpoint, ring: flushRing,
                                             syncFlushTimeoutMs: config.syncFlushTimeoutMs, logger: logger)
            flushService = nil
        } else {
            let flush = FlushCommitLogService(commitLog: commitLog, checkpoint: checkpoint, ring: flushRing, settings: settings, logger: logger)
            flushService = flush
            groupCommit = nil
            // Committed bytes are dirty pages: let an untimed flush service see them at once.
            commitService = pool == nil ? nil : CommitRealTimeService(commitLog: commitLog, settings: settings, logger: logger) {
                if !config.flushCommitLogTimed { flush.wakeup() }
            }
        }
        flushConsumeQueue = FlushConsumeQueueService(consumeQueues: consumeQueues, checkpoint: checkpoint, ring: try IORing(config: config),
                                                     settings: settings, logger: logger)
        let reputService = reput
        clean = CleanCommitLogService(commitLog: commitLog, consumeQueues: consumeQueues, index: index, settings: settings,
                                      dispatchedOffset: { reputService.reputFromOffset }, logger: logger)
        encoder = MessageEncoder(storeHost: config.storeHost, bodyBytesMax: config.maxMessageSizeBytes)
        shutdownRing = try IORing(config: config)
        coldReads = ColdReadService(config: config)
        physicalMemoryBytes = Int64(sysconf(Int32(_SC_PHYS_PAGES))) * Int64(sysconf(Int32(_SC_PAGESIZE)))
        logger.info("store loaded: \(lastExitOK ? "clean" : "abnormal") previous exit, CommitLog \(commitLog.minOffset < 0 ? "empty" : "[\(commitLog.minOffset), \(commitLog.maxOffset))"), \(consumeQueues.all.count) ConsumeQueues, \(outcome.dispatchedRecords) records dispatched by recovery, \(outcome.truncatedBytes > 0 ? "\(outcome.truncatedBytes) bytes past the valid tail cut" : "no tail cut")")
    }

    /// Starts the service threads and creates the abort file.
    public func start(cleanFirstDelayMs: Int64 = 60_000) {
        precondition(!running.load(ordering: .relaxed), "store started twice")
        allocator.start()
        reput.start()
        commitService?.start()
        flushService?.start()
        groupCommit?.start()
        flushConsumeQueue.start()
        clean.start(firstDelayMs: cleanFirstDelayMs)
        AbortFile.create(boot.abortPath)
        running.store(true, ordering: .releasing)
    }

    /// Stops accepting puts, lets dispatch catch up, flushes everything, writes the checkpoint and
    /// removes the abort file (only if dispatch caught up, so the next start knows the state is clean).
    public func shutdown() {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        clean.shutdown()
        groupCommit?.shutdown()
        commitService?.shutdown()
        flushService?.shutdown()
        reput.shutdown()
        flushConsumeQueue.shutdown()
        var clean = true
        do {
            try commitLog.flush(ring: shutdownRing)
            try consumeQueues.flush(ring: shutdownRing)
            if let ts = try index?.flushLast(ring: shutdownRing) { checkpoint.indexMsgTimestampMs = ts }
            checkpoint.physicMsgTimestampMs = max(checkpoint.physicMsgTimestampMs, commitLog.lastStoreTimestampMs)
            checkpoint.confirmPhysicalOffset = commitLog.maxOffset
            try checkpoint.flush()
        } catch {
            logger.error("flush at shutdown failed: \(error)")
            clean = false
        }
        allocator.shutdown()
        if clean && reput.behindBytes == 0 {
            AbortFile.remove(boot.abortPath)
        } else {
            logger.warning("store shut down with work left (dispatch behind \(reput.behindBytes) bytes): next start recovers abnormally")
        }
    }

    public var isRunning: Bool { running.load(ordering: .acquiring) }

    // MARK: put

    private func refusal() -> PutMessageResult? {
        if !running.load(ordering: .acquiring) { return PutMessageResult(status: .serviceNotAvailable, remark: "the store is not running") }
        if isSlave { return PutMessageResult(status: .serviceNotAvailable, remark: "a slave does not accept messages") }
        if clean.isDiskFull { return PutMessageResult(status: .serviceNotAvailable, remark: "disk full: the store refuses new messages") }
        // Messages stored while dispatch cannot proceed would be acknowledged and never delivered.
        if reput.isStalled { return PutMessageResult(status: .serviceNotAvailable, remark: "dispatch is stuck (see the log): the store refuses new messages until it proceeds") }
        if let g = groupCommit, g.isFull { return PutMessageResult(status: .flushQueueFull, remark: "too many puts waiting for flush") }
        if isOSPageCacheBusy { return PutMessageResult(status: .osPageCacheBusy, remark: "[PC_SYNCHRONIZED]broker busy, start flow control for a while") }
        return nil
    }

    /// RocketMQ's isOSPageCacheBusy: the put lock has been held longer than osPageCacheBusyTimeOutMills
    /// (a writer stuck on the disk or the allocator). Cheap: one load.
    public var isOSPageCacheBusy: Bool {
        // Most of the time the lock is free: no clock read then.
        guard commitLog.isPutLockHeld else { return false }
        return commitLog.lockHeldMs(nowMs: currentTimeMs()) > settings.osPageCacheBusyTimeOutMs
    }

    /// A slave takes no puts from clients (RocketMQ's send processor rejects them before they queue).
    public var isSlave: Bool { brokerRole == .slave }

    /// The role now: `brokerRole` at start, changed only in controller mode (`changeToMaster`, `changeToSlave`
    /// in MessageStore+HA.swift). One relaxed load per put: what a promotion prepares (the queue-offset table)
    /// is written under the put lock, which a put then takes, so the lock orders it, not this load.
    public var brokerRole: BrokerRole { BrokerRole.fromCode(roleCode.load(ordering: .relaxed)) }

    /// A put from a thread that must never wait (an event loop): as `putMessage`, except that it does
    /// nothing and returns false when the put would have to wait (the put lock is busy rolling to a new
    /// segment, or the next segment is not ready). `completion` runs only if it returns true.
    public func tryPutMessage(_ message: MessageToStore, completion: @escaping @Sendable (PutMessageResult) -> Void) -> Bool {
        put(message, mayWait: false, completion: completion)
    }

    /// As `tryPutMessage` for a client batch.
    public func tryPutMessages(_ batch: MessageBatchToStore, completion: @escaping @Sendable (PutMessageResult) -> Void) -> Bool {
        put(batch, mayWait: false, completion: completion)
    }

    /// Appends one message. `completion` runs once: at once for ASYNC_FLUSH (or WAIT=false), or on the
    /// group-commit thread when the bytes are durable or syncFlushTimeout passed (FLUSH_DISK_TIMEOUT;
    /// the message is stored all the same).
    public func putMessage(_ message: MessageToStore, completion: @escaping @Sendable (PutMessageResult) -> Void) {
        _ = put(message, mayWait: true, completion: completion)
    }

    /// Appends a client batch: one record per item, consecutive queue offsets, one store timestamp.
    public func putMessages(_ batch: MessageBatchToStore, completion: @escaping @Sendable (PutMessageResult) -> Void) {
        _ = put(batch, mayWait: true, completion: completion)
    }

    private func put(_ message: MessageToStore, mayWait: Bool, completion: @escaping @Sendable (PutMessageResult) -> Void) -> Bool {
        if let r = refusal() { completion(r); return true }
        // WAIT matters only under SYNC_FLUSH; skip the properties scan otherwise.
        let wait = groupCommit == nil || !Self.waitIsFalse(message.properties)
        let key = TopicQueueKey(topic: message.topic, queueId: message.queueId)
        // The body is copied once, from here, under the put lock: encode and append inside its scope.
        return message.body.withUnsafeBufferPointer { body -> Bool in
            let encoded: EncodedMessages
            do throws(EncodeFailure) {
                encoded = try encoder.encode(message, body: body)
            } catch {
                completion(error.result)
                return true
            }
            return finishPut(encoded, key: key, sysFlag: message.sysFlag, waitStoreMsgOK: wait, mayWait: mayWait,
                             completion: completion)
        }
    }

    private func put(_ batch: MessageBatchToStore, mayWait: Bool, completion: @escaping @Sendable (PutMessageResult) -> Void) -> Bool {
        if let r = refusal() { completion(r); return true }
        let tx = batch.sysFlag & APUS_SYSFLAG_TX_MASK
        if tx != APUS_SYSFLAG_TX_NOT_TYPE {
            completion(PutMessageResult(status: .messageIllegal, remark: "transactional batches are not supported"))
            return true
        }
        let encoded: EncodedMessages
        do {
            encoded = try encoder.encode(batch)
        } catch {
            completion(error.result)
            return true
        }
        return finishPut(encoded, key: TopicQueueKey(topic: batch.topic, queueId: batch.queueId), sysFlag: batch.sysFlag,
                         waitStoreMsgOK: true, mayWait: mayWait, completion: completion)
    }

    public func putMessage(_ message: MessageToStore) async -> PutMessageResult {
        await withCheckedContinuation { c in putMessage(message) { c.resume(returning: $0) } }
    }

    public func putMessages(_ batch: MessageBatchToStore) async -> PutMessageResult {
        await withCheckedContinuation { c in putMessages(batch) { c.resume(returning: $0) } }
    }

    /// False (nothing written, completion not run) only when `mayWait` is false and the append would wait.
    private func finishPut(_ encoded: EncodedMessages, key: TopicQueueKey, sysFlag: Int32, waitStoreMsgOK: Bool,
                           mayWait: Bool, completion: @escaping @Sendable (PutMessageResult) -> Void) -> Bool {
        switch commitLog.append(encoded, key: key, sysFlag: sysFlag, mayWait: mayWait) {
        case .failure(.wouldWait):
            return false
        case .failure(.tooLarge):
            completion(PutMessageResult(status: .messageIllegal, remark: "record larger than a CommitLog segment"))
        case .failure(.createMappedFileFailed(let e)):
            logger.error("put failed: \(e)")
            completion(PutMessageResult(status: .createMappedFileFailed, remark: e.message))
        case .success(let append):
            let result = PutMessageResult(status: .putOk, append: append)
            var completion = completion
            if waitStoreMsgOK, brokerRole == .syncMaster, let replicas = replicaAckWaiter.withLock({ $0 }) {
                // Flushed (SYNC_FLUSH) and acknowledged by a slave, both; each may fail on its own.
                let join = ReplicatedPutJoin(completion)
                completion = { join.flushed($0) }
                replicas.waitForReplicas(endOffset: append.physicalOffset + Int64(append.wroteBytes)) { join.replicated($0) }
            }
            if let g = groupCommit {
                if waitStoreMsgOK {
                    g.enqueue(nextOffset: append.physicalOffset + Int64(append.wroteBytes), result: result, completion: completion)
                    return true
                }
            } else if let c = commitService {
                c.wakeup()
            } else if boot.flushCommitLogTimed == false {
                flushService?.wakeup()
            }
            completion(result)
        }
        return true
    }

    private static func waitIsFalse(_ properties: String) -> Bool {
        var p = properties
        return p.withUTF8 { buf in
            guard let base = buf.baseAddress else { return false }
            var pos: UInt32 = 0, len: UInt32 = 0
            guard apus_props_find(base, UInt32(buf.count), "WAIT", 4, &pos, &len) == 1 else { return false }
            return len == 5 && memcmp(base + Int(pos), "false", 5) == 0
        }
    }

    var reputBehindBytes: Int64 { reput.behindBytes }
    func reputWakeup() { reput.wakeup() }
    /// Test hook: makes every group-commit round this much slower (see GroupCommitService).
    func setSlowDiskForTesting(delayMs: UInt64) { groupCommit?.slowDiskDelayNs.store(delayMs * 1_000_000, ordering: .relaxed) }
    func resetDispatchCache() { reput.resetCache() }
    func cleanPass(nowMs: Int64, diskUsedRatio: Double?, dispatchedOffset: Int64? = nil) -> Int {
        clean.runPass(nowMs: nowMs, usedRatioOverride: diskUsedRatio, dispatchedOverride: dispatchedOffset)
    }
    func deleteFilesManually() { clean.executeDeleteFilesManually() }
    var diskFull: Bool { clean.isDiskFull }

    /// fdatasync calls and requests they completed (SYNC_FLUSH), for benchmarks and runtime info.
    public var groupCommitStatistics: (syncs: Int, requests: Int) { groupCommit?.statistics ?? (0, 0) }
}
