// LitePullConsumer (DefaultLitePullConsumer, client.md §9.2): subscribe (rebalance-managed) or assign
// queues, then poll cached batches; seek, commit (auto every 5 s from poll, or manual). One pull task per
// queue fills a bounded cache with LITE_PULL_MESSAGE; state behind a Mutex; any task. The pull tasks belong
// to `tasks`: shutdown commits what was polled, ends them (abandoning a long poll), persists the offsets,
// unregisters and releases the client instance.

import Common
import Foundation
import Remoting
import Synchronization

public struct LitePullConsumerOptions: Sendable {
    public var messageModel: ConsumeMessageModel = .clustering
    public var consumeFromWhere: ConsumeFromWhereSetting = .lastOffset
    public var allocateStrategy: any AllocateMessageQueueStrategy = AllocateMessageQueueAveragely()
    public var pullBatchSize: Int32 = 10
    public var pullThresholdForAll = 10_000
    public var autoCommit = true
    public var autoCommitIntervalMs: Int64 = 5_000
    public var pollTimeoutMs: Int64 = 5_000
    public var brokerSuspendMaxTimeMillis: Int64 = 20_000
    public var consumerTimeoutMillisWhenSuspend: Int64 = 30_000
    public init() {}
}

public final class LitePullConsumer: MQConsumerInner, @unchecked Sendable {
    // Sendable because: `config` is only changed by start() before any task reads it; the rest is behind `state`.
    public let group: String
    public let options: LitePullConsumerOptions
    private var config: ClientConfig

    private struct Batch { var mq: MessageQueue; var pq: ProcessQueue; var messages: [MessageExt] }
    private struct State {
        var mode: Int = 0  // 0 none, 1 subscribe, 2 assign
        var subscriptions: [String: String] = [:]
        var assigned: Set<MessageQueue> = []
        var instance: MQClientInstance?
        var rebalance: RebalanceImpl?
        var offsetStore: (any OffsetStore)?
        /// Next pull offset and consumed (polled) offset per queue.
        var pullOffset: [MessageQueue: Int64] = [:]
        var consumedOffset: [MessageQueue: Int64] = [:]
        var queues: [MessageQueue: ProcessQueue] = [:]
        var cache: [Batch] = []
        var cachedCount = 0
        var lastAutoCommit = Date()
        var running = false
        var serviceState = ServiceState.createJust
    }
    private let state = Mutex<State>(State())
    /// One pull loop per queue.
    private let tasks: BackgroundTasks

    public init(group: String, config: ClientConfig = ClientConfig(), options: LitePullConsumerOptions = LitePullConsumerOptions()) {
        self.group = group
        self.config = config
        self.options = options
        tasks = BackgroundTasks(name: "LitePullConsumer \(group)")
    }

    public func subscribe(_ topic: String, _ expression: String = "*") throws(MQClientError) {
        try Validators.checkTopic(topic)
        try state.withLock { s throws(MQClientError) in
            guard s.mode != 2 else { throw .illegalState("Subscribe and assign are mutually exclusive.") }
            s.mode = 1
            s.subscriptions[topic] = expression
        }
    }

    /// Manual assignment; replaces the previous one.
    public func assign(_ queues: [MessageQueue]) async throws(MQClientError) {
        let added: [MessageQueue] = try state.withLock { s throws(MQClientError) in
            guard s.mode != 1 else { throw .illegalState("Subscribe and assign are mutually exclusive.") }
            s.mode = 2
            s.assigned = Set(queues)
            for (mq, pq) in s.queues where !s.assigned.contains(mq) { pq.dropped = true; s.queues[mq] = nil }
            return queues.filter { s.queues[$0] == nil }
        }
        guard let rb = state.withLock({ $0.rebalance }) else { return }
        for mq in added { startQueue(mq, offset: await rb.computePullFromWhere(mq)) }
    }

    public func start() async throws(MQClientError) {
        try state.withLock { s throws(MQClientError) in
            guard s.serviceState == .createJust else { throw s.serviceState.notOK("DefaultLitePullConsumer") }
            s.serviceState = .startFailed  // until the start below completes
        }
        try Validators.checkGroup(group)
        guard !config.namesrvList.isEmpty else { throw .noNameServer }
        config.changeInstanceNameToPID()
        let inst = MQClientManager.getOrCreate(config)
        let store: any OffsetStore = options.messageModel == .clustering
            ? RemoteBrokerOffsetStore(instance: inst, group: group)
            : LocalFileOffsetStore(directory: config.localOffsetStoreDir, clientID: inst.clientID, group: group)
        try store.load()
        let rb = RebalanceImpl(group: group, messageModel: options.messageModel, strategy: options.allocateStrategy,
                               consumeFromWhere: options.consumeFromWhere, instance: inst, offsetStore: store,
                               onQueueAdded: { [weak self] mq, pq, offset in self?.startQueue(mq, offset: offset, pq: pq) })
        let (subs, assigned) = state.withLock { s in
            s.instance = inst; s.rebalance = rb; s.offsetStore = store; s.running = true
            return (s.subscriptions, s.assigned)
        }
        for (t, e) in subs { rb.setSubscription(FilterAPI.buildSubscriptionData(topic: t, expression: e)) }
        try inst.registerConsumer(group, self)
        inst.start()
        for t in Set(subs.keys).union(assigned.map(\.topic)) {
            do { try await inst.updateTopicRouteInfo(t) } catch {
                await shutdown()
                throw error
            }
        }
        await inst.sendHeartbeatToAllBrokers()
        for mq in assigned.sorted() { startQueue(mq, offset: await rb.computePullFromWhere(mq)) }
        if !subs.isEmpty { await rb.doRebalance() }
        state.withLock { $0.serviceState = .running }
    }

    /// Where this consumer is in its lifecycle (RocketMQ's ServiceState).
    public var serviceState: ServiceState { state.withLock { $0.serviceState } }

    /// RUNNING -> SHUTDOWN_ALREADY (also releases what a failed start had taken): commits what was polled
    /// (auto-commit), ends the pull loops and awaits them, persists the offsets, unregisters the group and
    /// releases the client instance.
    public func shutdown() async {
        let (inst, rb, store, queues) = state.withLock { s in
            defer { s.running = false; s.instance = nil }
            if s.serviceState == .running { s.serviceState = .shutdownAlready }
            return (s.instance, s.rebalance, s.offsetStore, s.queues)
        }
        guard let inst else { return }
        if options.autoCommit { commitSync() }
        for pq in queues.values { pq.dropped = true }
        _ = rb?.dropAll()
        await tasks.shutdown()
        await rb?.shutdown()
        await store?.persistAll(Set(queues.keys))
        await inst.unregisterConsumer(group, self)
    }

    /// Queues of a topic from its route.
    public func fetchMessageQueues(_ topic: String) async throws(MQClientError) -> [MessageQueue] {
        guard let inst = state.withLock({ $0.instance }) else { throw .illegalState("not started") }
        let route = try await inst.updateTopicRouteInfo(topic)
        return MQClientInstance.subscribeQueues(topic: topic, route: route).sorted()
    }

    public var assignment: Set<MessageQueue> { Set(state.withLock { $0.queues.keys }) }

    private func startQueue(_ mq: MessageQueue, offset: Int64, pq: ProcessQueue = ProcessQueue()) {
        guard offset >= 0 else { return }
        state.withLock { s in
            s.queues[mq] = pq
            s.pullOffset[mq] = offset
            if s.consumedOffset[mq] == nil { s.consumedOffset[mq] = offset }
        }
        tasks.spawn { await self.pullLoop(mq, pq) }
    }

    private func pullLoop(_ mq: MessageQueue, _ pq: ProcessQueue) async {
        while !pq.dropped, !Task.isCancelled, let (inst, rb) = state.withLock({ s in s.running ? s.instance.flatMap { i in s.rebalance.map { (i, $0) } } : nil }) {
            if state.withLock({ $0.cachedCount }) > options.pullThresholdForAll {
                try? await Task.sleep(for: .milliseconds(50)); continue
            }
            guard let offset = state.withLock({ $0.pullOffset[mq] }) else { return }
            let sub = rb.subscription(mq.topic) ?? FilterAPI.buildSubscriptionData(topic: mq.topic, expression: "*")
            let header = PullMessageRequestHeader(
                consumerGroup: group, topic: mq.topic, queueId: mq.queueId, queueOffset: offset, maxMsgNums: options.pullBatchSize,
                sysFlag: PullSysFlag.suspend | PullSysFlag.subscription | PullSysFlag.litePull, commitOffset: 0,
                suspendTimeoutMillis: options.brokerSuspendMaxTimeMillis, subscription: sub.subString, subVersion: sub.subVersion,
                expressionType: sub.expressionType)
            do {
                guard let addr = inst.findBrokerAddressInSubscribe(mq.brokerName) else { throw MQClientError.brokerNotFound(mq.brokerName) }
                let r = try await inst.api.pullMessage(addr, header, lite: true, timeoutMs: options.consumerTimeoutMillisWhenSuspend,
                                                       brokerName: mq.brokerName)
                let msgs = r.status == .found ? PushConsumer.prepareMessages(r, mq: mq, sub: sub) : []
                state.withLock { s in
                    guard !pq.dropped, s.pullOffset[mq] == offset else { return }  // a seek moved it meanwhile
                    s.pullOffset[mq] = r.nextBeginOffset
                    if !msgs.isEmpty {
                        s.cache.append(Batch(mq: mq, pq: pq, messages: msgs))
                        s.cachedCount += msgs.count
                    } else if r.status != .found {
                        if s.cache.allSatisfy({ $0.mq != mq }) { s.consumedOffset[mq] = max(s.consumedOffset[mq] ?? 0, r.nextBeginOffset) }
                    }
                }
            } catch {
                try? await Task.sleep(for: .milliseconds(config.pullTimeDelayMillsWhenException))
            }
        }
    }

    /// The next cached messages, waiting up to `timeoutMs`; auto-commits when due.
    public func poll(timeoutMs: Int64? = nil) async -> [MessageExt] {
        let deadline = ContinuousClock.now + .milliseconds(timeoutMs ?? options.pollTimeoutMs)
        while true {
            let batch: Batch? = state.withLock { s in
                while !s.cache.isEmpty {
                    let b = s.cache.removeFirst()
                    s.cachedCount -= b.messages.count
                    if b.pq.dropped { continue }
                    if let last = b.messages.last { s.consumedOffset[b.mq] = last.queueOffset + 1 }
                    return b
                }
                return nil
            }
            if options.autoCommit, state.withLock({ Date().timeIntervalSince($0.lastAutoCommit) * 1000 >= Double(max(1_000, options.autoCommitIntervalMs)) }) {
                commitSync()
            }
            if let batch { return batch.messages }
            if ContinuousClock.now >= deadline { return [] }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Moves the next pull of `mq` to `offset` (within [min, max]) and drops what was cached for it.
    public func seek(_ mq: MessageQueue, to offset: Int64) async throws(MQClientError) {
        guard let inst = state.withLock({ $0.instance }), assignment.contains(mq) else {
            throw .illegalState("The message queue is not in assigned list, may be rebalancing, message queue: \(mq)")
        }
        let addr = try await inst.brokerAddress(mq.brokerName, topic: mq.topic)
        let lo = try await inst.api.getMinOffset(addr, mq: mq), hi = try await inst.api.getMaxOffset(addr, mq: mq)
        guard offset >= lo, offset <= hi else { throw .illegalArgument("Seek offset illegal, seek offset = \(offset), min offset = \(lo), max offset = \(hi)") }
        state.withLock { s in
            s.cache.removeAll { b in b.mq == mq ? { s.cachedCount -= b.messages.count; return true }() : false }
            s.queues[mq]?.dropped = true  // the pull task in flight (maybe long-polling) ends; a new one starts
            s.consumedOffset[mq] = offset
        }
        startQueue(mq, offset: offset)
    }

    /// Writes the polled offsets of all assigned queues to the offset store's memory (persisted every 5 s).
    public func commitSync() {
        let (store, offsets) = state.withLock { s in
            s.lastAutoCommit = Date()
            return (s.offsetStore, s.consumedOffset.filter { s.queues[$0.key] != nil })
        }
        for (mq, off) in offsets { store?.updateOffset(mq, off, increaseOnly: false) }
    }

    /// Explicit offsets; `persist` also writes them to the broker (or file) now.
    public func commit(_ offsets: [MessageQueue: Int64], persist: Bool) async {
        guard let store = state.withLock({ $0.offsetStore }) else { return }
        for (mq, off) in offsets { store.updateOffset(mq, off, increaseOnly: false) }
        if persist { await store.persistAll(Set(offsets.keys)) }
    }

    /// The committed offset of `mq` as the store has it.
    public func committed(_ mq: MessageQueue) async -> Int64 {
        guard let store = state.withLock({ $0.offsetStore }) else { return -1 }
        return await store.readOffset(mq, .store)
    }

    // MARK: MQConsumerInner

    var groupName: String { group }
    func consumerData() -> ConsumerData {
        let subs = state.withLock { $0.rebalance }?.subscriptions.values.sorted { $0.topic < $1.topic } ?? []
        return ConsumerData(groupName: group, consumeType: "CONSUME_ACTIVELY", messageModel: options.messageModel.rawValue,
                            consumeFromWhere: options.consumeFromWhere.wireName, subscriptionDataSet: subs)
    }
    var subscribedTopics: [String] { state.withLock { Array($0.subscriptions.keys) + $0.assigned.map(\.topic) } }
    func updateTopicSubscribeInfo(_ topic: String, _ queues: Set<MessageQueue>) {
        state.withLock { $0.rebalance }?.updateTopicSubscribeInfo(topic, queues)
    }
    func doRebalance() async {
        guard state.withLock({ $0.mode == 1 && $0.running }), let rb = state.withLock({ $0.rebalance }) else { return }
        await rb.doRebalance()
        let owned = Set(rb.processQueueTable.keys)
        state.withLock { s in for (mq, pq) in s.queues where !owned.contains(mq) { pq.dropped = true; s.queues[mq] = nil } }
    }
    func persistConsumerOffset() async {
        guard let (store, qs) = state.withLock({ s in s.offsetStore.map { ($0, Set(s.queues.keys)) } }) else { return }
        await store.persistAll(qs)
    }
}
