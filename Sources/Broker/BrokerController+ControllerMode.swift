// BrokerController in controller mode (enableControllerMode, broker.md §12.4): heartbeats to the controller
// every brokerHeartbeatInterval, and every syncBrokerMetadataPeriod asks who is master and takes the role it
// is given — a replica the controller elected becomes master (HA client stopped, the store promoted once its
// replicated bytes are dispatched, brokerId 0 registered with the NameServers, delay and transaction jobs
// started); a master the controller replaced becomes a replica (puts refused, its id registered, the HA
// client following the master the NameServer names). A master keeps its epoch in the epoch file and reports
// SyncStateSet changes (ALTER_SYNC_STATE_SET); a replica, before each HA connection, compares its epochs with
// its master's (GET_BROKER_EPOCH_CACHE), truncates past the last offset both share, then replicates. Runs on
// the broker's background tasks, except the connection check (the HA client's thread).

import Foundation
import Logging
import Remoting
import Store
import Synchronization

/// What controller mode keeps: the manager, this broker's controller id, the master role to take, the master
/// the controller named last, and the epoch file.
final class ControllerModeState: Sendable {
    let manager: ReplicasManager
    let controllerBrokerId: Int64
    let masterRole: BrokerRole
    let epochs: EpochFileCache
    private let master: Mutex<ControllerMasterInfo?>
    /// One role change at a time (the sync job is periodic, but a promotion may outlast a period).
    let changing = Atomic<Bool>(false)

    init(manager: ReplicasManager, controllerBrokerId: Int64, masterRole: BrokerRole, master: ControllerMasterInfo?,
         epochFilePath: String) {
        self.manager = manager
        self.controllerBrokerId = controllerBrokerId
        self.masterRole = masterRole
        self.master = Mutex(master)
        epochs = EpochFileCache(path: epochFilePath)
    }

    var currentMaster: ControllerMasterInfo? {
        get { master.withLock { $0 } }
        set { master.withLock { $0 = newValue } }
    }
    var masterEpoch: Int32 { currentMaster?.epoch ?? 0 }
}

/// The result of async work awaited on a thread of our own (the HA client's), never a cooperative one.
private final class BlockingResult<T: Sendable>: @unchecked Sendable {
    // Sendable because: `value` is written once before `done` is signalled and read after the wait.
    private var value: T?
    private let done = DispatchSemaphore(value: 0)

    static func await(timeoutMs: Int, _ body: @escaping @Sendable () async -> T?) -> T? {
        let box = BlockingResult<T>()
        Task {
            box.value = await body()
            box.done.signal()
        }
        guard box.done.wait(timeout: .now() + .milliseconds(timeoutMs)) == .success else { return nil }
        return box.value
    }
}

extension BrokerController {
    /// The master role a broker takes in controller mode: SYNC_MASTER when configured so, else ASYNC_MASTER
    /// (RocketMQ's controller-mode configs say `brokerRole=SLAVE`; the controller decides).
    static func masterRole(_ configured: BrokerRole) -> BrokerRole { configured == .syncMaster ? .syncMaster : .asyncMaster }

    func startControllerModeTasks(_ mode: ControllerModeState) {
        let c = brokerConfig
        background.spawnPeriodic(initialDelay: .milliseconds(c.brokerHeartbeatInterval),
                                 every: .milliseconds(c.brokerHeartbeatInterval)) { [self] in
            do {
                let max = store.maxPhysicalOffset
                let confirm = !store.isSlave ? (haService?.confirmOffset ?? max) : max
                try await mode.manager.heartbeat(brokerId: mode.controllerBrokerId, epoch: mode.epochs.lastEpoch,
                                                 maxOffset: max, confirmOffset: confirm)
            } catch {
                logger.warning("heartbeat to the controller failed", metadata: ["error": "\(error)"])
            }
        }
        background.spawnPeriodic(initialDelay: .milliseconds(c.syncBrokerMetadataPeriod),
                                 every: .milliseconds(c.syncBrokerMetadataPeriod)) { [self] in
            await syncControllerRole(mode)
        }
        // The master's SyncStateSet check (RocketMQ checks every haMaxTimeSlaveNotCatchup / 3 at most).
        let checkMs = max(100, min(1_000, store.config.haMaxTimeSlaveNotCatchupMs / 3))
        background.spawnPeriodic(initialDelay: .milliseconds(checkMs), every: .milliseconds(checkMs)) { [self] in
            await reportSyncStateSet(mode)
        }
    }

    /// Called once at start, before the store takes puts: a broker starting as master records its epoch and
    /// its SyncStateSet; a replica checks its log before each HA connection.
    func controllerModeStarting(_ mode: ControllerModeState) {
        haClient?.setConnectCheck { [self] _ in checkLogAgainstMaster(mode) }
        guard let master = mode.currentMaster, master.brokerId == mode.controllerBrokerId, let haService else { return }
        haService.becomeControllerMaster(localId: mode.controllerBrokerId, masterEpoch: master.epoch,
                                         syncStateSet: master.syncStateSet?.syncStateSet ?? [],
                                         syncStateSetEpoch: master.syncStateSet?.syncStateSetEpoch ?? 0)
        recordEpoch(mode, master.epoch)
    }

    private func recordEpoch(_ mode: ControllerModeState, _ epoch: Int32) {
        do {
            try mode.epochs.append(epoch: epoch, startOffset: store.maxPhysicalOffset)
        } catch {
            logger.error("could not write the epoch file: \(error)")
        }
    }

    /// A master proposes the SyncStateSet its replicas' state calls for and records the controller's answer.
    func reportSyncStateSet(_ mode: ControllerModeState) async {
        guard !store.isSlave, let haService, let proposal = haService.proposeSyncStateSet(nowMs: WallClock.nowMs()),
              let set = proposal.proposed else { return }
        var newEpoch: Int32?
        do {
            newEpoch = try await mode.manager.alterSyncStateSet(masterId: proposal.localId, masterEpoch: proposal.masterEpoch,
                                                                newSet: set, syncStateSetEpoch: proposal.syncStateSetEpoch)
        } catch {
            logger.warning("could not report the SyncStateSet to the controller", metadata: ["error": "\(error)"])
        }
        haService.proposalAnswered(proposal, newEpoch: newEpoch)
    }

    /// The HA client's check before it connects (its thread): the master's epochs are read from the master
    /// itself; this log is cut after the last offset both share; the master's epochs up to this log's end are
    /// kept. Returns the master epoch checked against (sent in the handshake), or nil to try again shortly
    /// (no master, unreachable, or still taking over: its epochs do not yet end with its epoch).
    func checkLogAgainstMaster(_ mode: ControllerModeState) -> Int32? {
        guard let master = mode.currentMaster, master.brokerId != mode.controllerBrokerId else { return nil }
        let manager = mode.manager
        guard let cache = BlockingResult<EpochEntryCache>.await(timeoutMs: 5_000, {
            try? await manager.epochCache(ofBroker: master.address)
        }), cache.epochList.last?.epoch == master.epoch else { return nil }
        let remote = cache.epochList.map { EpochEntry(epoch: $0.epoch, startOffset: $0.startOffset) }
        let local = mode.epochs.all
        let localMax = store.maxPhysicalOffset
        if localMax > 0 {
            var cut = localMax
            if let point = EpochFileCache.consistentPoint(local: local, localMaxOffset: localMax, remote: remote,
                                                          remoteMaxOffset: cache.maxOffset) {
                cut = point
            } else if !local.isEmpty {
                // No mastership in common: keep only what precedes the master's first epoch.
                cut = min(localMax, remote.first?.startOffset ?? 0)
            } else {
                logger.warning("no epoch file: replicating from \(localMax) without comparing epochs")
            }
            if cut < localMax {
                logger.warning("this log and master \(master.brokerId)'s part at \(cut) (epochs here \(local), there \(remote)): truncating")
                store.truncateFiles(toPhysicalOffset: cut)
            }
        }
        do {
            try mode.epochs.replace(with: remote, upTo: store.maxPhysicalOffset)
        } catch {
            logger.error("could not write the epoch file: \(error)")
        }
        return master.epoch
    }

    /// Asks the controller who is master and takes the role that follows (asks to be elected when nobody is).
    func syncControllerRole(_ mode: ControllerModeState) async {
        guard !mode.changing.exchange(true, ordering: .acquiringAndReleasing) else { return }
        defer { mode.changing.store(false, ordering: .releasing) }
        do {
            var master = try await mode.manager.master()
            if master == nil { master = try await mode.manager.electSelf(brokerId: mode.controllerBrokerId) }
            guard let master else { return }
            let previous = mode.currentMaster
            let changedEpoch = master.epoch != previous?.epoch
            mode.currentMaster = master
            if master.brokerId == mode.controllerBrokerId {
                if store.isSlave {
                    await becomeMaster(mode, master: master)
                } else if let set = master.syncStateSet {
                    haService?.adoptSyncStateSet(set.syncStateSet, epoch: set.syncStateSetEpoch, masterEpoch: master.epoch)
                }
            } else if !store.isSlave {
                becomeSlave(mode, master: master)
            } else if changedEpoch || slaveSynchronize?.masterAddr != master.address {
                // A new master: register until the NameServer's answer names it (the new master may register
                // as brokerId 0 after this broker asked), so the HA client follows it, not the old one; a
                // connection to the old epoch is dropped (the next one checks the log again).
                if changedEpoch { haClient?.reconnect() }
                registerBrokerAllSoon()
            } else if haClient?.isConnected == true, let cache = try? await mode.manager.epochCache(ofBroker: master.address) {
                // Replicating: keep the master's epochs this log has reached.
                do {
                    try mode.epochs.replace(with: cache.epochList.map { EpochEntry(epoch: $0.epoch, startOffset: $0.startOffset) },
                                            upTo: store.maxPhysicalOffset)
                } catch {
                    logger.error("could not write the epoch file: \(error)")
                }
            }
        } catch {
            logger.warning("could not read the master from the controller", metadata: ["error": "\(error)"])
        }
    }

    private func becomeMaster(_ mode: ControllerModeState, master: ControllerMasterInfo) async {
        let epoch = master.epoch
        logger.info("controller elected this broker master; changing to master", metadata: ["masterEpoch": "\(epoch)"])
        // No replicated append may land once puts are taken: the HA client lets go of the old master first.
        haClient?.updateMasterAddress(nil)
        let deadline = ContinuousClock.now + .seconds(10)
        while haClient?.isConnected == true, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        // Replicas may connect once it is master of this epoch (they wait until its epochs end with it).
        haService?.becomeControllerMaster(localId: mode.controllerBrokerId, masterEpoch: epoch,
                                          syncStateSet: master.syncStateSet?.syncStateSet ?? [],
                                          syncStateSetEpoch: master.syncStateSet?.syncStateSetEpoch ?? 0)
        guard haClient?.isConnected != true, await store.changeToMaster(mode.masterRole) else {
            haService?.leaveControllerMaster()
            logger.error("could not become master: replicated data not dispatched in time; staying a replica")
            return
        }
        recordEpoch(mode, epoch)
        if mode.masterRole == .syncMaster, let haService { store.setReplicaAckWaiter(haService) }
        updateBrokerConfig { $0.brokerId = 0 }
        startMasterJobs()
        registerBrokerAllSoon()
        logger.info("this broker is now master (brokerId 0)", metadata: ["masterEpoch": "\(epoch)"])
    }

    private func becomeSlave(_ mode: ControllerModeState, master: ControllerMasterInfo) {
        logger.warning("controller elected another master; changing to replica (bytes the new master lacks are cut before replicating)",
                       metadata: ["master": "\(master.brokerId)@\(master.address)", "masterEpoch": "\(master.epoch)"])
        store.changeToSlave()
        haService?.leaveControllerMaster()
        store.setReplicaAckWaiter(nil)
        updateBrokerConfig { $0.brokerId = mode.controllerBrokerId }
        registerBrokerAllSoon()
    }
}
