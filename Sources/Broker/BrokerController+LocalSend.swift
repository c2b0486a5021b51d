// BrokerController+LocalSend: a send made inside the broker process by another front end (the gRPC
// endpoint, BrokerGrpc), as RocketMQ's proxy in "local" mode calls the broker's processors directly. It takes
// the remoting send's path: MessageRouter (checks, auto-creation, transaction half, delay level, UNIQ_KEY,
// CLUSTER) over the same tables and settings, then the store put; only the request's shape differs. Ending
// a transaction takes EndTransactionProcessor's path the same way.

import Common
import Remoting
import Store

/// One message to send, already in the store's terms (properties encoded as RocketMQ keeps them).
public struct LocalSendRequest: Sendable {
    public var topic: String
    /// The queue to write; negative: the router picks one of the topic's write queues.
    public var queueId: Int32
    public var body: [UInt8]
    public var properties: String
    public var flag: Int32
    public var sysFlag: Int32
    public var bornTimestampMs: Int64
    public var bornHost: MessageHost

    public init(topic: String, queueId: Int32, body: [UInt8], properties: String, flag: Int32 = 0, sysFlag: Int32 = 0,
                bornTimestampMs: Int64, bornHost: MessageHost) {
        self.topic = topic
        self.queueId = queueId
        self.body = body
        self.properties = properties
        self.flag = flag
        self.sysFlag = sysFlag
        self.bornTimestampMs = bornTimestampMs
        self.bornHost = bornHost
    }
}

/// How a local send ended: the remoting send's response code and remark, and where the message went.
public struct LocalSendResult: Sendable {
    public var code: ResponseCode
    public var remark: String?
    /// The offset msgId (set when the message was stored).
    public var offsetMessageId: String?
    public var queueId: Int32
    public var queueOffset: Int64
    /// The message's UNIQ_KEY (the client's message id).
    public var uniqueKey: String?
    /// Where the record went in the CommitLog (-1 when not stored): with `queueOffset`, what
    /// END_TRANSACTION names a half message by.
    public var physicalOffset: Int64 = -1
}

extension BrokerController {
    /// Sends one message through the router and the store, as SEND_MESSAGE_V2 would; may create the topic
    /// (autoCreateTopicEnable) and waits for the put.
    public func localSend(_ request: LocalSendRequest) async -> LocalSendResult {
        let env = BrokerSendEnvironment(controller: self)
        let settings = env.routingSettings
        let inbound = InboundSend(topic: request.topic, queueId: request.queueId, properties: request.properties,
                                  sysFlag: request.sysFlag, reconsumeTimes: 0, maxReconsumeTimes: nil, isBatch: false,
                                  producerAddress: request.bornHost.description)
        let router = MessageRouter(settings: settings, tables: env.tables, makeUniqueKey: { env.makeUniqueKey() })
        var decision = router.route(inbound)
        var rounds = 0
        while case .create(let creations) = decision, rounds < 3 {
            rounds += 1
            env.create(creations)
            decision = router.route(inbound)
        }
        func refused(_ code: ResponseCode, _ remark: String?) -> LocalSendResult {
            LocalSendResult(code: code, remark: remark, offsetMessageId: nil, queueId: request.queueId, queueOffset: -1, uniqueKey: nil)
        }
        let plan: RoutePlan
        switch decision {
        case .refuse(let code, let remark): return refused(code, remark)
        case .create: return refused(.systemError, "topic[\(request.topic)] could not be created")
        case .deliver(let p): plan = p
        }
        if request.body.isEmpty { return refused(.messageIllegal, "the message body is empty") }
        let message = MessageToStore(topic: plan.topic, queueId: plan.queueId, body: request.body, properties: plan.properties,
                                     flag: request.flag, sysFlag: plan.sysFlag, bornTimestampMs: request.bornTimestampMs,
                                     bornHost: request.bornHost)
        let result = await env.messageStore.putMessage(message)
        env.recordPut(messages: Int(result.append?.messageCount ?? 0), bytes: request.body.count, ok: result.isOk)
        let code = SendMessageProcessor.responseCode(result.status)
        guard let append = result.append, result.isStored else {
            return refused(code, result.remark ?? result.status.rawValue)
        }
        return LocalSendResult(code: code, remark: code == .success ? nil : result.status.rawValue,
                               offsetMessageId: append.messageId, queueId: plan.replyQueueId,
                               queueOffset: append.queueOffset, uniqueKey: plan.uniqueKey, physicalOffset: append.physicalOffset)
    }

    /// Commits (`commit` true) or rolls back a half message as END_TRANSACTION does; nil when the broker
    /// has nothing to answer. `fromCheck`: the producer answers a transaction check.
    public func localEndTransaction(topic: String, producerGroup: String, halfQueueOffset: Int64, commitLogOffset: Int64,
                                    commit: Bool, fromCheck: Bool, msgId: String, remoteAddress: String) async -> (ResponseCode, String?)? {
        let header = EndTransactionRequestHeader(
            topic: topic, producerGroup: producerGroup, tranStateTableOffset: halfQueueOffset, commitLogOffset: commitLogOffset,
            commitOrRollback: commit ? MessageSysFlag.transactionCommitType : MessageSysFlag.transactionRollbackType,
            fromTransactionCheck: fromCheck, msgId: msgId)
        return await EndTransactionProcessor(bridge: transactionBridge, config: self, stats: stats)
            .endTransaction(header, from: remoteAddress, remark: nil)
    }

    /// Called on the store's dispatcher thread for every message made visible to consumers (after the pull
    /// long-polling service), until replaced or the broker stops: it must return at once. nil removes it.
    public func setMessageArrivalListener(_ listener: (@Sendable (MessageArrival) -> Void)?) {
        arrivalRelay.withLock { $0?.setListener(listener) }
    }

    /// The delay levels' times in ms (messageDelayLevel), level 1 first: a delivery time maps to a level.
    public var delayLevelTableMs: [Int64] { store.config.delayLevelTableMs }
}
