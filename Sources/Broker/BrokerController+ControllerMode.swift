// BrokerController in controller mode (enableControllerMode, broker.md §12.4): heartbeats to the controller
// every brokerHeartbeatInterval, and every syncBrokerMetadataPeriod asks who is master and takes the role it
// is given — a replica the controller elected becomes master (HA client stopped, the store promoted once its
// replicated bytes are dispatched, brokerId 0 registered with the NameServers, delay and transaction jobs
// started); a master the controller replaced becomes a replica (puts refused, its id registered, the HA
// client following the master the NameServer names). No SyncStateSet reporting, epoch file or truncation
// yet: a replaced master keeps any bytes the new one lacks. Runs on the broker's background tasks.

import Logging
import Store
import Synchronization

/// What controller mode keeps: the manager, this broker's controller id, the master role to take, and the
/// master epoch last seen (sent with each heartbeat).
final class ControllerModeState: Sendable {
    let manager: ReplicasManager
    let controllerBrokerId: Int64
    let masterRole: BrokerRole
    private let epoch: Mutex<Int32>
    /// One role change at a time (the sync job is periodic, but a promotion may outlast a period).
    let changing = Atomic<Bool>(false)

    init(manager: ReplicasManager, controllerBrokerId: Int64, masterRole: BrokerRole, masterEpoch: Int32) {
        self.manager = manager
        self.controllerBrokerId = controllerBrokerId
        self.masterRole = masterRole
        epoch = Mutex(masterEpoch)
    }

    var masterEpoch: Int32 {
        get { epoch.withLock { $0 } }
        set { epoch.withLock { $0 = newValue } }
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
                try await mode.manager.heartbeat(brokerId: mode.controllerBrokerId, epoch: mode.masterEpoch,
                                                 maxOffset: store.maxPhysicalOffset)
            } catch {
                logger.warning("heartbeat to the controller failed", metadata: ["error": "\(error)"])
            }
        }
        background.spawnPeriodic(initialDelay: .milliseconds(c.syncBrokerMetadataPeriod),
                                 every: .milliseconds(c.syncBrokerMetadataPeriod)) { [self] in
            await syncControllerRole(mode)
        }
    }

    /// Asks the controller who is master and takes the role that follows (asks to be elected when nobody is).
    func syncControllerRole(_ mode: ControllerModeState) async {
        guard !mode.changing.exchange(true, ordering: .acquiringAndReleasing) else { return }
        defer { mode.changing.store(false, ordering: .releasing) }
        do {
            var master = try await mode.manager.master()
            if master == nil { master = try await mode.manager.electSelf(brokerId: mode.controllerBrokerId) }
            guard let master else { return }
            let changedEpoch = master.epoch != mode.masterEpoch
            mode.masterEpoch = master.epoch
            if master.brokerId == mode.controllerBrokerId {
                if store.isSlave { await becomeMaster(mode, epoch: master.epoch) }
            } else if !store.isSlave {
                becomeSlave(mode, master: master)
            } else if changedEpoch || slaveSynchronize?.masterAddr != master.address {
                // A new master: register until the NameServer's answer names it (the new master may register
                // as brokerId 0 after this broker asked), so the HA client follows it, not the old one.
                registerBrokerAllSoon()
            }
        } catch {
            logger.warning("could not read the master from the controller", metadata: ["error": "\(error)"])
        }
    }

    private func becomeMaster(_ mode: ControllerModeState, epoch: Int32) async {
        logger.info("controller elected this broker master; changing to master", metadata: ["masterEpoch": "\(epoch)"])
        // No replicated append may land once puts are taken: the HA client lets go of the old master first.
        haClient?.updateMasterAddress(nil)
        let deadline = ContinuousClock.now + .seconds(10)
        while haClient?.isConnected == true, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        guard haClient?.isConnected != true, await store.changeToMaster(mode.masterRole) else {
            logger.error("could not become master: replicated data not dispatched in time; staying a replica")
            return
        }
        if mode.masterRole == .syncMaster, let haService { store.setReplicaAckWaiter(haService) }
        updateBrokerConfig { $0.brokerId = 0 }
        startMasterJobs()
        registerBrokerAllSoon()
        logger.info("this broker is now master (brokerId 0)", metadata: ["masterEpoch": "\(epoch)"])
    }

    private func becomeSlave(_ mode: ControllerModeState, master: ControllerMasterInfo) {
        logger.warning("controller elected another master; changing to replica (bytes the new master lacks are kept: no truncation yet)",
                       metadata: ["master": "\(master.brokerId)@\(master.address)", "masterEpoch": "\(master.epoch)"])
        store.changeToSlave()
        store.setReplicaAckWaiter(nil)
        updateBrokerConfig { $0.brokerId = mode.controllerBrokerId }
        registerBrokerAllSoon()
    }
}
