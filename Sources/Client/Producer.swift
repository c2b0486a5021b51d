// Producer (DefaultMQProducer): sync send with retries, send with a completion (async), one-way, batch,
// ordered send through a queue selector or an explicit queue (client.md §6). Compresses single bodies
// over the threshold (zstd by default), sets UNIQ_KEY, records latency faults. Any task; state behind a Mutex.
// A completion send that must first fetch its route does so on a task the producer owns; shutdown cancels
// and awaits those, so each such send ends in a failure rather than outliving the producer.

import Common
import Foundation
import NIOCore
import Remoting
import Synchronization

public struct ProducerOptions: Sendable {
    public var sendMsgTimeoutMs: Int64 = 3_000
    public var retryTimesWhenSendFailed = 2
    public var retryTimesWhenSendAsyncFailed = 2
    public var compressMsgBodyOverHowmuch = 4_096
    public var compressType: CompressionType = .zstd
    public var compressLevel: Int32 = 5
    public var maxMessageSize = 4 * 1024 * 1024
    public var createTopicKey = "TBW102"
    public var defaultTopicQueueNums: Int32 = 4
    public init() {}
}

public final class Producer: MQProducerInner, @unchecked Sendable {
    // Sendable because: `options` is fixed at init and `config` is only changed by start(), before any send;
    // everything else mutable is behind `state`.
    public let group: String
    public let options: ProducerOptions
    private(set) var config: ClientConfig
    private struct State {
        var serviceState = ServiceState.createJust
        var instance: MQClientInstance?
        var publishInfo: [String: TopicPublishInfo] = [:]
        /// Set for the producer of a TransactionProducer: serves the broker's checks.
        var transactionCheckExecutor: TransactionCheckExecutor?
    }
    private let state = Mutex<State>(State())
    let faultStrategy: MQFaultStrategy
    /// Route lookups of completion sends.
    private let tasks: BackgroundTasks

    public init(group: String, config: ClientConfig = ClientConfig(), options: ProducerOptions = ProducerOptions()) {
        self.group = group
        self.config = config
        self.options = options
        faultStrategy = MQFaultStrategy(enabled: config.sendLatencyFaultEnable)
        tasks = BackgroundTasks(name: "Producer \(group)")
    }

    var instance: MQClientInstance {
        get throws(MQClientError) {
            guard let i = state.withLock({ $0.instance }) else { throw .illegalState("The producer service state not OK, maybe started once, or not started") }
            return i
        }
    }

    /// Validates the group, joins (or creates) the process's client instance and heartbeats.
    public func start() async throws(MQClientError) {
        try state.withLock { s throws(MQClientError) in
            guard s.serviceState == .createJust else { throw s.serviceState.notOK("producer") }
            s.serviceState = .startFailed  // until the start below completes
        }
        try Validators.checkGroup(group)
        guard group != "DEFAULT_PRODUCER" else { throw .illegalArgument("producerGroup can not equal DEFAULT_PRODUCER, please specify another one.") }
        guard !config.namesrvList.isEmpty else { throw .noNameServer }
        if group != "CLIENT_INNER_PRODUCER" { config.changeInstanceNameToPID() }
        let inst = MQClientManager.getOrCreate(config)
        try inst.registerProducer(group, self)
        state.withLock { s in
            s.instance = inst
            s.serviceState = .running
        }
        inst.start()
        await inst.sendHeartbeatToAllBrokers()
    }

    /// RUNNING -> SHUTDOWN_ALREADY: completion sends still looking up their route fail (and are awaited),
    /// then the group is unregistered; the client instance stops once nobody uses it.
    public func shutdown() async {
        guard let inst = stopLocally() else { return }
        await tasks.shutdown()
        await inst.unregisterProducer(group, self)
    }

    /// The instance's own CLIENT_INNER_PRODUCER, stopped by the instance's shutdown: nothing to unregister.
    func shutdownInner() async {
        _ = stopLocally()
        await tasks.shutdown()
    }

    /// No send starts from here on: `instance` throws.
    private func stopLocally() -> MQClientInstance? {
        state.withLock { s -> MQClientInstance? in
            defer { s.instance = nil }
            if s.serviceState == .running { s.serviceState = .shutdownAlready }
            return s.instance
        }
    }

    /// Where this producer is in its lifecycle.
    public var serviceState: ServiceState { state.withLock { $0.serviceState } }

    // MARK: MQProducerInner

    var publishTopics: [String] { state.withLock { Array($0.publishInfo.keys) } }

    func setTransactionCheckExecutor(_ executor: TransactionCheckExecutor?) {
        state.withLock { $0.transactionCheckExecutor = executor }
    }

    /// A broker check about one of this group's half messages; ignored unless this is a transaction producer.
    func checkTransactionState(channel: RemotingChannel, message: MessageExt, header: CheckTransactionStateRequestHeader) {
        guard let executor = state.withLock({ $0.transactionCheckExecutor }) else { return }
        executor.submit(TransactionCheckExecutor.Check(channel: channel, message: message, header: header))
    }

    func updateTopicPublishInfo(_ topic: String, _ info: TopicPublishInfo) {
        state.withLock { s in if s.publishInfo[topic] != nil { s.publishInfo[topic] = info } }
    }

    /// The publish info of `topic`, fetching its route (or the TBW102 template for auto-create) when unknown.
    func topicPublishInfo(_ topic: String) async throws(MQClientError) -> TopicPublishInfo {
        if let i = state.withLock({ $0.publishInfo[topic] }), i.ok { return i }
        let inst = try instance
        var info: TopicPublishInfo
        do {
            let route = try await inst.updateTopicRouteInfo(topic)
            info = TopicPublishInfo(topic: topic, route: route)
        } catch {
            guard case .topicRouteNotFound = error else { throw error }
            var template: TopicRouteData
            do { template = try await inst.api.getTopicRouteInfo(options.createTopicKey) } catch { throw MQClientError.topicRouteNotFound(topic: topic, reason: "\(error)") }
            for i in template.queueDatas.indices {
                let n = min(options.defaultTopicQueueNums, template.queueDatas[i].readQueueNums)
                template.queueDatas[i].readQueueNums = n
                template.queueDatas[i].writeQueueNums = n
            }
            info = TopicPublishInfo(topic: topic, route: template)
            _ = try? await inst.updateTopicRouteInfo(options.createTopicKey)
        }
        guard info.ok else { throw .topicRouteNotFound(topic: topic, reason: "no writable queue") }
        state.withLock { $0.publishInfo[topic] = info }
        return info
    }

    public func fetchPublishMessageQueues(_ topic: String) async throws(MQClientError) -> [MessageQueue] {
        try await topicPublishInfo(topic).messageQueueList
    }

    /// The queue's max offset on its broker (RocketMQ's `MQAdmin.maxOffset`).
    public func maxOffset(_ mq: MessageQueue) async throws(MQClientError) -> Int64 {
        let inst = try instance
        let addr = try await inst.brokerAddress(mq.brokerName, topic: mq.topic)
        return try await inst.api.getMaxOffset(addr, mq: mq)
    }

    // MARK: request building

    private struct Prepared: Sendable {
        var request: RemotingCommand
        var uniqID: String?
    }

    private func prepare(_ message: Message, queue: MessageQueue, batch: [Message]? = nil) throws(MQClientError) -> Prepared {
        var msg = message
        var sysFlag: Int32 = 0
        var body = msg.body
        if let batch {
            var inner: [Message] = []
            var ids: [String] = []
            for var m in batch {
                MessageClientIDSetter.setUniqID(&m)
                if m.properties[MessageConst.waitStoreMsgOK] == nil { m.waitStoreMsgOK = true }
                ids.append(m.uniqueKey ?? "")
                inner.append(m)
            }
            body = MessageBatch.encode(inner)
            guard body.count <= options.maxMessageSize else {
                throw .illegalArgument("the message body size over max value, MAX: \(options.maxMessageSize)")
            }
            msg.properties = [MessageConst.waitStoreMsgOK: "true",
                              MessageConst.uniqueClientMessageIdKeyIndex: ids.joined(separator: ",")]
        } else {
            MessageClientIDSetter.setUniqID(&msg)
            if body.count >= options.compressMsgBodyOverHowmuch,
               let compressed = options.compressType.compress(body, level: options.compressLevel) {
                body = compressed
                sysFlag |= options.compressType.sysFlagBits
            }
            if msg.properties[MessageConst.transactionPrepared] == "true" { sysFlag |= 0x4 }
        }
        var reconsume: Int32? = 0
        var maxReconsume: Int32?
        if msg.topic.hasPrefix("%RETRY%") {
            reconsume = msg.properties.removeValue(forKey: MessageConst.reconsumeTime).flatMap { Int32($0) } ?? 0
            maxReconsume = msg.properties.removeValue(forKey: MessageConst.maxReconsumeTimes).flatMap { Int32($0) }
        }
        let header = SendMessageRequestHeader(
            producerGroup: group, topic: msg.topic, defaultTopic: options.createTopicKey,
            defaultTopicQueueNums: options.defaultTopicQueueNums, queueId: queue.queueId, sysFlag: sysFlag,
            bornTimestamp: MQFaultStrategy.nowMs(), flag: msg.flag, properties: MessageProperties.encode(msg.properties),
            reconsumeTimes: reconsume, unitMode: false, maxReconsumeTimes: maxReconsume, batch: batch != nil,
            brokerName: queue.brokerName)
        var req = RemotingCommand.request(batch != nil ? .sendBatchMessage : .sendMessageV2,
                                          header: SendMessageRequestHeaderV2(header),
                                          body: ByteBuffer(bytes: body), serializeType: config.serializeType)
        req.language = config.language
        let uniq = batch == nil ? msg.uniqueKey : msg.properties[MessageConst.uniqueClientMessageIdKeyIndex]
        return Prepared(request: req, uniqID: uniq)
    }

    private func validate(_ message: Message) throws(MQClientError) {
        try Validators.checkTopic(message.topic)
        guard !message.body.isEmpty else { throw .illegalArgument("the message body length is zero") }
        guard message.body.count <= options.maxMessageSize else {
            throw .illegalArgument("the message body size over max value, MAX: \(options.maxMessageSize)")
        }
    }

    /// One attempt to one queue.
    private func sendKernel(_ message: Message, queue: MessageQueue, batch: [Message]? = nil, timeoutMs: Int64)
        async throws(MQClientError) -> SendResult
    {
        let inst = try instance
        let addr = try await inst.brokerAddress(queue.brokerName, topic: queue.topic)
        let p = try prepare(message, queue: queue, batch: batch)
        let resp = try await inst.api.invoke(addr, p.request, timeoutMs: timeoutMs)
        return try MQClientAPI.sendResult(resp, brokerName: queue.brokerName, topic: queue.topic, uniqID: p.uniqID)
    }

    // MARK: public send API

    /// Sends and waits for the broker's answer, retrying another broker on failures (client.md §6.5).
    public func send(_ message: Message, timeoutMs: Int64? = nil) async throws(MQClientError) -> SendResult {
        try validate(message)
        return try await sendDefault(message, batch: nil, timeoutMs: timeoutMs ?? options.sendMsgTimeoutMs)
    }

    private func sendDefault(_ message: Message, batch: [Message]?, timeoutMs: Int64) async throws(MQClientError) -> SendResult {
        let begin = MQFaultStrategy.nowMs()
        let info = try await topicPublishInfo(message.topic)
        let attempts = 1 + options.retryTimesWhenSendFailed
        var lastBroker: String?
        var brokersSent: [String] = []
        var lastError: MQClientError = .illegalState("not sent")
        for attempt in 1...attempts {
            guard let mq = faultStrategy.selectOneMessageQueue(info, lastBrokerName: lastBroker) else { break }
            lastBroker = mq.brokerName
            brokersSent.append(mq.brokerName)
            let start = MQFaultStrategy.nowMs()
            let remaining = timeoutMs - (start - begin)
            guard remaining > 0 else { lastError = .network("call timeout"); break }
            do {
                let r = try await sendKernel(message, queue: mq, batch: batch, timeoutMs: remaining)
                faultStrategy.updateFaultItem(mq.brokerName, latency: MQFaultStrategy.nowMs() - start, isolation: false, reachable: true)
                return r
            } catch {
                lastError = error
                switch error {
                case .network:
                    faultStrategy.updateFaultItem(mq.brokerName, latency: MQFaultStrategy.nowMs() - start, isolation: true, reachable: true)
                case .broker(let code, _):
                    faultStrategy.updateFaultItem(mq.brokerName, latency: MQFaultStrategy.nowMs() - start, isolation: true, reachable: false)
                    if !MQClientError.retryResponseCodes.contains(code) { throw error }
                case .brokerNotFound: break
                default: throw error
                }
                if attempt == attempts { break }
            }
        }
        throw .sendFailed(attempts: brokersSent.count, costMs: MQFaultStrategy.nowMs() - begin, topic: message.topic,
                          brokers: brokersSent, last: lastError.description)
    }

    /// Sends without waiting: `completion` runs exactly once, on an event loop thread. Network failures
    /// are retried on another broker; broker error codes go straight to the completion.
    public func send(_ message: Message, timeoutMs: Int64? = nil,
                     completion: @escaping @Sendable (Result<SendResult, MQClientError>) -> Void)
    {
        do { try validate(message) } catch { completion(.failure(error)); return }
        let timeout = timeoutMs ?? options.sendMsgTimeoutMs
        let begin = MQFaultStrategy.nowMs()
        if let info = state.withLock({ $0.publishInfo[message.topic] }), info.ok {
            // Cached route: the attempt starts now, so `begin` serves as its clock reading too.
            sendAsyncAttempt(message, info: info, attempt: 1, lastBroker: nil, begin: begin, now: begin, timeoutMs: timeout,
                             completion: completion)
            return
        }
        let started = tasks.spawn {
            do {
                let info = try await self.topicPublishInfo(message.topic)
                self.sendAsyncAttempt(message, info: info, attempt: 1, lastBroker: nil, begin: begin, now: MQFaultStrategy.nowMs(),
                                      timeoutMs: timeout, completion: completion)
            } catch {
                completion(.failure(MQClientError.from(error)))
            }
        }
        if !started { completion(.failure(.illegalState("The producer service state not OK, \(serviceState.rawValue)"))) }
    }

    /// `now`: the clock when this attempt starts (the route lookup and earlier attempts count against the timeout).
    private func sendAsyncAttempt(_ message: Message, info: TopicPublishInfo, attempt: Int, lastBroker: String?, begin: Int64, now: Int64,
                                  timeoutMs: Int64, completion: @escaping @Sendable (Result<SendResult, MQClientError>) -> Void)
    {
        let remaining = timeoutMs - (now - begin)
        guard remaining > 0 else { completion(.failure(.network("call timeout"))); return }
        guard let mq = faultStrategy.selectOneMessageQueue(info, lastBrokerName: lastBroker) else {
            completion(.failure(.topicRouteNotFound(topic: message.topic, reason: "no queue"))); return
        }
        let inst: MQClientInstance
        let p: Prepared
        do { inst = try instance; p = try prepare(message, queue: mq) } catch { completion(.failure(error)); return }
        guard let addr = inst.findBrokerAddressInPublish(mq.brokerName) else {
            completion(.failure(.brokerNotFound(mq.brokerName))); return
        }
        let start = now
        inst.remoting.invokeAsync(addr, p.request, timeoutMs: remaining).whenComplete { result in
            let latency = MQFaultStrategy.nowMs() - start
            switch result {
            case .success(let resp):
                do {
                    let r = try MQClientAPI.sendResult(resp, brokerName: mq.brokerName, topic: mq.topic, uniqID: p.uniqID)
                    self.faultStrategy.updateFaultItem(mq.brokerName, latency: latency, isolation: false, reachable: true)
                    completion(.success(r))
                } catch {
                    self.faultStrategy.updateFaultItem(mq.brokerName, latency: latency, isolation: true, reachable: false)
                    completion(.failure(MQClientError.from(error)))
                }
            case .failure(let error):
                self.faultStrategy.updateFaultItem(mq.brokerName, latency: latency, isolation: true, reachable: true)
                if attempt <= self.options.retryTimesWhenSendAsyncFailed {
                    self.sendAsyncAttempt(message, info: info, attempt: attempt + 1, lastBroker: mq.brokerName, begin: begin,
                                          now: MQFaultStrategy.nowMs(),
                                          timeoutMs: timeoutMs, completion: completion)
                } else {
                    completion(.failure(MQClientError.from(error)))
                }
            }
        }
    }

    /// Async form of the completion send.
    public func sendAsync(_ message: Message, timeoutMs: Int64? = nil) async throws(MQClientError) -> SendResult {
        let r: Result<SendResult, MQClientError> = await withCheckedContinuation { cont in
            send(message, timeoutMs: timeoutMs) { cont.resume(returning: $0) }
        }
        return try r.get()
    }

    /// Fire and forget: one attempt, no answer.
    public func sendOneway(_ message: Message) async throws(MQClientError) {
        try validate(message)
        let info = try await topicPublishInfo(message.topic)
        guard let mq = faultStrategy.selectOneMessageQueue(info, lastBrokerName: nil) else {
            throw .topicRouteNotFound(topic: message.topic, reason: "no queue")
        }
        let inst = try instance
        let addr = try await inst.brokerAddress(mq.brokerName, topic: mq.topic)
        await inst.api.oneway(addr, try prepare(message, queue: mq).request)
    }

    /// Sends several messages of one topic as one SEND_BATCH_MESSAGE (client.md §6.9).
    public func send(_ messages: [Message], timeoutMs: Int64? = nil) async throws(MQClientError) -> SendResult {
        guard let first = messages.first else { throw .illegalArgument("batch is empty") }
        for m in messages {
            try validate(m)
            guard m.topic == first.topic else { throw .illegalArgument("The topic of the messages in one batch should be the same") }
            guard m.delayTimeLevel == 0 else { throw .illegalArgument("TimeDelayLevel is not supported for batching") }
            guard !m.topic.hasPrefix("%RETRY%") else { throw .illegalArgument("Retry Group is not supported for batching") }
        }
        return try await sendDefault(first, batch: messages, timeoutMs: timeoutMs ?? options.sendMsgTimeoutMs)
    }

    /// Ordered send: `selector` picks the queue from the publish list; one attempt, no retry (client.md §6.10).
    public func send(_ message: Message, timeoutMs: Int64? = nil,
                     selector: @Sendable ([MessageQueue], Message) -> MessageQueue?) async throws(MQClientError) -> SendResult
    {
        try validate(message)
        let info = try await topicPublishInfo(message.topic)
        guard let mq = selector(info.messageQueueList, message) else { throw .illegalArgument("select message queue return null.") }
        return try await sendKernel(message, queue: mq, timeoutMs: timeoutMs ?? options.sendMsgTimeoutMs)
    }

    /// Sends to one given queue; one attempt.
    public func send(_ message: Message, to queue: MessageQueue, timeoutMs: Int64? = nil) async throws(MQClientError) -> SendResult {
        try validate(message)
        guard queue.topic == message.topic else { throw .illegalArgument("message's topic not equal mq's topic") }
        _ = try await topicPublishInfo(message.topic)
        return try await sendKernel(message, queue: queue, timeoutMs: timeoutMs ?? options.sendMsgTimeoutMs)
    }
}

/// The hash selector of RocketMQ (`SelectMessageQueueByHash`): `abs(javaHash(key) % n)`.
public func selectMessageQueueByHash(_ key: String) -> @Sendable ([MessageQueue], Message) -> MessageQueue? {
    { queues, _ in
        guard !queues.isEmpty else { return nil }
        let v = Int(FilterAPI.javaHashCode(key)) % queues.count
        return queues[abs(v)]
    }
}
