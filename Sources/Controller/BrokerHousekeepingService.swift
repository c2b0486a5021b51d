// BrokerHousekeepingService: a broker whose connection to this controller closes is dead at once, not
// after its heartbeat timeout (RocketMQ's controller BrokerHousekeepingService): the controller remembers
// which brokers heartbeat over each connection (local, per-connection knowledge; the shared state stays in
// etcd), and when one closes it revokes their liveness leases and runs the election scan for their sets.
// Heartbeats are noted from the processor's tasks; closes arrive from the server's channel events.

import Logging
import Remoting
import Synchronization

public final class BrokerHousekeepingService: RemotingChannelEventListener {
    struct BrokerKey: Hashable, Sendable {
        let brokerName: String
        let brokerId: Int64
    }

    private let store: EtcdReplicaStore
    private let logger: Logger
    /// After liveness is revoked: the election scan for those broker names.
    private let reelect: @Sendable ([String]) async -> Void
    private let brokersByChannel = Mutex<[RemotingChannel: Set<BrokerKey>]>([:])

    init(store: EtcdReplicaStore, logger: Logger, reelect: @escaping @Sendable ([String]) async -> Void) {
        self.store = store
        self.logger = logger
        self.reelect = reelect
    }

    func noteHeartbeat(_ channel: RemotingChannel, brokerName: String, brokerId: Int64) {
        guard channel.isActive else { return }
        brokersByChannel.withLock { _ = $0[channel, default: []].insert(BrokerKey(brokerName: brokerName, brokerId: brokerId)) }
    }

    public func channelClosed(_ channel: RemotingChannel) async {
        guard let brokers = brokersByChannel.withLock({ $0.removeValue(forKey: channel) }), !brokers.isEmpty else { return }
        for b in brokers {
            logger.info("broker connection closed; its liveness ends now",
                        metadata: ["brokerName": "\(b.brokerName)", "brokerId": "\(b.brokerId)", "remote": "\(channel.remoteAddress)"])
            do { try await store.expire(brokerName: b.brokerName, brokerId: b.brokerId) } catch {
                logger.warning("could not end a closed broker's liveness; it lapses by itself", metadata: ["error": "\(error)"])
            }
        }
        await reelect(Array(Set(brokers.map(\.brokerName))).sorted())
    }
}
