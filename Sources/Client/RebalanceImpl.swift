// RebalanceImpl: decides which queues this client consumes (client.md §8.5): all readable queues when
// broadcasting; in clustering the strategy's share of the sorted queue list among the sorted consumer ids
// from GET_CONSUMER_LIST_BY_GROUP. Applies the result to the process-queue table: drops removed queues
// (persisting their offsets) and creates new ones at the offset ConsumeFromWhere gives (§8.7).
// Orderly clustering consumers (§8.12) lock a queue at its broker before taking it, unlock it once its
// consume loop has stopped when giving it up, and renew all their locks every 20 s (`lockAll`).
// Called by the instance's rebalance service and by consumers; passes are serialised by a flag. Its own
// delayed work (a pass again after a lock refusal, unlocks of given-up queues) belongs to `tasks`; the
// consumer shuts it down after dropping every queue (`dropAll`, after which no queue is taken).

import Common
import Foundation
import Remoting
import Synchronization

final class RebalanceImpl: Sendable {
    let group: String
    let messageModel: ConsumeMessageModel
    let strategy: any AllocateMessageQueueStrategy
    let consumeFromWhere: ConsumeFromWhereSetting
    let instance: MQClientInstance
    let offsetStore: any OffsetStore
    /// Orderly consumption: queues are locked at the broker (clustering only).
    let isOrder: Bool
    /// Starts pulling a new queue from `offset`.
    let onQueueAdded: @Sendable (MessageQueue, ProcessQueue, Int64) -> Void
    private let tasks: BackgroundTasks

    private struct State {
        var subscriptions: [String: SubscriptionData] = [:]
        var topicSubscribeInfo: [String: Set<MessageQueue>] = [:]
        var processQueueTable: [MessageQueue: ProcessQueue] = [:]
        var running = false
        var pending = false
        /// Set by dropAll (consumer shutdown): a pass still running takes no new queue.
        var stopped = false
    }
    private let state = Mutex<State>(State())

    init(group: String, messageModel: ConsumeMessageModel, strategy: any AllocateMessageQueueStrategy,
         consumeFromWhere: ConsumeFromWhereSetting, instance: MQClientInstance, offsetStore: any OffsetStore,
         isOrder: Bool = false, onQueueAdded: @escaping @Sendable (MessageQueue, ProcessQueue, Int64) -> Void)
    {
        self.isOrder = isOrder
        self.group = group
        self.messageModel = messageModel
        self.strategy = strategy
        self.consumeFromWhere = consumeFromWhere
        self.instance = instance
        self.offsetStore = offsetStore
        self.onQueueAdded = onQueueAdded
        tasks = BackgroundTasks(name: "RebalanceImpl \(group)")
    }

    /// Cancels a pass scheduled after a lock refusal and sends the unlocks still waiting for consume loops
    /// at once; returns when all have ended.
    func shutdown() async {
        await tasks.shutdown()
    }

    var subscriptions: [String: SubscriptionData] { state.withLock { $0.subscriptions } }
    func setSubscription(_ s: SubscriptionData) { state.withLock { $0.subscriptions[s.topic] = s } }
    func subscription(_ topic: String) -> SubscriptionData? { state.withLock { $0.subscriptions[topic] } }
    func updateTopicSubscribeInfo(_ topic: String, _ qs: Set<MessageQueue>) {
        state.withLock { s in if s.subscriptions[topic] != nil { s.topicSubscribeInfo[topic] = qs } }
    }
    func topicSubscribeInfo(_ topic: String) -> Set<MessageQueue>? { state.withLock { $0.topicSubscribeInfo[topic] } }
    var processQueueTable: [MessageQueue: ProcessQueue] { state.withLock { $0.processQueueTable } }
    func processQueue(_ mq: MessageQueue) -> ProcessQueue? { state.withLock { $0.processQueueTable[mq] } }

    /// One pass (or, if a pass is running, one more after it).
    func doRebalance() async {
        let mine = state.withLock { s -> Bool in
            if s.running { s.pending = true; return false }
            s.running = true
            return true
        }
        guard mine else { return }
        while true {
            await rebalancePass()
            let again = state.withLock { s -> Bool in
                if s.pending { s.pending = false; return true }
                s.running = false
                return false
            }
            if !again { return }
        }
    }

    private func rebalancePass() async {
        var changed = false
        let subs = subscriptions
        for topic in subs.keys.sorted() {
            guard let mqSet = topicSubscribeInfo(topic) else { continue }
            let allocated: Set<MessageQueue>
            switch messageModel {
            case .broadcasting:
                allocated = mqSet
            case .clustering:
                guard let addr = instance.findBrokerAddrByTopic(topic),
                      let cids = try? await instance.api.getConsumerIdList(addr, group: group), !cids.isEmpty
                else { continue }
                allocated = Set(strategy.allocate(group: group, currentCID: instance.clientID, mqAll: mqSet.sorted(),
                                                  cidAll: cids.sorted()))
            }
            if await updateProcessQueueTable(topic: topic, allocated) { changed = true }
        }
        // Queues of topics no longer subscribed.
        let stale = state.withLock { s in
            let gone = s.processQueueTable.filter { s.subscriptions[$0.key.topic] == nil }
            for k in gone.keys { s.processQueueTable[k] = nil }
            return gone
        }
        for (mq, pq) in stale {
            pq.dropped = true
            await offsetStore.persist(mq)
            offsetStore.removeOffset(mq)
            if locksQueues { unlockWhenIdle(mq, pq) }
        }
        if changed {
            state.withLock { s in
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                for k in s.subscriptions.keys { s.subscriptions[k]?.subVersion = now }
            }
            await instance.sendHeartbeatToAllBrokers()
        }
    }

    /// Applies an allocation; true if the table changed.
    func updateProcessQueueTable(topic: String, _ mqSet: Set<MessageQueue>) async -> Bool {
        var changed = false
        let removed = state.withLock { s in
            let r = s.processQueueTable.filter { $0.key.topic == topic && (!mqSet.contains($0.key) || $0.value.idleSeconds > 120) }
            for k in r.keys { s.processQueueTable[k] = nil }
            return r
        }
        for (mq, pq) in removed {
            pq.dropped = true
            await offsetStore.persist(mq)
            offsetStore.removeOffset(mq)
            if locksQueues { unlockWhenIdle(mq, pq) }
            changed = true
        }
        let current = Set(state.withLock { $0.processQueueTable.keys })
        var lockRefused = false
        for mq in mqSet.sorted() where !current.contains(mq) {
            // Another client of the group may still be consuming it: skip, and try again shortly.
            if locksQueues, await !lock(mq) {
                lockRefused = true
                continue
            }
            offsetStore.removeOffset(mq)
            let offset = await computePullFromWhere(mq)
            guard offset >= 0 else { continue }
            let pq = ProcessQueue()
            if locksQueues { pq.setLocked(true, nowMs: MQFaultStrategy.nowMs()) }
            let added = state.withLock { s -> Bool in
                guard !s.stopped, s.processQueueTable[mq] == nil else { return false }
                s.processQueueTable[mq] = pq
                return true
            }
            if added {
                onQueueAdded(mq, pq, offset)
                changed = true
            }
        }
        if lockRefused {
            tasks.spawn(after: .milliseconds(500)) { [self] in await doRebalance() }
        }
        return changed
    }

    // MARK: orderly locks (client.md §8.12)

    private var locksQueues: Bool { isOrder && messageModel == .clustering }

    private func masterAddress(_ brokerName: String) -> String? {
        instance.findBrokerAddressInSubscribe(brokerName, brokerId: 0)
    }

    /// Locks one queue at its broker; marks its process queue (if any) locked. True if this client holds it.
    func lock(_ mq: MessageQueue) async -> Bool {
        guard let addr = masterAddress(mq.brokerName) else { return false }
        guard let granted = try? await instance.api.lockBatchMQ(addr, group: group, clientId: instance.clientID, mqs: [mq])
        else { return false }
        let now = MQFaultStrategy.nowMs()
        for q in granted { processQueue(q)?.setLocked(true, nowMs: now) }
        return granted.contains(mq)
    }

    /// Renews the locks of every queue this client consumes, one request per broker; queues refused are
    /// marked unlocked (their consume loops stop until a lock succeeds).
    func lockAll() async {
        let table = processQueueTable
        let byBroker = Dictionary(grouping: table.keys, by: \.brokerName)
        for (brokerName, queues) in byBroker {
            guard let addr = masterAddress(brokerName) else { continue }
            guard let granted = try? await instance.api.lockBatchMQ(addr, group: group, clientId: instance.clientID,
                                                                       mqs: Set(queues)) else { continue }
            let now = MQFaultStrategy.nowMs()
            for mq in queues {
                let ok = granted.contains(mq)
                if !ok, table[mq]?.locked == true {
                    instance.logger.warning("the message queue lock failed, group=\(group) \(mq.topic)/\(mq.brokerName)/\(mq.queueId)")
                }
                table[mq]?.setLocked(ok, nowMs: now)
            }
        }
    }

    /// Releases every lock (shutdown), waiting for the brokers' answers.
    func unlockAll(queues: [MessageQueue]) async {
        guard locksQueues else { return }
        for (brokerName, qs) in Dictionary(grouping: queues, by: \.brokerName) {
            guard let addr = masterAddress(brokerName) else { continue }
            await instance.api.unlockBatchMQ(addr, group: group, clientId: instance.clientID, mqs: Set(qs), oneway: false)
        }
    }

    /// A queue given up: its lock is released once its consume loop has stopped (at most 20 s, RocketMQ's
    /// unlockDelayTimeMills), so the next holder never consumes alongside the batch still running here.
    /// At shutdown (cancelled) it stops waiting and unlocks at once: the consumer has ended its loops by then.
    private func unlockWhenIdle(_ mq: MessageQueue, _ pq: ProcessQueue) {
        tasks.spawn { [self] in
            let deadline = ContinuousClock.now + .seconds(20)
            while pq.consumeLoopRunning && ContinuousClock.now < deadline {
                do { try await Task.sleep(for: .milliseconds(10)) } catch { break }
            }
            pq.setLocked(false, nowMs: 0)
            guard let addr = masterAddress(mq.brokerName) else { return }
            await instance.api.unlockBatchMQ(addr, group: group, clientId: instance.clientID, mqs: [mq], oneway: true)
        }
    }

    func computePullFromWhere(_ mq: MessageQueue) async -> Int64 {
        let last = await offsetStore.readOffset(mq, .store)
        if last >= 0 { return last }
        guard last == -1 else { return -1 }
        if mq.topic.hasPrefix("%RETRY%") { return 0 }
        if case .firstOffset = consumeFromWhere { return 0 }  // no broker needed (Java neither)
        // The master, or while it is gone a slave: a consumer can start while its master is down.
        guard let addr = try? await instance.brokerAddressForOffsets(mq.brokerName, topic: mq.topic) else { return -1 }
        switch consumeFromWhere {
        case .firstOffset: return 0
        case .lastOffset: return (try? await instance.api.getMaxOffset(addr, mq: mq)) ?? -1
        case .timestamp(let ts): return (try? await instance.api.searchOffset(addr, mq: mq, timestamp: ts)) ?? -1
        }
    }

    /// Removes one queue (after OFFSET_ILLEGAL); the next rebalance recreates it.
    func removeProcessQueue(_ mq: MessageQueue) async {
        guard let pq = state.withLock({ $0.processQueueTable.removeValue(forKey: mq) }) else { return }
        pq.dropped = true
        await offsetStore.persist(mq)
        offsetStore.removeOffset(mq)
    }

    /// RESET_CONSUMER_CLIENT_OFFSET: takes the queues of `topic` among `queues` that this client pulls out
    /// of the table and marks them dropped (their pull loops end and their consumption commits nothing
    /// more); the next pass takes them again at the offset the store holds then. Orderly queues keep their
    /// broker lock, so the next pass gets them back at once.
    func dropForReset(topic: String, queues: Set<MessageQueue>) -> [MessageQueue: ProcessQueue] {
        let taken = state.withLock { s in
            let t = s.processQueueTable.filter { $0.key.topic == topic && queues.contains($0.key) }
            for k in t.keys { s.processQueueTable[k] = nil }
            return t
        }
        for pq in taken.values { pq.dropped = true }
        return taken
    }

    /// Drops everything (shutdown).
    func dropAll() -> [MessageQueue: ProcessQueue] {
        let all = state.withLock { s in
            defer { s.processQueueTable = [:]; s.stopped = true }
            return s.processQueueTable
        }
        for pq in all.values { pq.dropped = true }
        return all
    }
}
