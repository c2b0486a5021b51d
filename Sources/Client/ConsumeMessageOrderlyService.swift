// ConsumeMessageOrderlyService: runs an orderly listener (client.md §8.12, RocketMQ's
// ConsumeMessageOrderlyService). One consume loop per queue at a time takes `consumeMessageBatchMaxSize`
// messages in queue order and calls the listener; in clustering only while the queue's broker lock is held
// and fresh (else it locks again and retries). SUCCESS commits past the batch; SUSPEND puts the batch back
// and resumes after the suspend time, except messages that reached maxReconsumeTimes, which are sent to
// %RETRY%<group> (the broker dead-letters them for a group holding locks) and then committed.
// Called by PushConsumer's pull loops. Consume loops and their delayed restarts belong to `tasks`, which
// the consumer's shutdown closes once the queues are dropped and their running batches have finished.

import Common
import Foundation
import Remoting

final class ConsumeMessageOrderlyService: Sendable {
    let group: String
    let messageModel: ConsumeMessageModel
    /// -1 (default) = retry locally for ever, as Java's Integer.MAX_VALUE.
    let maxReconsumeTimes: Int32
    let batchSize: Int
    let suspendDefaultMs: Int64
    let instance: MQClientInstance
    let listener: MessageListenerOrderly
    let offsetStore: any OffsetStore
    /// Locks one queue at its broker; true if this client holds it now.
    let lockQueue: @Sendable (MessageQueue) async -> Bool
    /// Continuous consumption of one queue before its loop yields (rocketmq.client.maxTimeConsumeContinuously).
    static let maxTimeConsumeContinuously: Duration = .seconds(60)
    private let tasks: BackgroundTasks

    init(consumer: PushConsumer, instance: MQClientInstance, listener: @escaping MessageListenerOrderly,
         offsetStore: any OffsetStore, lockQueue: @escaping @Sendable (MessageQueue) async -> Bool)
    {
        group = consumer.group
        messageModel = consumer.options.messageModel
        maxReconsumeTimes = consumer.options.maxReconsumeTimes < 0 ? .max : consumer.options.maxReconsumeTimes
        batchSize = max(1, consumer.options.consumeMessageBatchMaxSize)
        suspendDefaultMs = consumer.options.suspendCurrentQueueTimeMillis
        self.instance = instance
        self.listener = listener
        self.offsetStore = offsetStore
        self.lockQueue = lockQueue
        tasks = BackgroundTasks(name: "ConsumeMessageOrderlyService \(consumer.group)")
    }

    /// No loop starts from here on; cancels the running ones (a listener call is told by cancellation)
    /// and returns once all have ended.
    func shutdown() async {
        await tasks.shutdown()
    }

    /// Pulled messages were cached in `pq`; `dispatch` (from ProcessQueue.putMessages) starts a loop.
    func submit(pq: ProcessQueue, mq: MessageQueue, dispatch: Bool) {
        if dispatch { startLoop(pq, mq, after: nil) }
    }

    private func startLoop(_ pq: ProcessQueue, _ mq: MessageQueue, after delay: Duration?) {
        if let delay {
            tasks.spawn(after: delay) { [self] in await consumeLoop(pq, mq) }
        } else {
            tasks.spawn { [self] in await consumeLoop(pq, mq) }
        }
    }

    private var clustering: Bool { messageModel == .clustering }

    private func consumeLoop(_ pq: ProcessQueue, _ mq: MessageQueue) async {
        guard !pq.dropped, pq.beginConsumeLoop() else { return }
        defer { pq.endConsumeLoop() }
        let began = ContinuousClock.now
        while !pq.dropped && !Task.isCancelled {
            if clustering && (!pq.locked || pq.lockExpired(nowMs: MQFaultStrategy.nowMs())) {
                // Lock again shortly, then come back (Java's tryLockLaterAndReconsume).
                tasks.spawn(after: .milliseconds(10)) { [self] in
                    let ok = await lockQueue(mq)
                    startLoop(pq, mq, after: .milliseconds(ok ? 10 : 3_000))
                }
                return
            }
            if ContinuousClock.now - began > Self.maxTimeConsumeContinuously {
                startLoop(pq, mq, after: .milliseconds(10))
                return
            }
            let msgs = pq.takeMessages(batchSize)
            if msgs.isEmpty { return }
            var context = ConsumeOrderlyContext(messageQueue: mq)
            var batch = msgs
            let now = String(MQFaultStrategy.nowMs())
            for i in batch.indices { batch[i].message.properties[MessageConst.consumeStartTime] = now }
            let status = await listener(batch, &context)
            if pq.dropped { return }
            guard await handleResult(msgs, status, context, pq, mq) else { return }
        }
    }

    /// Commits or puts back; false when the loop must stop (suspended).
    private func handleResult(_ msgs: [MessageExt], _ status: ConsumeOrderlyStatus, _ context: ConsumeOrderlyContext,
                              _ pq: ProcessQueue, _ mq: MessageQueue) async -> Bool
    {
        switch status {
        case .success:
            let offset = pq.commit()
            if offset >= 0 && !pq.dropped { offsetStore.updateOffset(mq, offset, increaseOnly: false) }
            return true
        case .suspendCurrentQueueAMoment:
            let (again, suspend) = await checkReconsumeTimes(msgs)
            if suspend {
                pq.makeMessagesToConsumeAgain(again)
                let ms = context.suspendCurrentQueueTimeMillis < 0 ? suspendDefaultMs : context.suspendCurrentQueueTimeMillis
                startLoop(pq, mq, after: .milliseconds(min(30_000, max(10, ms))))
                return false
            }
            let offset = pq.commit()
            if offset >= 0 && !pq.dropped { offsetStore.updateOffset(mq, offset, increaseOnly: false) }
            return true
        }
    }

    /// Messages under the limit are retried locally (reconsumeTimes + 1); those at the limit go to
    /// %RETRY%<group>, and stay local if that send fails. Returns the batch to put back and whether to suspend.
    private func checkReconsumeTimes(_ msgs: [MessageExt]) async -> ([MessageExt], Bool) {
        var suspend = false
        var out = msgs
        for i in out.indices {
            if out[i].reconsumeTimes >= maxReconsumeTimes {
                if await !sendMessageBack(out[i]) {
                    suspend = true
                    out[i].reconsumeTimes += 1
                }
            } else {
                suspend = true
                out[i].reconsumeTimes += 1
            }
        }
        return (out, suspend)
    }

    /// A producer send to %RETRY%<group>, as Java's orderly sendMessageBack: RECONSUME_TIME is the count so
    /// far, so the broker dead-letters it (the group holds locks, or the count is past the maximum).
    private func sendMessageBack(_ m: MessageExt) async -> Bool {
        var retry = Message(topic: "%RETRY%" + group, body: m.body)
        retry.flag = m.flag
        retry.properties = m.properties
        retry.properties[MessageConst.originMessageId] = m.properties[MessageConst.originMessageId] ?? m.msgId
        retry.properties[MessageConst.retryTopic] = m.topic
        retry.properties[MessageConst.reconsumeTime] = String(m.reconsumeTimes)
        retry.properties[MessageConst.maxReconsumeTimes] = String(maxReconsumeTimes)
        retry.properties[MessageConst.transactionPrepared] = nil
        retry.delayTimeLevel = Int(3 + min(m.reconsumeTimes, 15))
        do {
            let p = try await instance.innerProducer()
            _ = try await p.send(retry)
            return true
        } catch {
            instance.logger.warning("orderly send back to %RETRY%\(group) failed: \(error)")
            return false
        }
    }
}
