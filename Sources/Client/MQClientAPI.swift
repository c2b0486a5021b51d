// MQClientAPI: the client's RPCs over RemotingClient — routes from a name server, sends, pulls, offsets,
// heartbeats, consumer lists, send-back (client.md §13). Requests carry language OTHER and the
// configured header serialisation. Stateless apart from the chosen name server; any task.

import Common
import Foundation
import NIOCore
import Remoting
import Synchronization

public enum PullStatus: Sendable, Equatable {
    case found, noNewMessage, noMatchedMessage, offsetIllegal
}

public struct PullResult: Sendable {
    public var status: PullStatus
    public var nextBeginOffset: Int64
    public var minOffset: Int64
    public var maxOffset: Int64
    public var suggestWhichBrokerId: Int64
    public var messages: [MessageExt]
}

public final class MQClientAPI: Sendable {
    let remoting: RemotingClient
    let config: ClientConfig
    private let namesrvChoice = Mutex<Int>(Int.random(in: 0..<999))

    public init(remoting: RemotingClient, config: ClientConfig) {
        self.remoting = remoting
        self.config = config
    }

    func request(_ code: RequestCode, _ header: (any CommandCustomHeader)? = nil, body: ByteBuffer? = nil) -> RemotingCommand {
        var r = RemotingCommand.request(code, header: header, body: body, serializeType: config.serializeType)
        r.language = config.language
        return r
    }

    /// Request/response. Cancelling the calling task ends the wait at once (the response, if it comes, is
    /// dropped), so a long-polling pull or a heartbeat never holds up the shutdown of the task's owner.
    func invoke(_ addr: String, _ req: RemotingCommand, timeoutMs: Int64) async throws(MQClientError) -> RemotingCommand {
        do {
            try Task.checkCancellation()
            let channel = try await remoting.channel(to: addr)
            return try await Self.valueOrCancel(channel.invokeFuture(req, timeoutMs: timeoutMs))
        } catch {
            throw MQClientError.from(error)
        }
    }

    /// The future's value, or CancellationError as soon as the task is cancelled.
    static func valueOrCancel<T: Sendable>(_ future: EventLoopFuture<T>) async throws -> T {
        // A promise of our own, so cancelling fails only our wait; a promise completed twice keeps the first.
        let promise = future.eventLoop.makePromise(of: T.self)
        future.cascade(to: promise)
        return try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            promise.fail(CancellationError())
        }
    }

    func oneway(_ addr: String, _ req: RemotingCommand) async {
        var r = req
        r.flag |= RemotingCommand.onewayFlagBit
        try? await remoting.invokeOneway(addr, r)
    }

    // MARK: name server

    /// Route of a topic from one name server; the next server is tried when one is unreachable.
    func getTopicRouteInfo(_ topic: String) async throws(MQClientError) -> TopicRouteData {
        let list = config.namesrvList
        guard !list.isEmpty else { throw .noNameServer }
        var lastError = MQClientError.noNameServer
        for attempt in 0..<list.count {
            let index = namesrvChoice.withLock { i in attempt == 0 ? i : { i += 1; return i }() }
            let addr = list[index % list.count]
            do throws(MQClientError) {
                let resp = try await invoke(addr, request(.getRouteInfoByTopic, GetRouteInfoRequestHeader(topic: topic)),
                                            timeoutMs: config.mqClientApiTimeoutMs)
                switch resp.responseCode {
                case .success:
                    guard let body = resp.body else { throw MQClientError.topicRouteNotFound(topic: topic, reason: "empty body") }
                    do { return try TopicRouteData.decode(body) } catch {
                        throw .topicRouteNotFound(topic: topic, reason: "\(error)")
                    }
                case .topicNotExist:
                    throw MQClientError.topicRouteNotFound(topic: topic, reason: resp.remark ?? "topic not exist")
                default:
                    throw MQClientError.broker(code: resp.code, remark: resp.remark ?? "")
                }
            } catch {
                let e = MQClientError.from(error)
                lastError = e
                if !e.isNetwork { throw e }
                namesrvChoice.withLock { $0 += 1 }
            }
        }
        throw MQClientError.network("no name server reachable among \(list): \(lastError)")
    }

    // MARK: send

    static func sendResult(_ resp: RemotingCommand, brokerName: String, topic: String, uniqID: String?) throws(MQClientError) -> SendResult {
        let status: SendStatus
        switch resp.responseCode {
        case .success: status = .sendOK
        case .flushDiskTimeout: status = .flushDiskTimeout
        case .flushSlaveTimeout: status = .flushSlaveTimeout
        case .slaveNotAvailable: status = .slaveNotAvailable
        default: throw .broker(code: resp.code, remark: resp.remark ?? "")
        }
        let h = (try? resp.decodeHeader(SendMessageResponseHeader.self))
        return SendResult(
            sendStatus: status, msgId: uniqID ?? h?.msgId ?? "", offsetMsgId: h?.msgId ?? "",
            messageQueue: MessageQueue(topic: topic, brokerName: brokerName, queueId: h?.queueId ?? 0),
            queueOffset: h?.queueOffset ?? 0, transactionId: h?.transactionId, regionId: h?.msgRegion ?? "DefaultRegion")
    }

    // MARK: pull

    public func pullMessage(_ addr: String, _ header: PullMessageRequestHeader, lite: Bool, timeoutMs: Int64, brokerName: String)
        async throws(MQClientError) -> PullResult
    {
        var header = header
        header.brokerName = brokerName
        let resp = try await invoke(addr, request(lite ? .litePullMessage : .pullMessage, header), timeoutMs: timeoutMs)
        let status: PullStatus
        switch resp.responseCode {
        case .success: status = .found
        case .pullNotFound: status = .noNewMessage
        case .pullRetryImmediately: status = .noMatchedMessage
        case .pullOffsetMoved: status = .offsetIllegal
        default: throw .broker(code: resp.code, remark: resp.remark ?? "")
        }
        let h: PullMessageResponseHeader
        do { h = try resp.decodeHeader() } catch { throw .broker(code: resp.code, remark: "bad pull response header: \(error)") }
        let messages = status == .found ? MessageDecoder.decodeAll(resp.bodyBytes, decompress: true) : []
        return PullResult(status: status, nextBeginOffset: h.nextBeginOffset, minOffset: h.minOffset, maxOffset: h.maxOffset,
                          suggestWhichBrokerId: h.suggestWhichBrokerId, messages: messages)
    }

    // MARK: offsets

    /// The group's committed offset; nil when the broker has none (QUERY_NOT_FOUND).
    func queryConsumerOffset(_ addr: String, group: String, mq: MessageQueue) async throws(MQClientError) -> Int64? {
        let h = QueryConsumerOffsetRequestHeader(consumerGroup: group, topic: mq.topic, queueId: mq.queueId,
                                                 brokerName: mq.brokerName)
        let resp = try await invoke(addr, request(.queryConsumerOffset, h), timeoutMs: 5_000)
        switch resp.responseCode {
        case .success: return Self.offset(of: resp)
        case .queryNotFound: return nil
        default: throw .broker(code: resp.code, remark: resp.remark ?? "")
        }
    }

    func updateConsumerOffsetOneway(_ addr: String, group: String, mq: MessageQueue, offset: Int64) async {
        let h = UpdateConsumerOffsetRequestHeader(consumerGroup: group, topic: mq.topic, queueId: mq.queueId,
                                                  commitOffset: offset, brokerName: mq.brokerName)
        await oneway(addr, request(.updateConsumerOffset, h))
    }

    func updateConsumerOffset(_ addr: String, group: String, mq: MessageQueue, offset: Int64) async throws(MQClientError) {
        let h = UpdateConsumerOffsetRequestHeader(consumerGroup: group, topic: mq.topic, queueId: mq.queueId,
                                                  commitOffset: offset, brokerName: mq.brokerName)
        let resp = try await invoke(addr, request(.updateConsumerOffset, h), timeoutMs: 5_000)
        guard resp.responseCode == .success else { throw .broker(code: resp.code, remark: resp.remark ?? "") }
    }

    /// A success's `offset`; an answer without a readable one counts as 0, as Java's default long does.
    private static func offset(of resp: RemotingCommand) -> Int64 {
        (try? resp.decodeHeader(OffsetResponseHeader.self))?.offset ?? 0
    }

    private func offsetCall(_ code: RequestCode, _ addr: String, _ header: some CommandCustomHeader)
        async throws(MQClientError) -> Int64
    {
        let resp = try await invoke(addr, request(code, header), timeoutMs: config.mqClientApiTimeoutMs)
        guard resp.responseCode == .success else { throw .broker(code: resp.code, remark: resp.remark ?? "") }
        return Self.offset(of: resp)
    }

    func getMaxOffset(_ addr: String, mq: MessageQueue) async throws(MQClientError) -> Int64 {
        try await offsetCall(.getMaxOffset, addr, TopicQueueRequestHeader(topic: mq.topic, queueId: mq.queueId,
                                                                          brokerName: mq.brokerName))
    }

    func getMinOffset(_ addr: String, mq: MessageQueue) async throws(MQClientError) -> Int64 {
        try await offsetCall(.getMinOffset, addr, TopicQueueRequestHeader(topic: mq.topic, queueId: mq.queueId,
                                                                          brokerName: mq.brokerName))
    }

    func searchOffset(_ addr: String, mq: MessageQueue, timestamp: Int64) async throws(MQClientError) -> Int64 {
        try await offsetCall(.searchOffsetByTimestamp, addr, SearchOffsetRequestHeader(
            topic: mq.topic, queueId: mq.queueId, timestamp: timestamp, brokerName: mq.brokerName))
    }

    // MARK: membership

    func sendHeartbeat(_ addr: String, _ data: HeartbeatData) async throws(MQClientError) {
        let resp = try await invoke(addr, request(.heartBeat, nil, body: data.encode()), timeoutMs: config.mqClientApiTimeoutMs)
        guard resp.responseCode == .success else { throw .broker(code: resp.code, remark: resp.remark ?? "") }
    }

    func unregisterClient(_ addr: String, clientID: String, producerGroup: String?, consumerGroup: String?) async {
        let h = UnregisterClientRequestHeader(clientID: clientID, producerGroup: producerGroup, consumerGroup: consumerGroup)
        _ = try? await invoke(addr, request(.unregisterClient, h), timeoutMs: config.mqClientApiTimeoutMs)
    }

    func getConsumerIdList(_ addr: String, group: String) async throws(MQClientError) -> [String] {
        let resp = try await invoke(addr, request(.getConsumerListByGroup, ConsumerGroupRequestHeader(consumerGroup: group)),
                                    timeoutMs: config.mqClientApiTimeoutMs)
        guard resp.responseCode == .success, let body = resp.body else {
            throw .broker(code: resp.code, remark: resp.remark ?? "")
        }
        do { return try GetConsumerListByGroupResponseBody.decode(body).consumerIdList } catch {
            throw .broker(code: resp.code, remark: "bad consumer list: \(error)")
        }
    }

    /// CHECK_CLIENT_CONFIG (46): does the broker serve this subscription's selector?
    func checkClientInBroker(_ addr: String, group: String, clientId: String, subscription: SubscriptionData)
        async throws(MQClientError)
    {
        var w = JSONWriter(style: .fastjson)
        w.beginObject()
        w.field("clientId", clientId)
        w.field("group", group)
        w.key("subscriptionData")
        subscription.writeJSON(to: &w)
        w.endObject()
        let resp = try await invoke(addr, request(.checkClientConfig, body: w.buffer), timeoutMs: config.mqClientApiTimeoutMs)
        guard resp.responseCode == .success else { throw .broker(code: resp.code, remark: resp.remark ?? "") }
    }

    /// LOCK_BATCH_MQ (41, broker.md §10): the queues of `mqs` this client holds afterwards. Timeout 1 s, as Java.
    func lockBatchMQ(_ addr: String, group: String, clientId: String, mqs: Set<MessageQueue>) async throws(MQClientError)
        -> Set<MessageQueue>
    {
        let body = LockBatchRequestBody(consumerGroup: group, clientId: clientId, mqSet: mqs)
        let resp = try await invoke(addr, request(.lockBatchMQ, body: body.encode()), timeoutMs: 1_000)
        guard resp.responseCode == .success, let data = resp.body else { throw .broker(code: resp.code, remark: resp.remark ?? "") }
        do { return try LockBatchResponseBody.decode(data).lockOKMQSet } catch {
            throw .broker(code: resp.code, remark: "bad lock answer: \(error)")
        }
    }

    /// UNLOCK_BATCH_MQ (42): one-way during rebalance, waited for at shutdown.
    func unlockBatchMQ(_ addr: String, group: String, clientId: String, mqs: Set<MessageQueue>, oneway: Bool) async {
        let req = request(.unlockBatchMQ, body: LockBatchRequestBody(consumerGroup: group, clientId: clientId, mqSet: mqs).encode())
        if oneway { await self.oneway(addr, req) } else { _ = try? await invoke(addr, req, timeoutMs: 1_000) }
    }

    /// CONSUMER_SEND_MSG_BACK (remoting.md §9.6).
    func consumerSendMessageBack(_ addr: String, message: MessageExt, group: String, delayLevel: Int32,
                                 maxReconsumeTimes: Int32) async throws(MQClientError)
    {
        let h = ConsumerSendMsgBackRequestHeader(
            offset: message.commitLogOffset, group: group, delayLevel: delayLevel, originMsgId: message.msgId,
            originTopic: message.topic, unitMode: false, maxReconsumeTimes: maxReconsumeTimes, brokerName: message.brokerName)
        let resp = try await invoke(addr, request(.consumerSendMsgBack, h), timeoutMs: 5_000)
        guard resp.responseCode == .success else { throw .broker(code: resp.code, remark: resp.remark ?? "") }
    }
}
