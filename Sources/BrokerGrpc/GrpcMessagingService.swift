// GrpcMessagingService: RocketMQ 5.x's `apache.rocketmq.v2.MessagingService` over this broker, as the proxy's
// GrpcMessagingApplication in local mode: routes from the broker's own topic table, sends through the broker's
// router and store (BrokerController.localSend), POP consumption (PopConsumerService), the telemetry stream's
// settings sync. Every answer carries a v2 Status; an RPC Apus does not serve answers gRPC UNIMPLEMENTED.

import Broker
import Common
import GRPCCore
import GrpcAPI
import Logging
import Remoting
import Store
import Synchronization

final class GrpcMessagingService: Apache_Rocketmq_V2_MessagingService.SimpleServiceProtocol {
    typealias V2 = GrpcAPI.Apache_Rocketmq_V2_MessagingService

    let broker: BrokerController
    /// This endpoint's own port, named in routes when the client did not say which address it used (set
    /// once the server is bound).
    private let advertisedPort: Atomic<Int>
    let pop: PopConsumerService
    let logger: Logger
    /// The longest a receive holds when nothing is there (its long_polling_timeout is capped to this).
    static let maxLongPollingMs: Int64 = 20_000
    /// The invisible duration of a receive that names none (the proxy's default, 60 s).
    static let defaultInvisibleMs: Int64 = 60_000
    /// Held receives, woken by the broker's arrivals (BrokerController.setMessageArrivalListener).
    let longPolling = PopLongPolling()

    init(broker: BrokerController, grpcPort: Int, logger: Logger) {
        self.broker = broker
        advertisedPort = Atomic(grpcPort)
        self.pop = PopConsumerService(store: broker.store, offsets: broker.consumerOffsetManager)
        self.logger = logger
    }

    func setAdvertisedPort(_ port: Int) { advertisedPort.store(port, ordering: .relaxed) }

    // MARK: routes

    func queryRoute(request: Apache_Rocketmq_V2_QueryRouteRequest, context: ServerContext) async throws -> Apache_Rocketmq_V2_QueryRouteResponse {
        var response = Apache_Rocketmq_V2_QueryRouteResponse()
        let topic = request.topic.name
        guard let config = broker.topicConfigManager.select(topic) else {
            response.status = .of(.topicNotFound, "topic \(topic) does not exist")
            return response
        }
        let endpoints = accessPoint(request.hasEndpoints ? request.endpoints : nil)
        let queues = max(config.readQueueNums, config.writeQueueNums)
        for id in 0..<queues {
            var q = Apache_Rocketmq_V2_MessageQueue()
            q.topic = request.topic
            q.id = id
            let readable = id < config.readQueueNums && config.perm & 4 != 0
            let writable = id < config.writeQueueNums && config.perm & 2 != 0
            q.permission = readable && writable ? .readWrite : readable ? .read : writable ? .write : Apache_Rocketmq_V2_Permission.none
            q.broker = brokerEntry(endpoints)
            q.acceptMessageTypes = [.normal, .fifo, .delay, .transaction]
            response.messageQueues.append(q)
        }
        response.status = .ok
        return response
    }

    func queryAssignment(request: Apache_Rocketmq_V2_QueryAssignmentRequest, context: ServerContext) async throws -> Apache_Rocketmq_V2_QueryAssignmentResponse {
        var response = Apache_Rocketmq_V2_QueryAssignmentResponse()
        guard let config = broker.topicConfigManager.select(request.topic.name) else {
            response.status = .of(.topicNotFound, "topic \(request.topic.name) does not exist")
            return response
        }
        // POP needs no rebalance: the broker is assigned whole (queue -1: every readable queue), as the proxy does.
        var q = Apache_Rocketmq_V2_MessageQueue()
        q.topic = request.topic
        q.id = -1
        q.permission = config.perm & 4 != 0 ? .readWrite : .write
        q.broker = brokerEntry(accessPoint(request.hasEndpoints ? request.endpoints : nil))
        q.acceptMessageTypes = [.normal, .fifo, .delay, .transaction]
        var a = Apache_Rocketmq_V2_Assignment()
        a.messageQueue = q
        response.assignments = [a]
        response.status = .ok
        return response
    }

    private func accessPoint(_ asked: Apache_Rocketmq_V2_Endpoints?) -> Apache_Rocketmq_V2_Endpoints {
        if let asked, !asked.addresses.isEmpty { return asked }
        var e = Apache_Rocketmq_V2_Endpoints()
        e.scheme = .ipv4
        var a = Apache_Rocketmq_V2_Address()
        a.host = broker.brokerConfig.brokerIP1
        a.port = Int32(advertisedPort.load(ordering: .relaxed))
        e.addresses = [a]
        return e
    }

    private func brokerEntry(_ endpoints: Apache_Rocketmq_V2_Endpoints) -> Apache_Rocketmq_V2_Broker {
        var b = Apache_Rocketmq_V2_Broker()
        b.name = broker.brokerConfig.brokerName
        b.id = 0
        b.endpoints = endpoints
        return b
    }

    // MARK: clients

    func heartbeat(request: Apache_Rocketmq_V2_HeartbeatRequest, context: ServerContext) async throws -> Apache_Rocketmq_V2_HeartbeatResponse {
        var response = Apache_Rocketmq_V2_HeartbeatResponse()
        response.status = .ok
        return response
    }

    func notifyClientTermination(request: Apache_Rocketmq_V2_NotifyClientTerminationRequest,
                                 context: ServerContext) async throws -> Apache_Rocketmq_V2_NotifyClientTerminationResponse {
        var response = Apache_Rocketmq_V2_NotifyClientTerminationResponse()
        response.status = .ok
        return response
    }

    func telemetry(request: RPCAsyncSequence<Apache_Rocketmq_V2_TelemetryCommand, any Error>,
                   response: RPCWriter<Apache_Rocketmq_V2_TelemetryCommand>, context: ServerContext) async throws {
        for try await command in request {
            guard case .settings(let settings)? = command.command else { continue }
            var reply = Apache_Rocketmq_V2_TelemetryCommand()
            reply.status = .ok
            // A FIFO consumer group is one whose subscription group is orderly (mqadmin updateSubGroup -o true).
            let group = settings.subscription.hasGroup ? settings.subscription.group.name : ""
            let fifo = !group.isEmpty && broker.subscriptionGroupManager.find(group)?.consumeMessageOrderly == true
            reply.settings = GrpcClientSettings.answer(to: settings, maxBodySize: broker.store.config.maxMessageSizeBytes, fifo: fifo)
            try await response.write(reply)
        }
    }

    // MARK: send

    func sendMessage(request: Apache_Rocketmq_V2_SendMessageRequest, context: ServerContext) async throws -> Apache_Rocketmq_V2_SendMessageResponse {
        var response = Apache_Rocketmq_V2_SendMessageResponse()
        guard !request.messages.isEmpty else {
            response.status = .of(.badRequest, "no message to send")
            return response
        }
        let bornHost = GrpcPeer.messageHost(context.remotePeer)
        for m in request.messages {
            response.entries.append(await send(m, bornHost: bornHost))
        }
        // One status for the request: the entry's when there is one, MULTIPLE_RESULTS when they differ.
        let codes = Set(response.entries.map(\.status.code))
        if codes.count == 1, let only = response.entries.first {
            response.status = only.status
        } else {
            response.status = .of(.multipleResults, "the messages had different results")
        }
        return response
    }

    private func send(_ m: Apache_Rocketmq_V2_Message, bornHost: MessageHost) async -> Apache_Rocketmq_V2_SendResultEntry {
        var entry = Apache_Rocketmq_V2_SendResultEntry()
        entry.messageID = m.systemProperties.messageID
        let topic = m.topic.name
        let sp = m.systemProperties
        if topic.isEmpty { entry.status = .of(.illegalTopic, "the topic is empty"); return entry }
        if m.body.isEmpty { entry.status = .of(.messageBodyEmpty, "the message body is empty"); return entry }
        let maxBody = Int(broker.store.config.maxMessageSizeBytes)
        if m.body.count > maxBody {
            entry.status = .of(.messageBodyTooLarge, "the message body is \(m.body.count) bytes, more than maxMessageSize \(maxBody)")
            return entry
        }
        let isTransaction = sp.messageType == .transaction
        var queueId: Int32 = -1
        if sp.hasMessageGroup, !sp.messageGroup.isEmpty {
            // A FIFO message group keeps to one queue, so its messages stay in order.
            let queues = broker.topicConfigManager.select(topic)?.writeQueueNums ?? broker.brokerConfig.defaultTopicQueueNums
            let hash = Int64(FilterAPI.javaHashCode(sp.messageGroup))
            queueId = Int32(abs(hash) % Int64(max(1, queues)))
        }
        var level: Int32 = 0
        var deliverAt: Int64?
        if sp.hasDeliveryTimestamp {
            let at = GrpcMessageConverter.milliseconds(sp.deliveryTimestamp)
            level = GrpcMessageConverter.delayLevel(forDelayMs: at - WallClock.nowMs(), levels: broker.delayLevelTableMs)
            deliverAt = at
        }
        let bornMs = sp.hasBornTimestamp ? GrpcMessageConverter.milliseconds(sp.bornTimestamp) : WallClock.nowMs()
        var properties = GrpcMessageConverter.properties(of: m, delayLevel: isTransaction ? 0 : level, deliverAtMs: deliverAt)
        if isTransaction {
            // A half message (RMQ_SYS_TRANS_HALF_TOPIC) until EndTransaction; the topic is its producer group,
            // as the proxy does (a 5.x message names no producer group).
            properties = MessageProperties.encode(MessageProperties.decode(properties).map { ($0.key, $0.value) }.sorted { $0.0 < $1.0 }
                + [(MessageConst.transactionPrepared, "true"), (MessageConst.producerGroup, topic)])
        }
        let result = await broker.localSend(LocalSendRequest(
            topic: topic, queueId: queueId, body: [UInt8](m.body), properties: properties,
            sysFlag: isTransaction ? MessageSysFlag.transactionPreparedType : 0,
            bornTimestampMs: bornMs, bornHost: bornHost))
        let code = GrpcStatusMapping.code(forSend: result.code)
        entry.status = code == .ok ? .ok : .of(code, result.remark ?? "\(result.code)")
        if let id = result.uniqueKey { entry.messageID = id }
        entry.offset = result.queueOffset
        // What EndTransaction needs to find the half message: its CommitLog and half-queue offsets.
        entry.transactionID = isTransaction && result.physicalOffset >= 0
            ? GrpcTransactionId(commitLogOffset: result.physicalOffset, halfQueueOffset: result.queueOffset).text
            : (result.offsetMessageId ?? "")
        return entry
    }

    // MARK: POP consumption

    func receiveMessage(request: Apache_Rocketmq_V2_ReceiveMessageRequest, response: RPCWriter<Apache_Rocketmq_V2_ReceiveMessageResponse>,
                        context: ServerContext) async throws {
        func answer(_ status: V2Status) async throws {
            var r = Apache_Rocketmq_V2_ReceiveMessageResponse()
            r.status = status
            try await response.write(r)
        }
        let group = request.group.name, topic = request.messageQueue.topic.name
        guard !group.isEmpty else { return try await answer(.of(.illegalConsumerGroup, "the consumer group is empty")) }
        guard let config = broker.topicConfigManager.select(topic) else {
            return try await answer(.of(.topicNotFound, "topic \(topic) does not exist"))
        }
        if request.hasFilterExpression, request.filterExpression.type == .sql {
            return try await answer(.of(.unsupported, "SQL filter expressions over gRPC are not served by Apus yet"))
        }
        let tags = FilterAPI.tags(ofExpression: request.hasFilterExpression ? request.filterExpression.expression : nil)
        let invisibleMs = request.hasInvisibleDuration ? GrpcMessageConverter.milliseconds(request.invisibleDuration) : Self.defaultInvisibleMs
        guard invisibleMs > 0 else { return try await answer(.of(.illegalInvisibleTime, "the invisible duration must be positive")) }
        let batch = max(1, min(Int(request.batchSize), PopConsumerService.maxBatch))
        let pollMs = request.hasLongPollingTimeout ? GrpcMessageConverter.milliseconds(request.longPollingTimeout) : 0
        // The client's own deadline is its request timeout plus this; answer a little before it.
        let deadline = WallClock.nowMs() + min(Self.maxLongPollingMs, max(0, pollMs - 500))
        let queueIds: [Int32] = request.messageQueue.id >= 0 ? [request.messageQueue.id] : Array(0..<config.readQueueNums)
        let orderly = broker.subscriptionGroupManager.find(group)?.consumeMessageOrderly == true
        var popped: [PoppedMessage] = []
        while true {
            for q in queueIds where popped.count < batch {
                popped += pop.pop(group: group, topic: topic, queueId: q, maxCount: batch - popped.count, invisibleMs: invisibleMs,
                                  tags: tags, orderly: orderly)
            }
            let now = WallClock.nowMs()
            if !popped.isEmpty || now >= deadline || Task.isCancelled { break }
            await longPolling.wait(topic: topic, ms: deadline - now)
        }
        guard !popped.isEmpty else { return try await answer(.of(.messageNotFound, "no new message")) }
        try await answer(.ok)
        var at = Apache_Rocketmq_V2_ReceiveMessageResponse()
        at.deliveryTimestamp = GrpcMessageConverter.timestamp(ms: WallClock.nowMs())
        try await response.write(at)
        for p in popped {
            var r = Apache_Rocketmq_V2_ReceiveMessageResponse()
            r.message = GrpcMessageConverter.v2Message(p, namespace: request.messageQueue.topic.resourceNamespace)
            try await response.write(r)
        }
    }

    func ackMessage(request: Apache_Rocketmq_V2_AckMessageRequest, context: ServerContext) async throws -> Apache_Rocketmq_V2_AckMessageResponse {
        var response = Apache_Rocketmq_V2_AckMessageResponse()
        for e in request.entries {
            var r = Apache_Rocketmq_V2_AckMessageResultEntry()
            r.messageID = e.messageID
            r.receiptHandle = e.receiptHandle
            if let handle = ReceiptHandle(e.receiptHandle),
               pop.ack(group: request.group.name, topic: request.topic.name, handle: handle) == .acked {
                r.status = .ok
            } else {
                r.status = .of(.invalidReceiptHandle, "the receipt handle is not the message's current delivery")
            }
            response.entries.append(r)
        }
        let codes = Set(response.entries.map(\.status.code))
        if codes.count <= 1 {
            response.status = response.entries.first?.status ?? .ok
        } else {
            response.status = .of(.multipleResults, "the entries had different results")
        }
        return response
    }

    func changeInvisibleDuration(request: Apache_Rocketmq_V2_ChangeInvisibleDurationRequest,
                                 context: ServerContext) async throws -> Apache_Rocketmq_V2_ChangeInvisibleDurationResponse {
        var response = Apache_Rocketmq_V2_ChangeInvisibleDurationResponse()
        let ms = GrpcMessageConverter.milliseconds(request.invisibleDuration)
        guard ms > 0 else {
            response.status = .of(.illegalInvisibleTime, "the invisible duration must be positive")
            return response
        }
        guard let handle = ReceiptHandle(request.receiptHandle),
              let renewed = pop.changeInvisibleDuration(group: request.group.name, topic: request.topic.name, handle: handle, invisibleMs: ms)
        else {
            response.status = .of(.invalidReceiptHandle, "the receipt handle is not the message's current delivery")
            return response
        }
        response.receiptHandle = renewed.text
        response.status = .ok
        return response
    }

    func forwardMessageToDeadLetterQueue(request: Apache_Rocketmq_V2_ForwardMessageToDeadLetterQueueRequest,
                                         context: ServerContext) async throws -> Apache_Rocketmq_V2_ForwardMessageToDeadLetterQueueResponse {
        var response = Apache_Rocketmq_V2_ForwardMessageToDeadLetterQueueResponse()
        let group = request.group.name, topic = request.topic.name
        guard let handle = ReceiptHandle(request.receiptHandle), pop.inFlight(group: group, topic: topic, handle: handle) != nil else {
            response.status = .of(.invalidReceiptHandle, "the receipt handle is not the message's current delivery")
            return response
        }
        let got = broker.store.getMessage(topic: topic, queueId: handle.queueId, offset: handle.queueOffset, maxMsgNums: 1)
        guard let first = got.messages.first, let stored = StoredMessage(first) else {
            response.status = .of(.messageNotFound, "the message is no longer in the store")
            return response
        }
        // To %DLQ%<group> as the broker's send-back does past the retry limit (router: DLQ queue, auto-creation).
        var pairs = MessageProperties.decode(stored.properties)
        pairs[MessageConst.originMessageId] = pairs[MessageConst.uniqueClientMessageIdKeyIndex] ?? stored.offsetMessageId
        pairs[MessageConst.retryTopic] = topic
        let result = await broker.localSend(LocalSendRequest(
            topic: "%DLQ%" + group, queueId: 0, body: stored.body, properties: MessageProperties.encode(pairs),
            flag: stored.flag, sysFlag: stored.sysFlag, bornTimestampMs: stored.bornTimestampMs, bornHost: stored.bornHost))
        guard result.code == .success else {
            response.status = .of(GrpcStatusMapping.code(forSend: result.code), result.remark ?? "\(result.code)")
            return response
        }
        _ = pop.ack(group: group, topic: topic, handle: handle)
        response.status = .ok
        return response
    }

    // MARK: transactions

    func endTransaction(request: Apache_Rocketmq_V2_EndTransactionRequest, context: ServerContext) async throws -> Apache_Rocketmq_V2_EndTransactionResponse {
        var response = Apache_Rocketmq_V2_EndTransactionResponse()
        guard let id = GrpcTransactionId(request.transactionID) else {
            response.status = .of(.invalidTransactionID, "transaction id \(request.transactionID) is not one this broker gave")
            return response
        }
        let commit: Bool
        switch request.resolution {
        case .commit: commit = true
        case .rollback: commit = false
        default:
            // Unknown: the half message waits for the broker's check, as END_TRANSACTION with state 0.
            response.status = .ok
            return response
        }
        let topic = request.topic.name
        let answer = await broker.localEndTransaction(
            topic: topic, producerGroup: topic, halfQueueOffset: id.halfQueueOffset, commitLogOffset: id.commitLogOffset,
            commit: commit, fromCheck: request.source == .sourceServerCheck, msgId: request.messageID,
            remoteAddress: context.remotePeer)
        switch answer {
        case nil, (.success, _)?: response.status = .ok
        case (let code, let remark)?:
            response.status = .of(code == .systemError ? .invalidTransactionID : GrpcStatusMapping.code(forSend: code), remark ?? "\(code)")
        }
        return response
    }

    // MARK: not served yet


    func pullMessage(request: Apache_Rocketmq_V2_PullMessageRequest, response: RPCWriter<Apache_Rocketmq_V2_PullMessageResponse>,
                     context: ServerContext) async throws {
        throw RPCError(code: .unimplemented, message: "PullMessage is not served by Apus yet")
    }

    func updateOffset(request: Apache_Rocketmq_V2_UpdateOffsetRequest, context: ServerContext) async throws -> Apache_Rocketmq_V2_UpdateOffsetResponse {
        throw RPCError(code: .unimplemented, message: "UpdateOffset is not served by Apus yet")
    }

    func getOffset(request: Apache_Rocketmq_V2_GetOffsetRequest, context: ServerContext) async throws -> Apache_Rocketmq_V2_GetOffsetResponse {
        throw RPCError(code: .unimplemented, message: "GetOffset is not served by Apus yet")
    }

    func queryOffset(request: Apache_Rocketmq_V2_QueryOffsetRequest, context: ServerContext) async throws -> Apache_Rocketmq_V2_QueryOffsetResponse {
        throw RPCError(code: .unimplemented, message: "QueryOffset is not served by Apus yet")
    }

    func recallMessage(request: Apache_Rocketmq_V2_RecallMessageRequest, context: ServerContext) async throws -> Apache_Rocketmq_V2_RecallMessageResponse {
        throw RPCError(code: .unimplemented, message: "RecallMessage is not served by Apus yet")
    }

    func syncLiteSubscription(request: Apache_Rocketmq_V2_SyncLiteSubscriptionRequest,
                              context: ServerContext) async throws -> Apache_Rocketmq_V2_SyncLiteSubscriptionResponse {
        throw RPCError(code: .unimplemented, message: "SyncLiteSubscription is not served by Apus yet")
    }
}
