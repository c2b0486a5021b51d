// BrokerController: builds and runs one broker — binds the remoting server, opens the store (its host is
// brokerIP1 and the bound port), wires the managers and processors, runs the periodic tasks (NameServer
// registration, offset persistence, client expiry, long-polling sweep) and stops it all in order.
// Created by `mqbroker` (or tests) through `start`; its methods are called from processor tasks.

import Common
import Logging
import NIOCore
import NIOPosix
import Remoting
import Store
import Synchronization

public final class BrokerController: Sendable {
    private let config: Mutex<BrokerConfig>
    public let store: MessageStore
    public let server: RemotingServer
    public let topicConfigManager: TopicConfigManager
    public let subscriptionGroupManager: SubscriptionGroupManager
    public let consumerOffsetManager: ConsumerOffsetManager
    public let consumerManager = ConsumerManager()
    public let producerManager = ProducerManager()
    public let stats = BrokerStats()
    let pullRequestHoldService: PullRequestHoldService
    let rebalanceLockManager: RebalanceLockManager
    let sqlFilterCache = SQLFilterCache()
    let scheduleMessageService: ScheduleMessageService
    let brokerOuterAPI: BrokerOuterAPI
    let uniqIDSetter: MessageClientIDSetter
    /// Where each kind of request runs (declared at registration, registerProcessors).
    let executors: BrokerRequestExecutors
    /// Replication (broker.md §12): a master serves its slaves; a slave follows its master.
    let haService: HAService?
    let haClient: HAClient?
    /// A slave's copy of its master's topics, groups and offsets (nil on a master).
    let slaveSynchronize: SlaveSynchronize?
    let logger: Logger
    /// The periodic jobs and the registration job; all end at shutdown, before the broker unregisters.
    let background = BackgroundTasks(name: "broker")
    /// The store's arrival callback reaches the hold service (which reads the store) through this relay,
    /// emptied at shutdown so nothing keeps a stopped broker's store (and its files) alive.
    let arrivalRelay = Mutex<ArrivalRelay?>(nil)
    /// Wake-ups for the registration job; the newest one is kept, so a burst of changes registers once.
    private let registrationRequests = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    /// Requests counted, and callers waiting for a registration that covers theirs (RegistrationWaiters).
    private let registrationWaiters = Mutex(RegistrationWaiters())
    private let stopped = Atomic<Bool>(false)
    private let masterJobsStarted = Atomic<Bool>(false)
    /// Controller mode (enableControllerMode): the controller's id for this broker and what it said last.
    let controllerMode: ControllerModeState?

    /// The current settings (UPDATE_BROKER_CONFIG may change them).
    public var brokerConfig: BrokerConfig { config.withLock { $0 } }

    func updateBrokerConfig(_ body: (inout BrokerConfig) -> Void) { withBrokerConfigLocked(body) }

    /// Runs `body` with the settings locked (BrokerConfigUpdate: check, then change, with no update between).
    func withBrokerConfigLocked<R>(_ body: (inout BrokerConfig) -> R) -> R {
        config.withLock { c in
            let r = body(&c)
            refreshRoutingSettings(c)
            return r
        }
    }

    /// What every send routes with, kept apart from the whole BrokerConfig so a send copies a few values
    /// instead of every setting (refreshed under the config lock at each change).
    private let routingSnapshot: Mutex<RoutingSettings>
    var routingSettings: RoutingSettings { routingSnapshot.withLock { $0 } }
    /// The broker's topic, group and lock tables as the router looks them up (one object, made once).
    let routingTables: BrokerRoutingTables

    private func refreshRoutingSettings(_ c: BrokerConfig) {
        let levels = scheduleMessageService.maxLevel
        routingSnapshot.withLock { $0 = RoutingSettings(c, maxDelayLevel: levels) }
    }

    /// Binds the server, opens and starts the store, registers with the NameServers; the broker then serves.
    /// `maxConnections`: open connections past which new ones are closed at accept (DescriptorLimit).
    public static func start(brokerConfig: BrokerConfig, storeConfig: MessageStoreConfig, group: any EventLoopGroup,
                             logger: Logger, maxConnections: Int = .max) async throws -> BrokerController {
        var brokerConfig = brokerConfig
        var storeConfig = storeConfig
        let requestedListenPort = brokerConfig.listenPort
        let server = RemotingServer(config: RemotingServerConfig(
            host: "0.0.0.0", port: brokerConfig.listenPort, writeBufferHighWaterMark: brokerConfig.writeBufferHighWaterMark,
            writeBufferLowWaterMark: brokerConfig.writeBufferLowWaterMark, maxConnections: maxConnections,
            channelMaxIdleSeconds: Int(brokerConfig.serverChannelMaxIdleTimeSeconds)), group: group, logger: logger)
        let bound: SocketAddress
        do {
            bound = try await server.start()
        } catch {
            await server.shutdown()
            throw BrokerError.badConfig("listenPort=\(requestedListenPort): cannot listen (\(error))")
        }
        brokerConfig.listenPort = bound.port ?? brokerConfig.listenPort
        guard let storeHost = MessageHost(ipv4: brokerConfig.brokerIP1, port: Int32(brokerConfig.listenPort)) else {
            await server.shutdown()
            throw BrokerError.badConfig("brokerIP1 must be an IPv4 address, got \(brokerConfig.brokerIP1)")
        }
        storeConfig.storeHost = storeHost
        // Controller mode: the controller says which id this broker has and whether it starts as master.
        var replicas: (manager: ReplicasManager, brokerId: Int64, master: ControllerMasterInfo?)?
        let masterRole = Self.masterRole(storeConfig.brokerRole)
        if brokerConfig.enableControllerMode {
            let manager = ReplicasManager(config: brokerConfig, brokerAddr: brokerConfig.brokerAddr,
                                          storePathRootDir: storeConfig.storePathRootDir, group: group, logger: logger)
            do {
                let (id, master) = try await manager.startUp()
                replicas = (manager, id, master)
                let isMaster = master?.brokerId == id
                storeConfig.brokerRole = isMaster ? masterRole : .slave
                brokerConfig.brokerId = isMaster ? 0 : id
                logger.info("controller mode: broker id \(id), starting as \(storeConfig.brokerRole.rawValue)",
                            metadata: ["master": "\(master.map { "\($0.brokerId)@\($0.address) epoch \($0.epoch)" } ?? "none")"])
            } catch {
                await manager.shutdown()
                await server.shutdown()
                throw BrokerError.badConfig("controllerAddr=\(brokerConfig.controllerAddr): cannot register with the controller (\(error))")
            }
        }
        let relay = ArrivalRelay()
        let store: MessageStore
        do {
            store = try MessageStore(config: storeConfig, logger: logger) { arrival in relay.arrived(arrival) }
        } catch {
            await server.shutdown()
            throw BrokerError.badConfig("storePathRootDir=\(storeConfig.storePathRootDir): cannot open the store (\(error))")
        }
        // A master listens for slaves on haListenPort (listenPort + 1 unless set; any free port when the
        // broker itself took any free port).
        var haService: HAService?
        var haClient: HAClient?
        // In controller mode the role may change while the broker runs: both sides of replication exist.
        if storeConfig.brokerRole == .slave || brokerConfig.enableControllerMode {
            let client = HAClient(store: store, controllerBrokerId: replicas?.brokerId, logger: logger)
            client.updateMasterAddress(storeConfig.haMasterAddress)
            haClient = client
        }
        if storeConfig.brokerRole != .slave || brokerConfig.enableControllerMode {
            do {
                let ha = try HAService(store: store, port: requestedListenPort == 0 && brokerConfig.haListenPort == nil ? 0 : brokerConfig.effectiveHaPort,
                                       controllerMode: brokerConfig.enableControllerMode, logger: logger)
                brokerConfig.haListenPort = ha.port
                haService = ha
            } catch {
                store.shutdown()
                await server.shutdown()
                throw BrokerError.badConfig("haListenPort=\(brokerConfig.effectiveHaPort): cannot listen for slaves (\(error))")
            }
        }
        let controller = BrokerController(config: brokerConfig, store: store, server: server, group: group,
                                          haService: haService, haClient: haClient,
                                          replicas: replicas.map { ControllerModeState(manager: $0.manager, controllerBrokerId: $0.brokerId,
                                                                                       masterRole: masterRole, master: $0.master,
                                                                                       epochFilePath: storeConfig.storePathRootDir + "/epochFileCheckpoint") },
                                          logger: logger)
        relay.set(controller.pullRequestHoldService)
        controller.arrivalRelay.withLock { $0 = relay }
        controller.registerProcessors()
        if let mode = controller.controllerMode { controller.controllerModeStarting(mode) }
        store.start()
        if let haService {
            if store.brokerRole == .syncMaster { store.setReplicaAckWaiter(haService) }
            haService.start()
        }
        haClient?.start()
        controller.startTasks()
        await controller.registerBrokerAllAndWait()
        return controller
    }

    private init(config brokerConfig: BrokerConfig, store: MessageStore, server: RemotingServer, group: any EventLoopGroup,
                 haService: HAService?, haClient: HAClient?, replicas: ControllerModeState?, logger: Logger) {
        config = Mutex(brokerConfig)
        controllerMode = replicas
        self.haService = haService
        self.haClient = haClient
        self.store = store
        self.server = server
        self.logger = logger
        let configDir = store.config.storePathRootDir + "/config"
        topicConfigManager = TopicConfigManager(config: brokerConfig, path: configDir + "/topics.json", logger: logger)
        subscriptionGroupManager = SubscriptionGroupManager(path: configDir + "/subscriptionGroup.json", logger: logger)
        consumerOffsetManager = ConsumerOffsetManager(path: configDir + "/consumerOffset.json", logger: logger)
        scheduleMessageService = ScheduleMessageService(store: store, path: configDir + "/delayOffset.json", logger: logger)
        brokerOuterAPI = BrokerOuterAPI(group: group, logger: logger)
        rebalanceLockManager = RebalanceLockManager(maxLiveTimeMs: brokerConfig.rebalanceLockMaxLiveTime, logger: logger)
        routingSnapshot = Mutex(RoutingSettings(brokerConfig, maxDelayLevel: scheduleMessageService.maxLevel))
        routingTables = BrokerRoutingTables(topics: topicConfigManager, groups: subscriptionGroupManager, locks: rebalanceLockManager)
        uniqIDSetter = MessageClientIDSetter(ipv4: brokerConfig.brokerIP1)
        let executors = BrokerRequestExecutors(brokerConfig)
        self.executors = executors
        pullRequestHoldService = PullRequestHoldService(
            maxOffset: { [store] topic, queueId in store.maxOffsetInQueue(topic: topic, queueId: queueId) })
        slaveSynchronize = store.isSlave || replicas != nil
            ? SlaveSynchronize(client: brokerOuterAPI.client, topics: topicConfigManager, groups: subscriptionGroupManager,
                               offsets: consumerOffsetManager, schedule: scheduleMessageService, logger: logger)
            : nil
        topicConfigManager.persist()
        subscriptionGroupManager.persist()
    }

    /// Every processor with where it runs, as RocketMQ's registerProcessor pairs each with its pool. Only
    /// sends start on the event loop, and only their never-waiting path (SendMessageProcessor).
    private func registerProcessors() {
        let e = executors
        let send = SendMessageProcessor(environment: BrokerSendEnvironment(controller: self))
        for code in [RequestCode.sendMessage, .sendMessageV2, .sendBatchMessage] {
            server.registerProcessor(code, send, on: .eventLoopThen(e.send))
        }
        server.registerProcessor(.consumerSendMsgBack, SendMessageBackProcessor(environment: BrokerSendEnvironment(controller: self)), on: .executor(e.send))
        let pull = PullMessageProcessor(environment: BrokerPullEnvironment(controller: self))
        pullRequestHoldService.setReexecutor(pull, on: e.pull)
        server.registerProcessor(.pullMessage, pull, on: .executor(e.pull))
        server.registerProcessor(.litePullMessage, pull, on: .executor(e.litePull))
        let consumerManage = ConsumerManageProcessor(
            offsets: consumerOffsetManager, groups: subscriptionGroupManager, topics: topicConfigManager,
            consumers: consumerManager, store: store)
        for code in [RequestCode.queryConsumerOffset, .updateConsumerOffset, .getConsumerListByGroup] {
            server.registerProcessor(code, consumerManage, on: .executor(e.consumerManage))
        }
        let clientManage = ClientManageProcessor(environment: BrokerClientEnvironment(controller: self))
        server.registerProcessor(.heartBeat, clientManage, on: .executor(e.heartbeat))
        server.registerProcessor(.unregisterClient, clientManage, on: .executor(e.clientManage))
        server.registerProcessor(.checkClientConfig, clientManage, on: .executor(e.clientManage))
        let query = QueryMessageProcessor(store: store)
        server.registerProcessor(.viewMessageById, query, on: .executor(e.query))
        server.registerProcessor(.queryMessage, query, on: .executor(e.query))
        let admin = AdminBrokerProcessor(broker: self)
        for code in AdminBrokerProcessor.codes { server.registerProcessor(code, admin, on: .executor(e.admin)) }
        for code in ConnectionQueryProcessor.codes {
            server.registerProcessor(code, ConnectionQueryProcessor(consumers: consumerManager, producers: producerManager), on: .executor(e.admin))
        }
        server.registerProcessor(.invokeBrokerToResetOffset, ResetOffsetProcessor(
            topics: topicConfigManager, consumers: consumerManager, offsets: consumerOffsetManager, store: store,
            brokerName: brokerConfig.brokerName), on: .executor(e.admin))
        server.registerProcessor(.invokeBrokerToGetConsumerStatus, ConsumerStatusProcessor(consumers: consumerManager, logger: logger), on: .executor(e.admin))
        server.registerProcessor(.endTransaction, EndTransactionProcessor(bridge: transactionBridge, config: self, stats: stats), on: .executor(e.endTransaction))
        server.addChannelEventListener(ClientHousekeepingService(controller: self))
    }

    private func startTasks() {
        let c = brokerConfig
        func every(_ periodMs: Int64, firstMs: Int64? = nil, _ body: @escaping @Sendable () async -> Void) {
            background.spawnPeriodic(initialDelay: .milliseconds(max(1, firstMs ?? periodMs)),
                                     every: .milliseconds(max(1, periodMs)), body)
        }
        // The periodic registration goes through the job too, so registrations never overlap: an older
        // table (older data version, older perm) cannot reach a NameServer after a newer one.
        every(c.registerNameServerPeriod, firstMs: min(10_000, c.registerNameServerPeriod)) { [self] in registerBrokerAllSoon() }
        // Every registration (periodic, topic changes, brokerPermission), one at a time; ends at shutdown.
        background.spawn { [self] in
            for await _ in registrationRequests.stream {
                let covered = registrationWaiters.withLock { $0.requested }
                await registerBrokerAll()
                for waiter in registrationWaiters.withLock({ $0.take(upTo: covered) }) { waiter.resume() }
            }
        }
        every(c.flushConsumerOffsetInterval) { [self] in consumerOffsetManager.persist() }
        // Every 10 s, or twice per expiry period when that is shorter (tests shorten it).
        every(min(10_000, max(100, c.channelExpiredTimeout / 2))) { [self] in scanNotActiveChannels() }
        every(max(10, c.pullHoldCheckIntervalMs)) { [self] in pullRequestHoldService.sweep(nowMs: nowMs()) }
        // Snapshots of the per group@topic pull counts behind the consume TPS (GroupGetStats).
        every(GroupGetStats.samplePeriodMs) { [self] in stats.groupGetNums.sample(nowMs: nowMs()) }
        if c.brokerFastFailureEnable {
            every(10) { [self] in executors.cleanExpiredRequests(pageCacheBusy: store.isOSPageCacheBusy) }
        }
        // A slave copies its master's metadata every 10 s (broker.md §12.3, 4.x's period).
        if let sync = slaveSynchronize {
            every(10_000, firstMs: 1_000) { [self] in if store.isSlave { await sync.syncAll() } }
        }
        if !store.isSlave { startMasterJobs() }
        if let mode = controllerMode { startControllerModeTasks(mode) }
    }

    /// Delay levels (broker.md §7: every 100 ms, offsets saved every 10 s) and transaction checks (§8.3: every
    /// transactionCheckInterval) run on a master only: started at start, or when a controller makes this
    /// broker master (once; a master made slave again delivers nothing, its store refusing puts).
    func startMasterJobs() {
        guard !masterJobsStarted.exchange(true, ordering: .acquiringAndReleasing) else { return }
        background.spawnPeriodic(initialDelay: .milliseconds(1000), every: .milliseconds(100)) { [self] in
            if !store.isSlave { await scheduleMessageService.deliverDue(nowMs: nowMs()) }
        }
        background.spawnPeriodic(initialDelay: .milliseconds(10_000), every: .milliseconds(10_000)) { [self] in
            scheduleMessageService.persist()
        }
        let checkService = TransactionalMessageCheckService(bridge: transactionBridge, producers: producerManager, config: self)
        background.spawn { await checkService.run() }
    }

    /// Half messages, op records and check progress as the store holds them.
    var transactionBridge: TransactionalMessageBridge {
        TransactionalMessageBridge(store: store, topics: topicConfigManager, offsets: consumerOffsetManager,
                                   topicCreated: { [weak self] in self?.registerBrokerAllSoon() }, logger: logger)
    }

    // MARK: NameServer registration

    var identity: BrokerIdentityHeader {
        let c = brokerConfig
        return BrokerIdentityHeader(brokerName: c.brokerName, brokerAddr: c.brokerAddr, clusterName: c.brokerClusterName,
                                    brokerId: c.brokerId)
    }

    /// REGISTER_BROKER with the whole topic table (perm masked by brokerPermission) to every NameServer.
    func registerBrokerAll() async {
        let c = brokerConfig
        guard !c.namesrvAddrList.isEmpty else { return }
        var wrapper = topicConfigManager.wrapper
        if c.brokerPermission & 6 != 6 {
            for (k, var t) in wrapper.topicConfigTable {
                t.perm &= c.brokerPermission
                wrapper.topicConfigTable[k] = t
            }
        }
        let registered = await brokerOuterAPI.registerBrokerAll(namesrvAddrs: c.namesrvAddrList, identity: identity,
                                                                haServerAddr: c.haServerAddr, wrapper: wrapper,
                                                                timeoutMs: c.registerBrokerTimeoutMills)
        // A slave without haMasterAddress follows the HA address its registration returned (broker.md §11.1).
        // (Checked again here: in controller mode a registration begun as a slave may end after a promotion.)
        if let haClient, store.isSlave, store.config.haMasterAddress == nil, let ha = registered.result?.haServerAddr, !ha.isEmpty {
            haClient.updateMasterAddress(ha)
        }
        // A slave learns its master's address the same way, and syncs metadata at once when it changed.
        if let sync = slaveSynchronize, store.isSlave, let master = registered.result?.masterAddr, !master.isEmpty,
           sync.masterAddr != master {
            sync.masterAddr = master
            background.spawn { await sync.syncAll() }
        }
    }

    /// Asks the registration job to register now (after a topic or permission change). Requests made while
    /// one registration runs are served by one more, not one each.
    func registerBrokerAllSoon() {
        registrationWaiters.withLock { $0.requested += 1 }
        registrationRequests.continuation.yield()
    }

    /// As registerBrokerAllSoon, and returns once a registration that started after this call has ended
    /// (answered or failed at every NameServer), or at once when the broker is stopping. The admin path
    /// (brokerPermission) uses it so the NameServers' routes have changed when the answer is written.
    func registerBrokerAllAndWait() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let queued = registrationWaiters.withLock { w -> Bool in
                guard !w.closed else { return false }
                w.requested += 1
                w.waiting.append((w.requested, waiter))
                return true
            }
            if queued { registrationRequests.continuation.yield() } else { waiter.resume() }
        }
    }

    // MARK: clients

    func notifyConsumerIdsChanged(group: String) {
        guard brokerConfig.notifyConsumerIdsChangedEnable,
              subscriptionGroupManager.find(group)?.notifyConsumerIdsChangedEnable ?? true,
              let info = consumerManager.groupInfo(group)
        else { return }
        let request = RemotingCommand.request(.notifyConsumerIdsChanged, header: NotifyConsumerIdsChangedRequestHeader(consumerGroup: group))
        for ch in info.channels.keys { ch.sendOneway(request) }
    }

    func channelClosed(_ channel: RemotingChannel) {
        producerManager.channelClosed(channel)
        for g in consumerManager.channelClosed(channel) {
            logger.info("consumer channel \(channel.remoteAddress) of group \(g) closed")
            notifyConsumerIdsChanged(group: g)
        }
    }

    func scanNotActiveChannels() {
        let now = nowMs()
        var groups = Set<String>()
        for (g, ch) in consumerManager.scanNotActive(nowMs: now, timeoutMs: brokerConfig.channelExpiredTimeout) {
            logger.warning("consumer channel \(ch.remoteAddress) of group \(g) expired: silent for more than \(brokerConfig.channelExpiredTimeout) ms")
            ch.close()
            groups.insert(g)
        }
        for ch in producerManager.scanNotActive(nowMs: now) {
            logger.warning("producer channel \(ch.remoteAddress) expired")
            ch.close()
        }
        for g in groups { notifyConsumerIdsChanged(group: g) }
    }

    /// Broker keys then store keys, as `key=value` lines (`-p`, GET_BROKER_CONFIG).
    public var allConfigLines: [String] { brokerConfig.propertiesLines + StoreConfigPrinter.lines(store.config) }

    // MARK: stop

    /// Graceful stop, in order: background jobs ended, unregister, held pulls answered, executors drained,
    /// connections closed, the store flushed and checkpointed (removing the abort
    /// file), offsets, topics and groups persisted. Nothing refers to the controller afterwards, so the
    /// store's files and rings are closed when the last reference goes (BrokerLifecycleTests).
    public func shutdown() async {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        // Periodic jobs and the registration job end first (a registration still running completes), so no
        // registration can reach a NameServer after the broker unregistered.
        registrationRequests.continuation.finish()
        await background.shutdown()
        await brokerOuterAPI.unregisterBrokerAll(namesrvAddrs: brokerConfig.namesrvAddrList, identity: identity)
        // Parked pulls are answered through the pull executor; each executor then answers what is still
        // queued and waits for what it runs, so every answer is written before the connections close.
        pullRequestHoldService.close()
        await executors.shutdown()
        await server.shutdown()
        // Replication stops before the store: waiting SYNC_MASTER puts were answered with the executors.
        await haService?.shutdown()
        store.setReplicaAckWaiter(nil)
        await haClient?.shutdown()
        await controllerMode?.manager.shutdown()
        pullRequestHoldService.setReexecutor(nil, on: executors.pull)
        // The registration job has ended: nobody would resume a caller still waiting for it.
        for waiter in registrationWaiters.withLock({ $0.close() }) { waiter.resume() }
        arrivalRelay.withLock { $0?.clear(); $0 = nil }
        store.shutdown()
        consumerOffsetManager.persist(force: true)
        scheduleMessageService.persist()
        topicConfigManager.persist()
        subscriptionGroupManager.persist()
        await brokerOuterAPI.shutdown()
    }
}

public enum BrokerError: Error, CustomStringConvertible {
    case badConfig(String)
    public var description: String {
        switch self { case .badConfig(let s): return "bad broker config: \(s)" }
    }
}

/// Registration requests are numbered; a registration that starts when `requested` is n covers every
/// request up to n, so the job resumes the callers waiting for those once it ends.
struct RegistrationWaiters {
    var requested = 0
    var waiting: [(request: Int, continuation: CheckedContinuation<Void, Never>)] = []
    /// Set at shutdown, after the job ended: later callers are not queued.
    var closed = false

    mutating func take(upTo covered: Int) -> [CheckedContinuation<Void, Never>] {
        let done = waiting.filter { $0.request <= covered }.map(\.continuation)
        waiting.removeAll { $0.request <= covered }
        return done
    }

    mutating func close() -> [CheckedContinuation<Void, Never>] {
        closed = true
        defer { waiting = [] }
        return waiting.map(\.continuation)
    }
}

/// Channel close events → client tables.
struct ClientHousekeepingService: RemotingChannelEventListener {
    let controller: BrokerController
    func channelClosed(_ channel: RemotingChannel) async { controller.channelClosed(channel) }
}

/// Forwards store arrivals (dispatcher thread) to the hold service once it exists, and to one more
/// listener (the gRPC endpoint's held receives) when set; both read under one lock.
final class ArrivalRelay: Sendable {
    private struct Targets {
        var service: PullRequestHoldService?
        var listener: (@Sendable (MessageArrival) -> Void)?
    }
    private let targets = Mutex(Targets())
    func set(_ s: PullRequestHoldService) { targets.withLock { $0.service = s } }
    func setListener(_ l: (@Sendable (MessageArrival) -> Void)?) { targets.withLock { $0.listener = l } }
    func clear() { targets.withLock { $0 = Targets() } }
    func arrived(_ a: MessageArrival) {
        let t = targets.withLock { $0 }
        t.service?.notifyMessageArriving(topic: a.topic, queueId: a.queueId, maxOffset: a.nextQueueOffset, tagsCode: a.tagsCode)
        t.listener?(a)
    }
}
