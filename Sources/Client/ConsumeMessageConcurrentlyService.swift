// ConsumeMessageConcurrentlyService: runs the concurrent listener on N worker tasks
// (`ConsumeMessageThread_<group>_<n>`), then removes consumed messages from the ProcessQueue and moves the
// committed offset to the smallest one still in flight. RECONSUME_LATER in clustering sends the message
// back (CONSUMER_SEND_MSG_BACK), falling back to a resend to %RETRY%<group>, else a local retry after
// 5 s (client.md §8.11). Broadcasting only logs failures. Called by PushConsumer's pull loops. Workers and
// delayed local retries belong to `tasks`; the consumer's shutdown stops, waits (bounded) for running
// listener calls, then shuts the service down, which awaits every worker.

import Common
import Foundation
import Remoting
import Synchronization

final class ConsumeMessageConcurrentlyService: Sendable {
    struct Request: Sendable {
        var messages: [MessageExt]
        var pq: ProcessQueue
        var mq: MessageQueue
    }

    private weak let consumer: PushConsumer?
    let group: String
    let messageModel: ConsumeMessageModel
    let maxReconsumeTimes: Int32
    let instance: MQClientInstance
    let listener: MessageListenerConcurrently
    let offsetStore: any OffsetStore
    private let queue = WorkQueue<Request>()
    private let tasks: BackgroundTasks
    /// Listener calls running, and whether stop() was called: after it no new call starts, so shutdown can
    /// wait for the running ones to record their offsets before it persists (awaitIdle).
    private let activity = Mutex<(inFlight: Int, stopped: Bool)>((0, false))

    init(consumer: PushConsumer, instance: MQClientInstance, listener: @escaping MessageListenerConcurrently,
         offsetStore: any OffsetStore)
    {
        self.consumer = consumer
        self.group = consumer.group
        self.messageModel = consumer.options.messageModel
        self.maxReconsumeTimes = consumer.options.maxReconsumeTimes < 0 ? 16 : consumer.options.maxReconsumeTimes
        self.instance = instance
        self.listener = listener
        self.offsetStore = offsetStore
        tasks = BackgroundTasks(name: "ConsumeMessageConcurrentlyService \(consumer.group)")
    }

    func start(workers: Int) {
        for n in 1...max(1, workers) {
            let name = "ConsumeMessageThread_\(group.prefix(100))_\(n)"
            tasks.spawn { [self] in
                while let req = await queue.next() { await consume(req, threadName: name) }
            }
        }
    }

    /// Stops (if not yet), cancels the workers and pending local retries and returns once all have ended;
    /// a listener call still running is told by cancellation and awaited.
    func shutdown() async {
        stop()
        await tasks.shutdown()
    }

    /// No request starts after this; requests still queued are dropped unconsumed (their offsets are not
    /// committed, so they are delivered again, as Java's dropped process queues).
    func stop() {
        activity.withLock { $0.stopped = true }
        queue.close()
    }

    /// Returns once no listener call runs, or after `timeoutMs` (Java's awaitTerminationMillisWhenShutdown).
    func awaitIdle(timeoutMs: Int64) async {
        let deadline = ContinuousClock.now + .milliseconds(max(0, timeoutMs))
        while activity.withLock({ $0.inFlight }) > 0 && ContinuousClock.now < deadline {
            do { try await Task.sleep(for: .milliseconds(5)) } catch { return }
        }
    }

    func submit(_ msgs: [MessageExt], pq: ProcessQueue, mq: MessageQueue, batchSize: Int) {
        var i = 0
        while i < msgs.count {
            let end = min(msgs.count, i + max(1, batchSize))
            queue.push(Request(messages: Array(msgs[i..<end]), pq: pq, mq: mq))
            i = end
        }
    }

    private func consume(_ req: Request, threadName: String) async {
        let started = activity.withLock { a -> Bool in
            guard !a.stopped else { return false }
            a.inFlight += 1
            return true
        }
        guard started else { return }
        defer { activity.withLock { $0.inFlight -= 1 } }
        guard req.pq.beginListenerCall() else { return }
        defer { req.pq.endListenerCall() }
        var msgs = req.messages
        let now = String(Int64(Date().timeIntervalSince1970 * 1000))
        for i in msgs.indices { msgs[i].message.properties[MessageConst.consumeStartTime] = now }
        let status = await listener(msgs, ConsumeConcurrentlyContext(messageQueue: req.mq, threadName: threadName))
        guard !req.pq.dropped else { return }
        var localRetry: [MessageExt] = []
        if status == .reconsumeLater && messageModel == .clustering {
            for m in msgs where req.pq.contains(m.queueOffset) {
                if await !sendMessageBack(m) {
                    var again = m
                    again.reconsumeTimes += 1
                    localRetry.append(again)
                }
            }
        }
        let done = msgs.filter { m in !localRetry.contains { $0.queueOffset == m.queueOffset } }
        let offset = req.pq.removeMessages(done)
        if offset >= 0 && !req.pq.dropped {
            offsetStore.updateOffset(req.mq, offset, increaseOnly: true)
        }
        if !localRetry.isEmpty {
            tasks.spawn(after: .seconds(5)) { [self, localRetry] in
                if !req.pq.dropped { queue.push(Request(messages: localRetry, pq: req.pq, mq: req.mq)) }
            }
        }
    }

    /// CONSUMER_SEND_MSG_BACK to the message's broker; on failure a resend to %RETRY%<group>.
    func sendMessageBack(_ m: MessageExt) async -> Bool {
        do {
            let addr = try await instance.brokerAddress(m.brokerName, topic: m.topic)
            try await instance.api.consumerSendMessageBack(addr, message: m, group: group, delayLevel: 0,
                                                           maxReconsumeTimes: maxReconsumeTimes)
            await instance.ensureRoute("%RETRY%" + group)
            return true
        } catch {
            instance.logger.warning("send message back failed (\(error)); resending to %RETRY%\(group)")
        }
        var retry = Message(topic: "%RETRY%" + group, body: m.body)
        retry.flag = m.flag
        retry.properties = m.properties
        retry.properties[MessageConst.originMessageId] = m.properties[MessageConst.originMessageId] ?? m.msgId
        retry.properties[MessageConst.retryTopic] = m.topic
        retry.properties[MessageConst.reconsumeTime] = String(m.reconsumeTimes + 1)
        retry.properties[MessageConst.maxReconsumeTimes] = String(maxReconsumeTimes)
        retry.properties[MessageConst.transactionPrepared] = nil
        retry.properties[MessageConst.minOffset] = nil
        retry.properties[MessageConst.maxOffset] = nil
        retry.properties[MessageConst.consumeStartTime] = nil
        retry.delayTimeLevel = Int(3 + m.reconsumeTimes)
        do {
            let p = try await instance.innerProducer()
            _ = try await p.send(retry)
            await instance.ensureRoute("%RETRY%" + group)
            return true
        } catch {
            return false
        }
    }
}
