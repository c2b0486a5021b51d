// HAService in controller mode (broker.md §12.4, RocketMQ 5's AutoSwitchHAService and GroupTransferService):
// while this broker is master it keeps the SyncStateSet the controller confirmed (itself and the replicas
// within haMaxTimeSlaveNotCatchup of it), proposes changes (the broker sends them as ALTER_SYNC_STATE_SET),
// and completes SYNC_MASTER puts by RocketMQ 5's rules: fewer members than minInSyncReplicas refuses
// (IN_SYNC_REPLICAS_NOT_ENOUGH); allAckInSyncStateSet waits for every member; otherwise inSyncReplicas
// acknowledgements (lowered towards the set's size by enableAutoInSyncReplicas). While a change is being
// proposed, acknowledgements follow the union of the old and the new set, so a replica added is waited for
// from the moment it is proposed and one removed until the controller agreed. With allAckInSyncStateSet,
// consumers see only what every member holds (the store's confirm offset). A master the controller no
// longer knows cannot shrink its set, so once its replicas are gone nothing more is acknowledged (fencing).
// Called from the put path (waitForReplicas), the connection threads (acks) and the broker's jobs; thread-safe.

import Common
import Store
import Synchronization

/// What a controller-mode master knows of its SyncStateSet.
struct ControllerSyncState: Sendable, Equatable {
    var localId: Int64
    var masterEpoch: Int32
    var syncStateSet: Set<Int64>
    var syncStateSetEpoch: Int32
    /// A change sent to the controller and not answered yet.
    var proposed: Set<Int64>?

    /// Whose acknowledgements count now.
    var effectiveSet: Set<Int64> { syncStateSet.union(proposed ?? []) }
}

/// One look at every replica's acknowledgement, to decide pending puts.
struct AckQuorum {
    let localId: Int64
    let members: Set<Int64>
    /// The best acknowledgement of each identified replica.
    let acks: [Int64: Int64]

    func satisfied(_ p: HAService.PendingAck) -> Bool {
        if p.acks == 0 {
            return members.allSatisfy { $0 == localId || (acks[$0] ?? -1) >= p.endOffset }
        }
        return 1 + acks.values.filter { $0 >= p.endOffset }.count >= p.acks
    }

    /// What every member holds (RocketMQ's computeConfirmOffset); `masterMax` when the master is alone.
    func confirmOffset(masterMax: Int64) -> Int64 {
        members.filter { $0 != localId }.map { acks[$0] ?? 0 }.min().map { min($0, masterMax) } ?? masterMax
    }
}

extension HAService {
    /// This broker became master under `masterEpoch` with the controller's SyncStateSet.
    func becomeControllerMaster(localId: Int64, masterEpoch: Int32, syncStateSet: Set<Int64>, syncStateSetEpoch: Int32) {
        syncState.withLock {
            $0 = ControllerSyncState(localId: localId, masterEpoch: masterEpoch,
                                     syncStateSet: syncStateSet.union([localId]), syncStateSetEpoch: syncStateSetEpoch)
        }
        logger.info("HA: master of epoch \(masterEpoch), SyncStateSet \(syncStateSet.sorted()) (epoch \(syncStateSetEpoch))")
    }

    /// This broker is no longer master: replicas are let go and waiting puts fail (they may not survive).
    func leaveControllerMaster() {
        syncState.withLock { $0 = nil }
        store.setConfirmOffset(nil)
        closeConnections()
        complete(status: .flushSlaveTimeout) { _ in true }
    }

    /// The controller's SyncStateSet (GET_REPLICA_INFO) when newer than ours and nothing is being proposed.
    func adoptSyncStateSet(_ set: Set<Int64>, epoch: Int32, masterEpoch: Int32) {
        syncState.withLock { s in
            guard var state = s, state.masterEpoch == masterEpoch, state.proposed == nil, epoch > state.syncStateSetEpoch else { return }
            state.syncStateSet = set.union([state.localId])
            state.syncStateSetEpoch = epoch
            s = state
        }
        publishConfirmOffset(ackQuorum())
    }

    /// A replica's handshake named the master epoch it checked its log against: only this master's will do.
    func acceptsReplica(checkedEpoch: Int64) -> Bool {
        syncState.withLock { $0.map { Int64($0.masterEpoch) == checkedEpoch } ?? false }
    }

    var controllerSyncState: ControllerSyncState? { syncState.withLock { $0 } }

    /// With allAckInSyncStateSet, what consumers may see: the offset every member holds (a lone master: no bound).
    func publishConfirmOffset(_ quorum: AckQuorum) {
        // Not while a promotion is under way: changeToMaster needs every replicated byte dispatched first.
        guard allAckInSyncStateSet, quorum.localId >= 0, !store.isSlave else { return }
        store.setConfirmOffset(quorum.members.count <= 1 ? nil : quorum.confirmOffset(masterMax: store.maxPhysicalOffset))
    }

    func ackQuorum() -> AckQuorum {
        let state = syncState.withLock { $0 }
        var acks: [Int64: Int64] = [:]
        for c in connectionList where c.slaveId >= 0 {
            acks[c.slaveId] = max(acks[c.slaveId] ?? -1, c.ackOffset)
        }
        return AckQuorum(localId: state?.localId ?? -1, members: state?.effectiveSet ?? [], acks: acks)
    }

    /// The offset every SyncStateSet member holds (the heartbeat's confirmOffset).
    var confirmOffset: Int64 { ackQuorum().confirmOffset(masterMax: store.maxPhysicalOffset) }

    /// The put path in controller mode (see the file comment).
    func waitForSyncStateSet(endOffset: Int64, completion done: @escaping @Sendable (PutMessageStatus) -> Void) {
        let config = store.config
        let completion: @Sendable (PutMessageStatus) -> Void = { [self] status in
            if status == .putOk { acknowledgedToProducers.max(endOffset) }
            done(status)
        }
        guard let state = syncState.withLock({ $0 }) else {
            completion(.flushSlaveTimeout)
            return
        }
        let size = Int64(state.syncStateSet.count)
        if size < config.minInSyncReplicas {
            completion(.inSyncReplicasNotEnough)
            return
        }
        var acks: Int
        if config.allAckInSyncStateSet {
            acks = 0
        } else {
            var need = config.inSyncReplicas
            if config.enableAutoInSyncReplicas { need = max(min(need, size), config.minInSyncReplicas) }
            acks = Int(need)
        }
        if acks == 1 || (acks == 0 && state.effectiveSet.count <= 1) {
            completion(.putOk)
            return
        }
        let p = PendingAck(endOffset: endOffset, deadlineMs: WallClock.nowMs() + max(1, config.slaveTimeoutMs), acks: acks,
                           completion: completion)
        enqueue(p)
        // Acknowledgements may have landed before the wait was queued.
        let quorum = ackQuorum()
        complete(status: .putOk) { quorum.satisfied($0) }
        wakeConnections()
    }

    /// The SyncStateSet this master should have now (RocketMQ's maybeShrinkSyncStateSet and
    /// maybeExpandSyncStateSet in one), marked as proposed; nil when it is right or a proposal is out.
    /// A replica stays while connected and caught up within haMaxTimeSlaveNotCatchup; one joins when it
    /// is connected, caught up that recently and holds everything acknowledged to producers.
    func proposeSyncStateSet(nowMs: Int64) -> ControllerSyncState? {
        let maxLagMs = store.config.haMaxTimeSlaveNotCatchupMs
        var caughtUp: [Int64: Int64] = [:]
        for c in connectionList where c.slaveId >= 0 {
            caughtUp[c.slaveId] = max(caughtUp[c.slaveId] ?? 0, c.lastCaughtUpMs)
        }
        let quorum = ackQuorum()
        let confirm = acknowledgedToProducers.load(ordering: .acquiring)
        return syncState.withLock { s -> ControllerSyncState? in
            guard var state = s, state.proposed == nil else { return nil }
            var wanted: Set<Int64> = [state.localId]
            for (id, at) in caughtUp where nowMs - at <= maxLagMs {
                if state.syncStateSet.contains(id) || (quorum.acks[id] ?? -1) >= confirm { wanted.insert(id) }
            }
            guard wanted != state.syncStateSet else { return nil }
            state.proposed = wanted
            s = state
            return state
        }
    }

    /// The controller's answer to a proposal: the new set under `epoch`, or nil (refused or unanswered).
    func proposalAnswered(_ proposal: ControllerSyncState, newEpoch: Int32?) {
        syncState.withLock { s in
            guard var state = s, state.masterEpoch == proposal.masterEpoch, state.proposed == proposal.proposed else { return }
            if let newEpoch, let set = proposal.proposed {
                state.syncStateSet = set
                state.syncStateSetEpoch = newEpoch
            }
            state.proposed = nil
            s = state
        }
        if let newEpoch, let set = proposal.proposed {
            logger.info("HA: SyncStateSet is now \(set.sorted()) (epoch \(newEpoch))")
        }
        // A smaller set may complete waiting puts, and move the confirm offset.
        let quorum = ackQuorum()
        publishConfirmOffset(quorum)
        if pendingCountPositive { complete(status: .putOk) { quorum.satisfied($0) } }
    }
}

extension Atomic where Value == Int64 {
    /// Raises the value to `candidate` if it is higher.
    func max(_ candidate: Int64) {
        var current = load(ordering: .relaxed)
        while candidate > current {
            let (exchanged, original) = compareExchange(expected: current, desired: candidate, ordering: .acquiringAndReleasing)
            if exchanged { return }
            current = original
        }
    }
}
