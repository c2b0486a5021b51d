// MQClientInstance: the runtime shared by every producer and consumer of one client id in the process
// (client.md §4): connections, route and broker-address tables, route refresh and heartbeats every 30 s,
// offset persistence every 5 s, the rebalance service (20 s or on NOTIFY_CONSUMER_IDS_CHANGED), and
// unregistering at shutdown. State behind Mutexes. Its periodic jobs and the rebalance service belong to
// `jobs`; the last producer or consumer to leave shuts it down: it leaves MQClientManager, stops its inner
// producer, awaits its jobs, then closes its connections.

import Common
import Foundation
import Logging
import NIOCore
import NIOPosix
import Remoting
import Synchronization

/// What the instance needs from a producer.
protocol MQProducerInner: AnyObject, Sendable {
    var publishTopics: [String] { get }
    func updateTopicPublishInfo(_ topic: String, _ info: TopicPublishInfo)
    func checkTransactionState(channel: RemotingChannel, message: MessageExt, header: CheckTransactionStateRequestHeader)
}

/// What the instance needs from a consumer (push or lite pull).
protocol MQConsumerInner: AnyObject, Sendable {
    var groupName: String { get }
    func consumerData() -> ConsumerData
    var subscribedTopics: [String] { get }
    func updateTopicSubscribeInfo(_ topic: String, _ queues: Set<MessageQueue>)
    func doRebalance() async
    func persistConsumerOffset() async
    /// RESET_CONSUMER_CLIENT_OFFSET for this consumer's group (push consumers; others ignore it).
    func resetOffset(topic: String, offsets: [MessageQueue: Int64]) async
    /// GET_CONSUMER_STATUS_FROM_CLIENT: the offsets held in memory for `topic`.
    func consumerStatus(topic: String) -> [MessageQueue: Int64]
}

extension MQConsumerInner {
    // As Java's MQClientInstance: only push consumers take part in a reset or report their status.
    func resetOffset(topic: String, offsets: [MessageQueue: Int64]) async {}
    func consumerStatus(topic: String) -> [MessageQueue: Int64] { [:] }
}

/// One instance per client id in the process (`MQClientManager`).
public enum MQClientManager {
    private static let instances = Mutex<[String: MQClientInstance]>([:])

    static func getOrCreate(_ config: ClientConfig) -> MQClientInstance {
        instances.withLock { t in
            if let i = t[config.clientID] { return i }
            let i = MQClientInstance(config: config)
            t[config.clientID] = i
            return i
        }
    }

    /// Client instances alive in this process (each one's connections and periodic jobs).
    public static var instanceCount: Int { instances.withLock { $0.count } }

    static func remove(_ instance: MQClientInstance) {
        instances.withLock { t in if t[instance.clientID] === instance { t[instance.clientID] = nil } }
    }
}

public final class MQClientInstance: Sendable {
    public let clientID: String
    let config: ClientConfig
    let api: MQClientAPI
    let remoting: RemotingClient
    let logger: Logger
    /// The periodic jobs and the rebalance service; closed by shutdown, so nothing starts after it.
    let jobs: BackgroundTasks

    struct State {
        var started = false
        /// Shut down (or shutting down): registrations are refused, a caller must take a new instance.
        var shutDown = false
        var topicRouteTable: [String: TopicRouteData] = [:]
        var brokerAddrTable: [String: [Int64: String]] = [:]
        var producers: [String: any MQProducerInner] = [:]
        var consumers: [String: any MQConsumerInner] = [:]
        var rebalanceWakeup = false
        /// Brokers that answered a heartbeat at least once.
        var heartbeatedAddrs: Set<String> = []
    }
    private let state = Mutex<State>(State())

    init(config: ClientConfig) {
        self.config = config
        self.clientID = config.clientID
        var logger = Logger(label: "apus.client")
        logger.logLevel = .warning
        self.logger = logger
        jobs = BackgroundTasks(name: "MQClientInstance \(config.clientID)")
        remoting = RemotingClient(group: MultiThreadedEventLoopGroup.singleton, logger: logger)
        api = MQClientAPI(remoting: remoting, config: config)
        let wake: @Sendable (RemotingCommand, RemotingChannel) async throws -> RemotingCommand? = { [weak self] _, _ in
            self?.rebalanceImmediately()
            return nil
        }
        remoting.registerProcessor(.notifyConsumerIdsChanged, ClosureRequestProcessor(wake))
        let check: @Sendable (RemotingCommand, RemotingChannel) async throws -> RemotingCommand? = { [weak self] request, channel in
            self?.checkTransactionState(request, channel: channel)
            return nil
        }
        remoting.registerProcessor(.checkTransactionState, ClosureRequestProcessor(check))
        let reset: @Sendable (RemotingCommand, RemotingChannel) async throws -> RemotingCommand? = { [weak self] request, channel in
            await self?.resetOffset(request, channel: channel)
            return nil
        }
        remoting.registerProcessor(.resetConsumerClientOffset, ClosureRequestProcessor(reset))
        let status: @Sendable (RemotingCommand, RemotingChannel) async throws -> RemotingCommand? = { [weak self] request, _ in
            self?.consumerStatus(request)
        }
        remoting.registerProcessor(.getConsumerStatusFromClient, ClosureRequestProcessor(status))
    }

    /// RESET_CONSUMER_CLIENT_OFFSET (220, one-way, sent by the broker after `mqadmin resetOffsetByTime`;
    /// Java: ClientRemotingProcessor.resetOffset → MQClientInstance.resetOffset): the group's consumer here
    /// restarts the named queues of the topic from the given offsets. Never answered.
    func resetOffset(_ request: RemotingCommand, channel: RemotingChannel) async {
        guard let header = try? request.decodeHeader(ResetOffsetRequestHeader.self) else {
            logger.warning("malformed RESET_CONSUMER_CLIENT_OFFSET from \(channel.remoteAddress)")
            return
        }
        let offsets = request.body.flatMap { try? ResetOffsetBody.decode($0) }?.offsetTable ?? [:]
        logger.info("invoke reset offset operation from broker. brokerAddr=\(channel.remoteAddress), topic=\(header.topic), group=\(header.group), timestamp=\(header.timestamp)")
        guard let consumer = state.withLock({ $0.consumers[header.group] }) else {
            logger.info("[reset-offset] consumer does not exist. group=\(header.group)")
            return
        }
        await consumer.resetOffset(topic: header.topic, offsets: offsets)
    }

    /// GET_CONSUMER_STATUS_FROM_CLIENT (221; Java: ClientRemotingProcessor.getConsumeStatus): the group's
    /// in-memory offsets of the topic (empty when the group has no consumer here).
    func consumerStatus(_ request: RemotingCommand) -> RemotingCommand {
        guard let header = try? request.decodeHeader(GetConsumerStatusRequestHeader.self) else {
            return request.makeResponse(.systemError, remark: "bad GET_CONSUMER_STATUS_FROM_CLIENT header")
        }
        let table = state.withLock { $0.consumers[header.group] }?.consumerStatus(topic: header.topic) ?? [:]
        return request.makeResponse(.success, body: GetConsumerStatusBody(messageQueueTable: table).encode())
    }

    /// CHECK_TRANSACTION_STATE (client.md §7.3): handed to the local producer of the message's PGROUP; no
    /// response is ever sent (the answer is an END_TRANSACTION).
    func checkTransactionState(_ request: RemotingCommand, channel: RemotingChannel) {
        guard let header = try? request.decodeHeader(CheckTransactionStateRequestHeader.self),
              var message = MessageDecoder.decodeAll(request.bodyBytes, decompress: true).first else {
            logger.warning("malformed CHECK_TRANSACTION_STATE from \(channel.remoteAddress)")
            return
        }
        if message.message.properties[MessageConst.transactionId] == nil, let id = header.transactionId ?? message.message.uniqueKey {
            message.message.properties[MessageConst.transactionId] = id
        }
        guard let group = message.message.properties[MessageConst.producerGroup],
              let producer = state.withLock({ $0.producers[group] }) else {
            logger.debug("transaction check for a producer group not in this client")
            return
        }
        producer.checkTransactionState(channel: channel, message: message, header: header)
    }

    // MARK: registration

    func registerProducer(_ group: String, _ p: any MQProducerInner) throws(MQClientError) {
        try state.withLock { s throws(MQClientError) in
            guard !s.shutDown else { throw Self.shutDownError }
            guard s.producers[group] == nil else { throw .illegalState("The producer group[\(group)] has been created before") }
            s.producers[group] = p
        }
    }

    func registerConsumer(_ group: String, _ c: any MQConsumerInner) throws(MQClientError) {
        try state.withLock { s throws(MQClientError) in
            guard !s.shutDown else { throw Self.shutDownError }
            guard s.consumers[group] == nil else { throw .illegalState("The consumer group[\(group)] has been created before") }
            s.consumers[group] = c
        }
    }

    /// Unregisters at every known broker and shuts the instance when nobody uses it any more. Only the
    /// object registered under the group counts: one whose registration was refused releases nothing else's.
    func unregisterProducer(_ group: String, _ p: any MQProducerInner) async {
        let mine = state.withLock { s -> Bool in
            guard s.producers[group] === p else { return false }
            s.producers[group] = nil
            return true
        }
        await unregister(mine, producerGroup: group, consumerGroup: nil)
    }

    func unregisterConsumer(_ group: String, _ c: any MQConsumerInner) async {
        let mine = state.withLock { s -> Bool in
            guard s.consumers[group] === c else { return false }
            s.consumers[group] = nil
            return true
        }
        await unregister(mine, producerGroup: nil, consumerGroup: group)
    }

    /// UNREGISTER_CLIENT at every known broker when the caller owned the registration, then shuts the
    /// instance if nobody uses it any more.
    private func unregister(_ mine: Bool, producerGroup: String?, consumerGroup: String?) async {
        if mine {
            for addr in allBrokerAddrs() {
                await api.unregisterClient(addr, clientID: clientID, producerGroup: producerGroup, consumerGroup: consumerGroup)
            }
        }
        await shutdownIfUnused()
    }

    /// A start raced with the last user's shutdown and got the instance being stopped.
    static let shutDownError = MQClientError.illegalState("The client instance is shut down; start again")

    /// Java's MQClientInstance.shutdown: once only the inner producer is left, the instance leaves the
    /// manager (a new start gets a fresh one), stops its inner producer, awaits its periodic jobs and
    /// rebalance service (cancelled, so a heartbeat or route fetch in flight ends at once) and then
    /// closes its connections, which fails whatever request was still waiting on them.
    private func shutdownIfUnused() async {
        let stop = state.withLock { s -> Bool in
            guard s.producers.keys.allSatisfy({ $0 == "CLIENT_INNER_PRODUCER" }), s.consumers.isEmpty, !s.shutDown else { return false }
            s.producers = [:]
            s.shutDown = true
            return true
        }
        guard stop else { return }
        MQClientManager.remove(self)
        if let inner = InnerProducers.table.withLock({ $0.removeValue(forKey: clientID) }) { await inner.shutdownInner() }
        await jobs.shutdown()
        await remoting.shutdown()
    }

    // MARK: start and periodic tasks

    /// Starts the periodic jobs once. The jobs hold the instance until its shutdown awaits them.
    func start() {
        let begin = state.withLock { s -> Bool in
            guard !s.started, !s.shutDown else { return false }
            s.started = true
            return true
        }
        guard begin else { return }
        let c = config
        jobs.spawnPeriodic(initialDelay: .milliseconds(c.pollNameServerIntervalMs), every: .milliseconds(c.pollNameServerIntervalMs)) {
            [self] in await updateTopicRouteInfoFromNameServer()
        }
        jobs.spawnPeriodic(initialDelay: .milliseconds(1_000), every: .milliseconds(c.heartbeatBrokerIntervalMs)) {
            [self] in await sendHeartbeatToAllBrokers()
        }
        jobs.spawnPeriodic(initialDelay: .milliseconds(10_000), every: .milliseconds(c.persistConsumerOffsetIntervalMs)) {
            [self] in await persistAllConsumerOffset()
        }
        jobs.spawn { [self] in await rebalanceService() }
    }

    /// Waits 20 s (or until woken), then rebalances every consumer.
    private func rebalanceService() async {
        let waitMs: Int64 = Int64(ProcessInfo.processInfo.environment["ROCKETMQ_REBALANCE_WAIT_INTERVAL"].flatMap { Int64($0) } ?? 20_000)
        while !Task.isCancelled {
            let deadline = ContinuousClock.now + .milliseconds(waitMs)
            while ContinuousClock.now < deadline && !Task.isCancelled {
                let woken = state.withLock { s in defer { s.rebalanceWakeup = false }; return s.rebalanceWakeup }
                if woken { break }
                do { try await Task.sleep(for: .milliseconds(20)) } catch { return }
            }
            guard !Task.isCancelled else { return }
            await doRebalance()
        }
    }

    func rebalanceImmediately() { state.withLock { $0.rebalanceWakeup = true } }

    func doRebalance() async {
        for c in state.withLock({ Array($0.consumers.values) }) { await c.doRebalance() }
    }

    func persistAllConsumerOffset() async {
        for c in state.withLock({ Array($0.consumers.values) }) { await c.persistConsumerOffset() }
    }

    // MARK: routes

    func updateTopicRouteInfoFromNameServer() async {
        let (ps, cs) = state.withLock { (Array($0.producers.values), Array($0.consumers.values)) }
        var topics = Set<String>()
        for p in ps { topics.formUnion(p.publishTopics) }
        for c in cs { topics.formUnion(c.subscribedTopics) }
        for t in topics { _ = try? await updateTopicRouteInfo(t) }
    }

    /// Fetches the route of `topic` and pushes publish/subscribe info to producers and consumers.
    @discardableResult
    func updateTopicRouteInfo(_ topic: String) async throws(MQClientError) -> TopicRouteData {
        let route = try await api.getTopicRouteInfo(topic)
        let (ps, cs) = state.withLock { s in
            s.topicRouteTable[topic] = route
            for bd in route.brokerDatas { s.brokerAddrTable[bd.brokerName] = bd.brokerAddrs }
            return (Array(s.producers.values), Array(s.consumers.values))
        }
        let info = TopicPublishInfo(topic: topic, route: route)
        for p in ps { p.updateTopicPublishInfo(topic, info) }
        let subscribe = Self.subscribeQueues(topic: topic, route: route)
        for c in cs { c.updateTopicSubscribeInfo(topic, subscribe) }
        return route
    }

    static func subscribeQueues(topic: String, route: TopicRouteData) -> Set<MessageQueue> {
        var out = Set<MessageQueue>()
        for qd in route.queueDatas where PermName.isReadable(qd.perm) {
            for q in 0..<qd.readQueueNums { out.insert(MessageQueue(topic: topic, brokerName: qd.brokerName, queueId: q)) }
        }
        return out
    }

    /// Learns a topic's route now if unknown (a retry topic the broker created on send-back) and rebalances.
    func ensureRoute(_ topic: String) async {
        guard topicRoute(topic) == nil, (try? await updateTopicRouteInfo(topic)) != nil else { return }
        rebalanceImmediately()
    }

    func topicRoute(_ topic: String) -> TopicRouteData? { state.withLock { $0.topicRouteTable[topic] } }

    // MARK: broker addresses

    func findBrokerAddressInPublish(_ brokerName: String) -> String? {
        state.withLock { $0.brokerAddrTable[brokerName]?[0] }
    }

    /// Subscribe address: requested id, else any address of the broker.
    func findBrokerAddressInSubscribe(_ brokerName: String, brokerId: Int64 = 0) -> String? {
        state.withLock { s in
            guard let m = s.brokerAddrTable[brokerName] else { return nil }
            return m[brokerId] ?? m[0] ?? m.values.first
        }
    }

    /// Master address, refreshing the route of `topic` once if unknown.
    func brokerAddress(_ brokerName: String, topic: String) async throws(MQClientError) -> String {
        if let a = findBrokerAddressInPublish(brokerName) { return a }
        try await updateTopicRouteInfo(topic)
        guard let a = findBrokerAddressInPublish(brokerName) else { throw .brokerNotFound(brokerName) }
        return a
    }

    /// Where consumer offsets are read and written: the master, else (after one route refresh) any slave of
    /// the broker, so a consumer keeps its place while the master is down (Java's RemoteBrokerOffsetStore).
    func brokerAddressForOffsets(_ brokerName: String, topic: String) async throws(MQClientError) -> String {
        if let a = findBrokerAddressInPublish(brokerName) { return a }
        try await updateTopicRouteInfo(topic)
        guard let a = findBrokerAddressInSubscribe(brokerName, brokerId: 0) else { throw .brokerNotFound(brokerName) }
        return a
    }

    /// A broker holding `topic` (its master if any), for consumer-list queries.
    func findBrokerAddrByTopic(_ topic: String) -> String? {
        state.withLock { s in
            guard let route = s.topicRouteTable[topic], let bd = route.brokerDatas.randomElement() else { return nil }
            return bd.brokerAddrs[0] ?? bd.brokerAddrs.values.first
        }
    }

    /// Every address of every broker holding `topic` (CHECK_CLIENT_CONFIG goes to all of them, as Java's).
    func brokerAddresses(ofTopic topic: String) -> [String] {
        state.withLock { s in
            (s.topicRouteTable[topic]?.brokerDatas ?? []).flatMap { $0.brokerAddrs.values }.sorted()
        }
    }

    func allBrokerAddrs(mastersOnly: Bool = false) -> [String] {
        state.withLock { s in
            s.brokerAddrTable.values.flatMap { m in mastersOnly ? m.filter { $0.key == 0 }.map(\.value) : Array(m.values) }
        }
    }

    // MARK: heartbeat

    func heartbeatData() -> HeartbeatData {
        let (ps, cs) = state.withLock { (Array($0.producers.keys), Array($0.consumers.values)) }
        return HeartbeatData(clientID: clientID, producerDataSet: ps.map { ProducerData(groupName: $0) },
                             consumerDataSet: cs.map { $0.consumerData() })
    }

    /// HEART_BEAT to every broker (masters only when there are only producers).
    func sendHeartbeatToAllBrokers() async {
        let data = heartbeatData()
        guard !data.producerDataSet.isEmpty || !data.consumerDataSet.isEmpty else { return }
        for addr in allBrokerAddrs(mastersOnly: data.consumerDataSet.isEmpty) {
            do {
                try await api.sendHeartbeat(addr, data)
                state.withLock { _ = $0.heartbeatedAddrs.insert(addr) }
            } catch {
                logger.warning("heartbeat to \(addr) failed: \(error)")
            }
        }
    }

    /// One heartbeat to a broker this instance has not yet reached. A transaction producer's group must
    /// be known there before the broker can send it checks, and the periodic heartbeat may be 30 s away.
    func sendHeartbeatIfNew(_ addr: String) async {
        guard !state.withLock({ $0.heartbeatedAddrs.contains(addr) }) else { return }
        let data = heartbeatData()
        guard !data.producerDataSet.isEmpty || !data.consumerDataSet.isEmpty else { return }
        do {
            try await api.sendHeartbeat(addr, data)
            state.withLock { _ = $0.heartbeatedAddrs.insert(addr) }
        } catch {
            logger.warning("heartbeat to \(addr) failed: \(error)")
        }
    }
}

extension MQClientInstance {
    /// The instance's CLIENT_INNER_PRODUCER (consumer send-back fallback), started on first use.
    func innerProducer() async throws(MQClientError) -> Producer {
        if let p = InnerProducers.table.withLock({ $0[clientID] }) { return p }
        // Started after shutdown it would join a fresh instance that nobody ever stops.
        guard !state.withLock({ $0.shutDown }) else { throw Self.shutDownError }
        let p = Producer(group: "CLIENT_INNER_PRODUCER", config: config)
        let mine = InnerProducers.table.withLock { t -> Bool in
            if t[clientID] != nil { return false }
            t[clientID] = p
            return true
        }
        guard mine, let stored = InnerProducers.table.withLock({ $0[clientID] }) else {
            return InnerProducers.table.withLock { $0[clientID] } ?? p
        }
        try await stored.start()
        return stored
    }
}

enum InnerProducers {
    static let table = Mutex<[String: Producer]>([:])
}
