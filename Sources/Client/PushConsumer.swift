// PushConsumer (DefaultMQPushConsumer): subscribes with tag expressions, lets RebalanceImpl assign queues,
// long-polls each assigned queue with flow control (client.md §8.8–8.9) and hands messages to the
// concurrent listener through ConsumeMessageConcurrentlyService, or to an orderly listener through
// ConsumeMessageOrderlyService (queues locked at the broker in clustering, locks renewed every 20 s). Offsets: RemoteBrokerOffsetStore when
// clustering, LocalFileOffsetStore when broadcasting. One pull task per assigned queue; state behind a Mutex.
// Pull loops, lock renewal and route refreshes belong to `tasks`; shutdown goes in order: stop pulling,
// let the consume service finish (bounded) and stop, persist offsets, unlock, unregister, and last
// release the client instance (which stops when nobody else uses it).

import Common
import Foundation
import Remoting
import Synchronization

public struct PushConsumerOptions: Sendable {
    public var messageModel: ConsumeMessageModel = .clustering
    public var consumeFromWhere: ConsumeFromWhereSetting = .lastOffset
    public var allocateStrategy: any AllocateMessageQueueStrategy = AllocateMessageQueueAveragely()
    public var consumeThreadCount = 20
    public var pullBatchSize: Int32 = 32
    public var pullBatchSizeInBytes: Int32 = 256 * 1024
    public var pullThresholdForQueue = 1_000
    public var pullThresholdSizeForQueueMiB = 100
    public var consumeConcurrentlyMaxSpan: Int64 = 2_000
    public var consumeMessageBatchMaxSize = 1
    /// -1 = 16.
    public var maxReconsumeTimes: Int32 = -1
    public var pullIntervalMs: Int64 = 0
    public var brokerSuspendMaxTimeMillis: Int64 = 15_000
    public var consumerTimeoutMillisWhenSuspend: Int64 = 30_000
    /// Orderly: how long SUSPEND_CURRENT_QUEUE_A_MOMENT waits unless the context says otherwise (10…30 000).
    public var suspendCurrentQueueTimeMillis: Int64 = 1_000
    /// Concurrently: how long shutdown waits for running listener calls, so the offsets they reach are the
    /// ones persisted (Java's awaitTerminationMillisWhenShutdown; 0 = do not wait).
    public var awaitTerminationMillisWhenShutdown: Int64 = 0
    public init() {}
}

public final class PushConsumer: MQConsumerInner, @unchecked Sendable {
    // Sendable because: `config` is only changed by start() before any task reads it; everything else
    // mutable is behind `state` or is itself Sendable.
    public let group: String
    public let options: PushConsumerOptions
    private var config: ClientConfig

    private enum Listener {
        case concurrently(MessageListenerConcurrently)
        case orderly(MessageListenerOrderly)
    }

    private enum ConsumeService: Sendable {
        case concurrently(ConsumeMessageConcurrentlyService)
        case orderly(ConsumeMessageOrderlyService)
    }

    private struct State {
        var subscriptions: [String: MessageSelector] = [:]
        var listener: Listener?
        var instance: MQClientInstance?
        var rebalance: RebalanceImpl?
        var offsetStore: (any OffsetStore)?
        var consumeService: ConsumeService?
        var serviceState = ServiceState.createJust
        /// Pull loops run while this is set (from partway through start until shutdown).
        var running = false
    }
    private let state = Mutex<State>(State())
    /// Pull loops, lock renewal, route refreshes after subscribe.
    private let tasks: BackgroundTasks

    public init(group: String, config: ClientConfig = ClientConfig(), options: PushConsumerOptions = PushConsumerOptions()) {
        self.group = group
        self.config = config
        self.options = options
        tasks = BackgroundTasks(name: "PushConsumer \(group)")
    }

    /// Subscribes `topic` with "*" or "TagA || TagB"; may be called before or after start.
    public func subscribe(_ topic: String, _ expression: String = "*") throws(MQClientError) {
        try subscribe(topic, selector: .byTag(expression))
    }

    /// Subscribes `topic` with a tag or SQL92 selector; may be called before or after start.
    public func subscribe(_ topic: String, selector: MessageSelector) throws(MQClientError) {
        try Validators.checkTopic(topic)
        let rb = state.withLock { s in
            s.subscriptions[topic] = selector
            return s.rebalance
        }
        if let rb {
            rb.setSubscription(FilterAPI.buildSubscriptionData(topic: topic, selector: selector))
            tasks.spawn { [weak self] in
                guard let inst = self?.state.withLock({ $0.instance }) else { return }
                _ = try? await inst.updateTopicRouteInfo(topic)
                await inst.sendHeartbeatToAllBrokers()
                inst.rebalanceImmediately()
            }
        }
    }

    public func registerMessageListener(_ listener: @escaping MessageListenerConcurrently) {
        state.withLock { $0.listener = .concurrently(listener) }
    }

    /// An orderly listener (Java's MessageListenerOrderly): each queue's messages one batch at a time, in order.
    public func registerMessageListener(orderly listener: @escaping MessageListenerOrderly) {
        state.withLock { $0.listener = .orderly(listener) }
    }

    /// Starts: offset store, consume workers, routes, heartbeat, first rebalance (client.md §8.2).
    public func start() async throws(MQClientError) {
        try state.withLock { s throws(MQClientError) in
            guard s.serviceState == .createJust else { throw s.serviceState.notOK("PushConsumer") }
            s.serviceState = .startFailed  // until the start below completes
        }
        try Validators.checkGroup(group)
        guard group != "DEFAULT_CONSUMER" else { throw .illegalArgument("consumerGroup can not equal DEFAULT_CONSUMER, please specify another one.") }
        guard let listener = state.withLock({ $0.listener }) else { throw .illegalState("messageListener is null") }
        guard !config.namesrvList.isEmpty else { throw .noNameServer }
        if options.messageModel == .clustering { config.changeInstanceNameToPID() }
        let inst = MQClientManager.getOrCreate(config)
        let store: any OffsetStore = options.messageModel == .clustering
            ? RemoteBrokerOffsetStore(instance: inst, group: group)
            : LocalFileOffsetStore(directory: config.localOffsetStoreDir, clientID: inst.clientID, group: group)
        try store.load()
        var isOrder = false
        if case .orderly = listener { isOrder = true }
        let rebalance = RebalanceImpl(
            group: group, messageModel: options.messageModel, strategy: options.allocateStrategy,
            consumeFromWhere: options.consumeFromWhere, instance: inst, offsetStore: store, isOrder: isOrder,
            onQueueAdded: { [weak self] mq, pq, offset in
                guard let self else { return }
                // Refused once shutdown began: the queue is dropped with the others.
                tasks.spawn { await self.pullLoop(mq, pq, offset) }
            })
        let service: ConsumeService
        switch listener {
        case .concurrently(let l):
            service = .concurrently(ConsumeMessageConcurrentlyService(consumer: self, instance: inst, listener: l, offsetStore: store))
        case .orderly(let l):
            service = .orderly(ConsumeMessageOrderlyService(consumer: self, instance: inst, listener: l, offsetStore: store,
                                                            lockQueue: { [weak rebalance] mq in await rebalance?.lock(mq) ?? false }))
        }
        var subs = state.withLock { $0.subscriptions }
        if options.messageModel == .clustering { subs["%RETRY%" + group] = .byTag("*") }
        for (t, e) in subs { rebalance.setSubscription(FilterAPI.buildSubscriptionData(topic: t, selector: e)) }
        state.withLock { s in
            s.instance = inst
            s.rebalance = rebalance
            s.offsetStore = store
            s.consumeService = service
            s.running = true
        }
        try inst.registerConsumer(group, self)
        inst.start()
        if case .concurrently(let s) = service { s.start(workers: options.consumeThreadCount) }
        if isOrder && options.messageModel == .clustering {
            // Renew every lock every 20 s, the first after 1 s (rocketmq.client.rebalance.lockInterval).
            tasks.spawnPeriodic(initialDelay: .seconds(1), every: .seconds(20)) { await rebalance.lockAll() }
        }
        for t in subs.keys.sorted() {
            do { try await inst.updateTopicRouteInfo(t) } catch {
                if error.isNetwork || error == .noNameServer {
                    await shutdown()
                    throw error
                }
                if !t.hasPrefix("%RETRY%") { inst.logger.warning("\(error)") }
            }
        }
        // As Java's checkClientInBroker: every broker of an SQL92 topic must accept the selector (CHECK_CLIENT_CONFIG).
        for (topic, selector) in subs where selector.expressionType != "TAG" {
            let sub = FilterAPI.buildSubscriptionData(topic: topic, selector: selector)
            for addr in inst.brokerAddresses(ofTopic: topic) {
                do { try await inst.api.checkClientInBroker(addr, group: group, clientId: inst.clientID, subscription: sub) } catch {
                    await shutdown()
                    throw error
                }
            }
        }
        state.withLock { $0.serviceState = .running }
        await inst.sendHeartbeatToAllBrokers()
        inst.rebalanceImmediately()
    }

    /// Where this consumer is in its lifecycle.
    public var serviceState: ServiceState { state.withLock { $0.serviceState } }

    /// RUNNING -> SHUTDOWN_ALREADY (also releases what a failed start had taken), in order: pull loops and
    /// lock renewal end (a long poll in flight is abandoned); no listener call starts and the running ones
    /// get `awaitTerminationMillisWhenShutdown` to commit; the queues are dropped (orderly batches get 5 s
    /// to commit) and the consume service's tasks are awaited; the offsets are persisted and the orderly
    /// locks released; the group is unregistered and the client instance released. Returns when all of
    /// it is done; nothing of this consumer runs afterwards.
    public func shutdown() async {
        let (inst, rb, store, service) = state.withLock { s in
            defer { s.running = false; s.instance = nil }
            if s.serviceState == .running { s.serviceState = .shutdownAlready }
            return (s.instance, s.rebalance, s.offsetStore, s.consumeService)
        }
        guard let inst else { return }
        await tasks.shutdown()
        if case .concurrently(let s)? = service {
            s.stop()
            await s.awaitIdle(timeoutMs: options.awaitTerminationMillisWhenShutdown)
        }
        if let rb {
            let dropped = rb.dropAll()
            // Orderly: let running batches finish (bounded) so their offsets are committed before unlocking.
            if rb.isOrder {
                let deadline = ContinuousClock.now + .seconds(5)
                while dropped.values.contains(where: \.consumeLoopRunning) && ContinuousClock.now < deadline {
                    do { try await Task.sleep(for: .milliseconds(10)) } catch { break }
                }
            }
            switch service {
            case .concurrently(let s)?: await s.shutdown()
            case .orderly(let s)?: await s.shutdown()
            case nil: break
            }
            await rb.shutdown()
            if let store {
                let queues = Set(dropped.keys)
                await store.persistAll(queues)
                await rb.unlockAll(queues: Array(queues))
            }
        }
        await inst.unregisterConsumer(group, self)
    }

    var isRunning: Bool { state.withLock { $0.running } }

    // MARK: MQConsumerInner

    var groupName: String { group }

    func consumerData() -> ConsumerData {
        let subs = state.withLock { $0.rebalance }?.subscriptions.values.sorted { $0.topic < $1.topic } ?? []
        return ConsumerData(groupName: group, consumeType: "CONSUME_PASSIVELY", messageModel: options.messageModel.rawValue,
                            consumeFromWhere: options.consumeFromWhere.wireName, subscriptionDataSet: subs)
    }

    var subscribedTopics: [String] { state.withLock { $0.rebalance }.map { Array($0.subscriptions.keys) } ?? [] }

    func updateTopicSubscribeInfo(_ topic: String, _ queues: Set<MessageQueue>) {
        state.withLock { $0.rebalance }?.updateTopicSubscribeInfo(topic, queues)
    }

    func doRebalance() async {
        guard isRunning, let rb = state.withLock({ $0.rebalance }) else { return }
        await rb.doRebalance()
    }

    func persistConsumerOffset() async {
        guard let (rb, store) = state.withLock({ s in s.rebalance.flatMap { r in s.offsetStore.map { (r, $0) } } }) else { return }
        await store.persistAll(Set(rb.processQueueTable.keys))
    }

    /// RESET_CONSUMER_CLIENT_OFFSET (Java: MQClientInstance.resetOffset): the queues of `topic` in `offsets`
    /// that this consumer pulls are dropped; once their running listener calls (or orderly consume loops)
    /// ended — at most 10 s, the wait Java sleeps unconditionally — each gets its new offset, persisted at
    /// the broker, and an immediate rebalance takes the queue again and reads that offset back. So
    /// consumption restarts from the reset point, and no batch consumed before the reset can commit its
    /// old offset over it (the periodic persist would otherwise undo the reset within 5 s).
    func resetOffset(topic: String, offsets: [MessageQueue: Int64]) async {
        guard isRunning, let (inst, rb, store) = state.withLock({ s -> (MQClientInstance, RebalanceImpl, any OffsetStore)? in
            guard let i = s.instance, let r = s.rebalance, let o = s.offsetStore else { return nil }
            return (i, r, o)
        }) else { return }
        let dropped = rb.dropForReset(topic: topic, queues: Set(offsets.keys))
        let deadline = ContinuousClock.now + .seconds(10)
        while dropped.values.contains(where: { $0.listenerCallsRunning || $0.consumeLoopRunning }) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        for mq in dropped.keys.sorted() {
            guard let offset = offsets[mq] else { continue }
            store.updateOffset(mq, offset, increaseOnly: false)
            await store.persist(mq)
            store.removeOffset(mq)
        }
        inst.logger.info("reset offsets of \(dropped.count) queue(s) of \(topic) for group \(group)")
        await rb.doRebalance()
    }

    func consumerStatus(topic: String) -> [MessageQueue: Int64] {
        state.withLock { $0.offsetStore }?.offsetTable(topic: topic) ?? [:]
    }

    /// The queues this consumer currently pulls.
    public var assignedQueues: Set<MessageQueue> {
        Set(state.withLock { $0.rebalance }?.processQueueTable.keys ?? [:].keys)
    }

    // MARK: pull loop

    private func pullLoop(_ mq: MessageQueue, _ pq: ProcessQueue, _ startOffset: Int64) async {
        guard let (inst, rb, store, service) = state.withLock({ s -> (MQClientInstance, RebalanceImpl, any OffsetStore, ConsumeService)? in
            guard let i = s.instance, let r = s.rebalance, let o = s.offsetStore, let c = s.consumeService else { return nil }
            return (i, r, o, c)
        }) else { return }
        var nextOffset = startOffset
        var brokerId: Int64 = 0
        let sizeLimit = Int64(options.pullThresholdSizeForQueueMiB) * 1024 * 1024
        while !pq.dropped && isRunning && !Task.isCancelled {
            if pq.messageCount > options.pullThresholdForQueue || pq.messageBytes > sizeLimit
                || (!rb.isOrder && pq.maxSpan > options.consumeConcurrentlyMaxSpan)
            {
                try? await Task.sleep(for: .milliseconds(50))
                continue
            }
            if rb.isOrder && options.messageModel == .clustering && !pq.locked {
                try? await Task.sleep(for: .milliseconds(config.pullTimeDelayMillsWhenException))
                continue
            }
            guard let sub = rb.subscription(mq.topic) else {
                try? await Task.sleep(for: .milliseconds(config.pullTimeDelayMillsWhenException)); continue
            }
            let commitOffset = options.messageModel == .clustering ? await store.readOffset(mq, .memory) : -1
            var sysFlag = PullSysFlag.suspend | PullSysFlag.subscription
            if commitOffset > 0 { sysFlag |= PullSysFlag.commitOffset }
            let header = PullMessageRequestHeader(
                consumerGroup: group, topic: mq.topic, queueId: mq.queueId, queueOffset: nextOffset,
                maxMsgNums: options.pullBatchSize, sysFlag: sysFlag, commitOffset: max(0, commitOffset),
                suspendTimeoutMillis: options.brokerSuspendMaxTimeMillis, subscription: sub.subString,
                subVersion: sub.subVersion, expressionType: sub.expressionType, maxMsgBytes: options.pullBatchSizeInBytes)
            pq.markPulled()
            do {
                guard let addr = inst.findBrokerAddressInSubscribe(mq.brokerName, brokerId: brokerId) else {
                    _ = try? await inst.updateTopicRouteInfo(mq.topic)
                    throw MQClientError.brokerNotFound(mq.brokerName)
                }
                // A slave is never asked to commit the offset (Java's PullAPIWrapper clears the flag for slaves).
                var pullHeader = header
                if addr != inst.findBrokerAddressInPublish(mq.brokerName) { pullHeader.sysFlag &= ~PullSysFlag.commitOffset }
                let r = try await inst.api.pullMessage(addr, pullHeader, lite: false, timeoutMs: options.consumerTimeoutMillisWhenSuspend,
                                                       brokerName: mq.brokerName)
                brokerId = r.suggestWhichBrokerId
                guard !pq.dropped else { return }
                switch r.status {
                case .found:
                    nextOffset = r.nextBeginOffset
                    let msgs = Self.prepareMessages(r, mq: mq, sub: sub)
                    if !msgs.isEmpty {
                        let dispatch = pq.putMessages(msgs)
                        switch service {
                        case .concurrently(let s): s.submit(msgs, pq: pq, mq: mq, batchSize: options.consumeMessageBatchMaxSize)
                        case .orderly(let s): s.submit(pq: pq, mq: mq, dispatch: dispatch)
                        }
                    }
                    if options.pullIntervalMs > 0 { try? await Task.sleep(for: .milliseconds(options.pullIntervalMs)) }
                case .noNewMessage, .noMatchedMessage:
                    nextOffset = r.nextBeginOffset
                    if !pq.hasCachedMessages { store.updateOffset(mq, nextOffset, increaseOnly: true) }
                case .offsetIllegal:
                    pq.dropped = true
                    store.updateOffset(mq, r.nextBeginOffset, increaseOnly: false)
                    await store.persist(mq)
                    await rb.removeProcessQueue(mq)
                    inst.rebalanceImmediately()
                    return
                }
            } catch {
                let flowControl: Bool = if case .broker(215, _)? = error as? MQClientError { true } else { false }
                if !flowControl && !Task.isCancelled { inst.logger.warning("pull of \(mq) failed: \(error)") }
                try? await Task.sleep(for: .milliseconds(flowControl ? 20 : config.pullTimeDelayMillsWhenException))
            }
        }
    }

    /// Tag filter, queue identity, MIN/MAX_OFFSET and the original topic of retried messages.
    static func prepareMessages(_ r: PullResult, mq: MessageQueue, sub: SubscriptionData) -> [MessageExt] {
        var out: [MessageExt] = []
        out.reserveCapacity(r.messages.count)
        for var m in r.messages where FilterAPI.matches(sub, tags: m.tags) {
            m.brokerName = mq.brokerName
            m.queueId = mq.queueId
            m.message.properties[MessageConst.minOffset] = String(r.minOffset)
            m.message.properties[MessageConst.maxOffset] = String(r.maxOffset)
            if let origin = m.message.properties[MessageConst.retryTopic], mq.topic.hasPrefix("%RETRY%") {
                m.message.topic = origin
            }
            out.append(m)
        }
        return out
    }
}
