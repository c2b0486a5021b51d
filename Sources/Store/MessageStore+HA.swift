// The store's side of master/slave replication (broker.md §12): what the broker's HA service reads on a
// master (CommitLog bytes from an offset), what its HA client writes on a slave (the master's bytes at the
// same offsets, then dispatched like local appends), and SYNC_MASTER's wait for a slave's acknowledgement,
// which a put joins with its flush. The network side lives in the broker; the store knows none of it.

import Glibc
import Synchronization

extension BrokerRole {
    var code: UInt8 {
        switch self {
        case .asyncMaster: return 0
        case .syncMaster: return 1
        case .slave: return 2
        }
    }
    static func fromCode(_ code: UInt8) -> BrokerRole {
        switch code {
        case 0: return .asyncMaster
        case 1: return .syncMaster
        default: return .slave
        }
    }
}

/// Waits for replicas to hold a CommitLog offset (the broker's HA service, RocketMQ's GroupTransferService).
public protocol ReplicaAckWaiting: Sendable {
    /// Calls `completion` with `.putOk` once a slave acknowledged `endOffset`, `.flushSlaveTimeout` when
    /// none did within slaveTimeout, or `.slaveNotAvailable` at once when no slave is usable. Never blocks.
    func waitForReplicas(endOffset: Int64, completion: @escaping @Sendable (PutMessageStatus) -> Void)
}

extension MessageStore {
    /// Puts to a SYNC_MASTER store whose WAIT is not false complete only once `waiter` says a slave holds them.
    public func setReplicaAckWaiter(_ waiter: (any ReplicaAckWaiting)?) {
        replicaAckWaiter.withLock { $0 = waiter }
    }

    /// Controller mode, `allAckInSyncStateSet` on a master: consumers see messages only up to `offset`, the CommitLog
    /// offset every SyncStateSet member holds (RocketMQ's confirm offset); nil lifts the bound (a lone master, a
    /// replica, every other mode). Dispatch waits at the bound; what it already dispatched stays visible.
    public func setConfirmOffset(_ offset: Int64?) {
        reput.setConfirmCeiling(offset ?? .max)
        if offset != nil { reputWakeup() }
    }

    /// Where a new slave (one reporting offset 0) starts: the first byte of the master's last file.
    public var replicationStartForNewSlave: Int64 {
        let max = commitLog.maxOffset
        return max - max % commitLog.queue.fileSizeBytes
    }

    /// Written CommitLog bytes from `offset` on, within the file holding it, at most `maxBytes`; nil when
    /// there are none yet (or the offset is no longer stored).
    public func commitLogData(from offset: Int64, maxBytes: Int) -> SelectMappedBufferResult? {
        commitLog.replicationData(from: offset, maxBytes: maxBytes)
    }

    /// A slave's append of bytes replicated from its master at `startOffset` (the end of this CommitLog, or a
    /// file start when it is empty). The dispatcher then builds ConsumeQueues and the index from them.
    public func appendToCommitLog(startOffset: Int64, data: UnsafeRawBufferPointer) -> Result<Void, StoreError> {
        let r = commitLog.appendReplicated(startOffset: startOffset, data: data)
        if case .success = r { reputWakeup() }
        return r
    }
}

/// A SYNC_MASTER put's two conditions: durable by its flush mode and acknowledged by a slave. The answer
/// waits for both; a failed replication overrides the flush's status, as RocketMQ 4.9 combines them.
final class ReplicatedPutJoin: Sendable {
    private struct State {
        var flush: PutMessageResult?
        var replica: PutMessageStatus?
    }
    private let state: Mutex<State>
    private let completion: @Sendable (PutMessageResult) -> Void

    init(_ completion: @escaping @Sendable (PutMessageResult) -> Void) {
        state = Mutex(State())
        self.completion = completion
    }

    func flushed(_ result: PutMessageResult) { finish { $0.flush = result } }
    func replicated(_ status: PutMessageStatus) { finish { $0.replica = status } }

    private func finish(_ update: (inout State) -> Void) {
        let done: PutMessageResult? = state.withLock { s in
            update(&s)
            guard var r = s.flush, let replica = s.replica else { return nil }
            if replica != .putOk { r.status = replica }
            return r
        }
        if let done { completion(done) }
    }
}

// MARK: role changes (controller mode)

extension MessageStore {
    /// A slave becomes master (RocketMQ's changeToMaster): call once the HA client no longer appends. Waits
    /// until every replicated byte is dispatched, then takes the next queue offsets from the ConsumeQueues
    /// (replicated appends do not maintain the put path's table) and only then accepts puts. Returns false
    /// when dispatch did not catch up within `timeoutMs` (the store stays a slave).
    public func changeToMaster(_ role: BrokerRole, timeoutMs: Int64 = 30_000) async -> Bool {
        precondition(role != .slave, "changeToMaster needs a master role")
        guard isSlave else {
            roleCode.store(role.code, ordering: .relaxed)
            return true
        }
        let deadline = ContinuousClock.now + .milliseconds(timeoutMs)
        var stillSince = ContinuousClock.now
        var last = reput.reputFromOffset
        while reputBehindBytes > 0 {
            guard ContinuousClock.now < deadline else { return false }
            reputWakeup()
            try? await Task.sleep(for: .milliseconds(5))
            let now = reput.reputFromOffset
            if now != last {
                last = now
                stillSince = ContinuousClock.now
            } else if !reput.isStalled, ContinuousClock.now - stillSince > .milliseconds(300) {
                // Replication batches end anywhere: the tail is the start of a record whose rest never came.
                // Nobody acknowledged it (a replica acknowledges whole batches it holds, a put's end lies
                // past it), so it goes; the next record is this master's.
                logger.warning("dropping an incomplete replicated record at the CommitLog end (\(now) to \(commitLog.maxOffset)) before taking puts")
                truncateFiles(toPhysicalOffset: now)
            }
        }
        commitLog.setTopicQueueTable(consumeQueues.topicQueueTable())
        roleCode.store(role.code, ordering: .releasing)
        logger.info("store role changed to \(role.rawValue) at CommitLog offset \(commitLog.maxOffset)")
        return true
    }

    /// A master becomes slave (RocketMQ's changeToSlave): puts are refused from now on. Bytes this store has
    /// beyond the new master's are cut by `truncateFiles` before it replicates (the broker finds the point
    /// from the epochs).
    public func changeToSlave() {
        roleCode.store(BrokerRole.slave.code, ordering: .releasing)
        logger.info("store role changed to SLAVE at CommitLog offset \(commitLog.maxOffset)")
    }

    /// Cuts the CommitLog at `physicalOffset` (a record boundary) and everything built from what lies past it
    /// (RocketMQ's truncateFiles for a returning replica, controller mode): the bytes are zeroed and synced
    /// (a later recovery must not find them), later files deleted, ConsumeQueue units pointing at or past it
    /// dropped, index files holding entries at or past it deleted and rebuilt from the CommitLog up to the cut
    /// (so a key query finds neither cut records nor, once replication overwrote them, records of the old
    /// bytes), dispatch moved back and the next queue offsets re-read. Only on a slave whose HA client does
    /// not append meanwhile; between two dispatch passes.
    public func truncateFiles(toPhysicalOffset offset: Int64) {
        precondition(isSlave, "only a replica's CommitLog is truncated")
        let oldMax = commitLog.maxOffset
        guard offset < oldMax else { return }
        reput.withDispatchPaused {
            if let f = commitLog.queue.findMappedFile(offset: offset) {
                let pos = offset - f.startOffset
                let end = min(oldMax, f.endOffset) - f.startOffset
                if end > pos {
                    (f.base + Int(pos)).update(repeating: 0, count: Int(end - pos))
                    let page = Int64(sysconf(Int32(_SC_PAGESIZE)))
                    let from = pos - pos % page
                    if msync(UnsafeMutableRawPointer(f.base + Int(from)), Int(end - from), MS_SYNC) != 0 {
                        logger.warning("could not sync the truncated CommitLog bytes of \(f.path): errno \(errno)")
                    }
                }
            }
            commitLog.queue.truncateDirtyFiles(offset: offset)
            commitLog.resetTail()
            if commitLog.flushedWhere > offset { commitLog.flushedWhere = offset }
            consumeQueues.truncateDirty(physicalOffset: offset)
            if let from = index?.truncate(physicalOffset: offset), from < offset {
                let n = reput.reindex(from: from, to: min(offset, reput.reputFromOffset))
                logger.info("index rebuilt for \(n) record(s) from CommitLog offset \(from) up to the truncation at \(offset)")
            }
            if reput.reputFromOffset > offset { reput.reputFromOffset = offset }
            reput.resetCache()
            commitLog.setTopicQueueTable(consumeQueues.topicQueueTable())
        }
        logger.warning("CommitLog truncated from \(oldMax) to \(offset) (bytes the master does not have)")
    }
}
