// ControllerManager: builds and runs one controller (RocketMQ's ControllerManager) — remoting server,
// request executor, etcd client, membership and the processor — and owns its two background jobs: the
// membership round (lease keep-alive and leader claim, every third of the lease TTL) and, on the leader,
// the scan that elects a new master for every broker set whose master stopped heartbeating (every
// `scanNotActiveBrokerInterval`). start/shutdown from `mqcontroller`'s main task or tests.

import Common
import Logging
import NIOCore
import NIOPosix
import Remoting

public final class ControllerManager: Sendable {
    public let config: ControllerConfig
    public let server: RemotingServer
    private let etcd: EtcdClient
    private let store: EtcdReplicaStore
    private let executor: RequestExecutor
    private let logger: Logger
    private let background = BackgroundTasks(name: "controller")
    private let group: any EventLoopGroup
    private let maxConnections: Int
    private let membershipBox = MembershipBox()

    public init(config: ControllerConfig, group: any EventLoopGroup, logger: Logger, maxConnections: Int = .max) {
        self.config = config
        self.group = group
        self.logger = logger
        self.maxConnections = maxConnections
        etcd = EtcdClient(endpoints: config.etcdEndpoints.compactMap(EtcdEndpoint.init(url:)), group: group,
                          timeoutMs: config.controllerEtcdRequestTimeoutMills)
        store = EtcdReplicaStore(etcd: etcd, keyPrefix: config.keyPrefix, maxAttempts: config.electMasterMaxRetryCount,
                                 logger: logger)
        server = RemotingServer(
            config: RemotingServerConfig(host: config.bindAddress, port: config.listenPort, maxConnections: maxConnections,
                                         channelMaxIdleSeconds: config.serverChannelMaxIdleTimeSeconds),
            group: group, logger: logger)
        executor = RequestExecutor(name: "ControllerRequestExecutorThread", threads: config.controllerThreadPoolNums,
                                   queueCapacity: config.controllerRequestThreadPoolQueueCapacity)
    }

    /// Binds, joins the group in etcd (fails when etcd cannot be reached), starts the jobs. The bound port.
    public func start() async throws -> Int {
        let address = try await server.start()
        let port = address.port ?? config.listenPort
        let advertised = "\(config.advertiseIP):\(port)"
        let membership = ControllerMembership(
            selfId: config.controllerSelfId.isEmpty ? advertised : config.controllerSelfId, address: advertised,
            etcd: etcd, keyPrefix: config.keyPrefix, ttlSeconds: config.controllerEtcdLeaseTtlSeconds, logger: logger)
        membershipBox.set(membership)
        do {
            try await membership.refresh()
        } catch {
            await server.shutdown()
            throw error
        }
        server.registerDefaultProcessor(
            ControllerRequestProcessor(store: store, membership: membership, config: config, logger: logger),
            on: .executor(executor))

        let roundMs = Int64(config.controllerEtcdLeaseTtlSeconds) * 1000 / 3
        let logger = self.logger
        background.spawnPeriodic(initialDelay: .milliseconds(roundMs), every: .milliseconds(roundMs)) {
            do { try await membership.refresh() } catch {
                logger.warning("controller membership round failed", metadata: ["error": "\(error)"])
            }
        }
        let store = self.store
        let unclean = config.enableElectUncleanMaster
        let scanMs = config.scanNotActiveBrokerInterval
        background.spawnPeriodic(initialDelay: .milliseconds(scanMs), every: .milliseconds(scanMs)) {
            guard membership.isLeader else { return }
            do { try await Self.scanNotActiveMaster(store: store, unclean: unclean, logger: logger) } catch {
                logger.warning("inactive-master scan failed", metadata: ["error": "\(error)"])
            }
        }
        return port
    }

    /// Java's scanNeedReelectBrokerSets + electMaster(ofControllerTrigger) for each set found.
    static func scanNotActiveMaster(store: EtcdReplicaStore, unclean: Bool, logger: Logger) async throws {
        for record in try await store.allRecords() {
            let liveness = try await store.liveness(record.brokerName)
            guard ReplicasInfoManager.needsReelection(record, liveness: liveness) else { continue }
            let request = ElectMasterRequestHeader(clusterName: record.clusterName, brokerName: record.brokerName)
            let result = try await store.decide(record.brokerName) { current, liveness in
                // Decided again on what is current: another controller may have elected meanwhile.
                guard let current, ReplicasInfoManager.needsReelection(current, liveness: liveness) else {
                    return ControllerResult()
                }
                return ReplicasInfoManager.electMaster(request, record: current, liveness: liveness,
                                                       enableElectUncleanMaster: unclean)
            }
            let header = result.header as? ElectMasterResponseHeader
            logger.info("master of \(record.brokerName) stopped heartbeating; election: \(result.code.rawValue)",
                        metadata: ["brokerName": "\(record.brokerName)", "oldMaster": "\(record.masterBrokerId ?? -1)",
                                   "newMaster": "\(header?.masterBrokerId ?? -1)", "masterEpoch": "\(header?.masterEpoch ?? 0)"])
        }
    }

    public func shutdown() async {
        await background.shutdown()
        await membershipBox.get()?.leave()
        await server.shutdown()
        await executor.shutdownGracefully()
    }
}

import Synchronization

/// The membership, known once `start` has the bound port.
private final class MembershipBox: Sendable {
    private let value = Mutex<ControllerMembership?>(nil)
    func set(_ m: ControllerMembership) { value.withLock { $0 = m } }
    func get() -> ControllerMembership? { value.withLock { $0 } }
}
