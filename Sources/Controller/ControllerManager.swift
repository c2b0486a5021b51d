// ControllerManager: builds and runs one controller (RocketMQ's ControllerManager) — remoting server,
// request executor, etcd client, membership and the processor — and owns its two background jobs: the
// membership round (lease keep-alive and leader claim, every third of the lease TTL) and, on the leader,
// the scan that elects a new master for every broker set whose master stopped heartbeating (every
// `scanNotActiveBrokerInterval`). Runs on a server of its own (`mqcontroller`) or inside a NameServer's
// (`enableControllerInNamesrv`: the controller codes are registered on the NameServer's server, which the
// NameServer starts and stops). start/shutdown from the command's main task or tests.

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
    private let membershipBox = MembershipBox()
    /// False when the server belongs to a NameServer: it is started and stopped there.
    private let ownsServer: Bool

    /// A controller on a server of its own (`listenPort`, `bindAddress`).
    public convenience init(config: ControllerConfig, group: any EventLoopGroup, logger: Logger, maxConnections: Int = .max) {
        let server = RemotingServer(
            config: RemotingServerConfig(host: config.bindAddress, port: config.listenPort, maxConnections: maxConnections,
                                         channelMaxIdleSeconds: config.serverChannelMaxIdleTimeSeconds),
            group: group, logger: logger)
        self.init(config: config, group: group, logger: logger, server: server, ownsServer: true)
    }

    /// A controller embedded in another server (a NameServer's), already started by its owner.
    public convenience init(config: ControllerConfig, group: any EventLoopGroup, logger: Logger, sharing server: RemotingServer) {
        self.init(config: config, group: group, logger: logger, server: server, ownsServer: false)
    }

    private init(config: ControllerConfig, group: any EventLoopGroup, logger: Logger, server: RemotingServer, ownsServer: Bool) {
        self.config = config
        self.group = group
        self.logger = logger
        self.server = server
        self.ownsServer = ownsServer
        etcd = EtcdClient(endpoints: config.etcdEndpoints.compactMap(EtcdEndpoint.init(url:)), group: group,
                          timeoutMs: config.controllerEtcdRequestTimeoutMills)
        store = EtcdReplicaStore(etcd: etcd, keyPrefix: config.keyPrefix, maxAttempts: config.electMasterMaxRetryCount,
                                 logger: logger)
        executor = RequestExecutor(name: "ControllerRequestExecutorThread", threads: config.controllerThreadPoolNums,
                                   queueCapacity: config.controllerRequestThreadPoolQueueCapacity)
    }

    /// The codes the controller serves; on a shared server each is registered (BROKER_HEARTBEAT is left to the
    /// owner, which hands heartbeats naming a broker id to `processor`).
    public static let requestCodes: [RequestCode] = [
        .controllerAlterSyncStateSet, .controllerElectMaster, .controllerRegisterBroker, .controllerGetReplicaInfo,
        .controllerGetMetadataInfo, .controllerGetSyncStateData, .getControllerConfig, .controllerGetNextBrokerId,
        .controllerApplyBrokerId,
    ]

    /// The request processor, once started (an embedding server routes controller heartbeats to it).
    public var processor: ControllerRequestProcessor? { membershipBox.processor() }

    /// Binds (own server) or takes the shared server's port, joins the group in etcd (fails when etcd cannot
    /// be reached), registers the processor, starts the jobs. The port.
    public func start() async throws -> Int {
        let port: Int
        if ownsServer {
            port = try await server.start().port ?? config.listenPort
        } else {
            port = server.localPort ?? config.listenPort
        }
        let advertised = "\(config.advertiseIP):\(port)"
        let membership = ControllerMembership(
            selfId: config.controllerSelfId.isEmpty ? advertised : config.controllerSelfId, address: advertised,
            etcd: etcd, keyPrefix: config.keyPrefix, ttlSeconds: config.controllerEtcdLeaseTtlSeconds, logger: logger)
        membershipBox.set(membership)
        do {
            try await membership.refresh()
        } catch {
            if ownsServer { await server.shutdown() }
            throw error
        }
        let store = self.store
        let unclean = config.enableElectUncleanMaster
        let logger = self.logger
        let housekeeping = BrokerHousekeepingService(store: store, logger: logger) { names in
            do { try await Self.scanNotActiveMaster(store: store, unclean: unclean, logger: logger, brokerNames: names) } catch {
                logger.warning("election after a broker connection closed failed", metadata: ["error": "\(error)"])
            }
        }
        server.addChannelEventListener(housekeeping)
        let processor = ControllerRequestProcessor(store: store, membership: membership, config: config,
                                                   housekeeping: housekeeping, logger: logger)
        membershipBox.set(processor)
        if ownsServer {
            server.registerDefaultProcessor(processor, on: .executor(executor))
        } else {
            for code in Self.requestCodes { server.registerProcessor(code, processor, on: .executor(executor)) }
        }

        let roundMs = Int64(config.controllerEtcdLeaseTtlSeconds) * 1000 / 3
        background.spawnPeriodic(initialDelay: .milliseconds(roundMs), every: .milliseconds(roundMs)) {
            do { try await membership.refresh() } catch {
                logger.warning("controller membership round failed", metadata: ["error": "\(error)"])
            }
        }
        let scanMs = config.scanNotActiveBrokerInterval
        background.spawnPeriodic(initialDelay: .milliseconds(scanMs), every: .milliseconds(scanMs)) {
            guard membership.isLeader else { return }
            do { try await Self.scanNotActiveMaster(store: store, unclean: unclean, logger: logger) } catch {
                logger.warning("inactive-master scan failed", metadata: ["error": "\(error)"])
            }
        }
        return port
    }

    /// Java's scanNeedReelectBrokerSets + electMaster(ofControllerTrigger) for each set found (all sets, or
    /// the ones named).
    static func scanNotActiveMaster(store: EtcdReplicaStore, unclean: Bool, logger: Logger,
                                    brokerNames: [String]? = nil) async throws {
        var records: [BrokerReplicaRecord] = []
        if let brokerNames {
            for name in brokerNames { if let r = try await store.record(name).0 { records.append(r) } }
        } else {
            records = try await store.allRecords()
        }
        for record in records {
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
        if ownsServer { await server.shutdown() }
        await executor.shutdownGracefully()
    }
}

import Synchronization

/// The membership and processor, known once `start` has the port.
private final class MembershipBox: Sendable {
    private let value = Mutex<(ControllerMembership?, ControllerRequestProcessor?)>((nil, nil))
    func set(_ m: ControllerMembership) { value.withLock { $0.0 = m } }
    func set(_ p: ControllerRequestProcessor) { value.withLock { $0.1 = p } }
    func get() -> ControllerMembership? { value.withLock { $0.0 } }
    func processor() -> ControllerRequestProcessor? { value.withLock { $0.1 } }
}
