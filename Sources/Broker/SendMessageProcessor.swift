// SendMessageProcessor: SEND_MESSAGE (10), SEND_MESSAGE_V2 (310) and SEND_BATCH_MESSAGE (320) — header
// decoding (V1 names or V2 letters), topic checks and auto-creation, queue choice, UNIQ_KEY/CLUSTER
// properties, half messages of transactions (§8.1), the store put and the response (spec broker.md §2,
// remoting.md §9.1). Every answer, errors included, carries MSG_REGION and TRACE_ON. Runs on the
// dispatcher's per-request task.

import Glibc
import Logging
import NIOCore
import Remoting
import Store

struct SendMessageProcessor: RemotingRequestProcessor {
    let controller: BrokerController

    /// A send that passed every check and waits for its store put: what its answer needs. The request
    /// itself is not kept (only a header-less copy to answer), so the store's completion does not carry the
    /// request's header and body along.
    struct PreparedSend: Sendable {
        let answerTo: RemotingCommand
        var responseHeader: SendMessageResponseHeader
        let queueId: Int32
        let uniqueKey: String?
        let bodyBytes: Int
    }

    enum ToStore: Sendable {
        case message(MessageToStore)
        case batch(MessageBatchToStore)
    }

    enum Prepared: Sendable {
        case answer(RemotingCommand)
        case put(PreparedSend, ToStore)
    }

    func processRequest(_ request: RemotingCommand, channel: RemotingChannel) async throws -> RemotingCommand? {
        switch prepare(request, channel: channel) {
        case .answer(let response):
            return response
        case .put(let p, .batch(let batch)):
            return finish(p, await controller.store.putMessages(batch))
        case .put(let p, .message(let message)):
            return finish(p, await controller.store.putMessage(message))
        }
    }

    /// Sends never block: checks, then the store's completion-based put, answered from its completion
    /// (at once under ASYNC_FLUSH, from the group-commit thread under SYNC_FLUSH). No task, no thread hop.
    func processRequestInline(_ request: RemotingCommand, channel: RemotingChannel) -> Bool {
        switch prepare(request, channel: channel) {
        case .answer(let response):
            channel.writeResponse(response, to: request)
        case .put(let p, let toStore):
            let done: @Sendable (PutMessageResult) -> Void = { result in channel.writeResponse(finish(p, result), to: p.answerTo) }
            switch toStore {
            case .batch(let batch): controller.store.putMessages(batch, completion: done)
            case .message(let message): controller.store.putMessage(message, completion: done)
            }
        }
        return true
    }

    /// Header decoding, topic and queue checks, properties: everything before the store put.
    func prepare(_ request: RemotingCommand, channel: RemotingChannel) -> Prepared {
        let config = controller.brokerConfig
        let responseHeader = SendMessageResponseHeader(msgRegion: config.regionId, traceOn: config.traceOn)
        func answer(_ code: ResponseCode, _ remark: String?) -> Prepared {
            .answer(request.makeResponse(code, remark: remark, header: responseHeader))
        }

        let header: SendMessageRequestHeader
        do {
            let v2 = request.requestCode == .sendMessageV2 || request.requestCode == .sendBatchMessage
            header = v2 ? try request.decodeHeader(SendMessageRequestHeaderV2.self).header
                : try request.decodeHeader(SendMessageRequestHeader.self)
        } catch {
            return answer(.systemError, "\(error)")
        }
        let isBatch = request.requestCode == .sendBatchMessage || header.batch == true

        // Topic checks (broker.md §2.1 steps 5-7).
        if let why = TopicValidator.validateTopic(header.topic) { return answer(.invalidParameter, why) }
        if TopicValidator.notAllowedSendTopics.contains(header.topic) {
            return answer(.noPermission, "Sending message to topic[\(header.topic)] is forbidden.")
        }
        var topicConfig = controller.topicConfigManager.select(header.topic)
        if topicConfig == nil {
            let isRetry = header.topic.hasPrefix(TopicValidator.retryGroupTopicPrefix)
            let (created, isNew) = controller.topicConfigManager.createTopicInSendMessageMethod(
                topic: header.topic, defaultTopic: header.defaultTopic, clientQueueNums: header.defaultTopicQueueNums,
                topicSysFlag: header.unitMode == true ? 1 : 0, autoCreateTopicEnable: config.autoCreateTopicEnable)
            topicConfig = created
            if topicConfig == nil && isRetry {
                topicConfig = controller.topicConfigManager.createTopicIfAbsent(header.topic, queueNums: 1).0
                controller.registerBrokerAllSoon()
            }
            if isNew { controller.registerBrokerAllSoon() }
        }
        guard let topicConfig else {
            return answer(.topicNotExist, "topic[\(header.topic)] not exist, apply first please!")
        }
        let queueCount = max(topicConfig.writeQueueNums, topicConfig.readQueueNums)
        var queueId = header.queueId
        if queueId >= queueCount {
            return answer(.invalidParameter,
                          "request queueId[\(queueId)] is illegal, \(topicConfig.lineFormat) Producer: \(channel.remoteAddress)")
        }
        if queueId < 0 { queueId = Int32.random(in: 0..<max(1, topicConfig.writeQueueNums)) }
        if isBatch && header.topic.hasPrefix(TopicValidator.retryGroupTopicPrefix) {
            return answer(.messageIllegal, "batch request does not support retry group \(header.topic)")
        }

        let bornHost = Self.messageHost(channel.remoteSocketAddress ?? channel.channel.remoteAddress)
        var properties = header.properties ?? ""
        // One pass for the properties every send looks at (appending CLUSTER below changes none of them).
        var uniqueKey: String?
        var transactionPrepared = false
        var delayLevel: Int32?
        var hasDelay = false
        MessageProperties.forEachPair(properties) { name, value in
            if ExtFieldBytes.matches(name, "UNIQ_KEY") {
                uniqueKey = String(decoding: value, as: UTF8.self)
            } else if ExtFieldBytes.matches(name, "TRAN_MSG") {
                transactionPrepared = ExtFieldBytes.bool(value)
            } else if ExtFieldBytes.matches(name, "DELAY") {
                hasDelay = true
                delayLevel = Int32(String(decoding: value, as: UTF8.self))
            }
        }
        if uniqueKey == nil && !isBatch {
            let id = controller.uniqIDSetter.createUniqID()
            Self.append(&properties, MessageProperties.uniqueClientMessageIdKeyIndex, id)
            uniqueKey = id
        }
        if !isBatch { Self.append(&properties, "CLUSTER", config.brokerClusterName) }
        let body = request.bodyBytes
        // Delay levels (broker.md §7): the message waits in SCHEDULE_TOPIC_XXXX; a %RETRY% message whose
        // reconsumeTimes passed the group's maximum goes to the dead-letter topic instead (§9).
        var storeTopic = header.topic
        var storeQueueId = queueId
        var deadLetter = false
        if !isBatch, header.topic.hasPrefix(TopicValidator.retryGroupTopicPrefix) {
            let group = String(header.topic.dropFirst(TopicValidator.retryGroupTopicPrefix.count))
            let maxTimes = header.maxReconsumeTimes ?? controller.subscriptionGroupManager.find(group)?.retryMaxTimes ?? 16
            // A retry of an orderly group (one that holds queue locks) goes to the DLQ at once: the orderly
            // consumer retried locally already (broker.md §9).
            if (header.reconsumeTimes ?? 0) > maxTimes || !controller.rebalanceLockManager.isLockAllExpired(group: group) {
                deadLetter = true
                storeTopic = TopicValidator.dlqGroupTopicPrefix + group
                storeQueueId = 0
                // A new DLQ topic is registered at once, so consumers and tools can route to it.
                if controller.topicConfigManager.createTopicIfAbsent(storeTopic, queueNums: 1, perm: 6).created {
                    controller.registerBrokerAllSoon()
                }
                var pairs = MessageProperties.decode(properties).filter { $0.key != MessageProperties.delayTimeLevel }.map { ($0.key, $0.value) }
                pairs.append((MessageProperties.delayTimeLevel, "-1"))
                properties = MessageProperties.encode(pairs)
            }
        }
        // Half messages (broker.md §8.1) wait in RMQ_SYS_TRANS_HALF_TOPIC until END_TRANSACTION; a half
        // message coming back through a delay level (a retry) is not prepared a second time.
        var sysFlag = header.sysFlag
        if !isBatch, !deadLetter, transactionPrepared, !((header.reconsumeTimes ?? 0) > 0 && (delayLevel ?? 0) > 0) {
            if config.rejectTransactionMessage {
                return answer(.noPermission, "the broker[\(config.brokerIP1)] sending transaction message is forbidden")
            }
            let half = TransactionalMessageBridge.parseHalfMessage(topic: header.topic, queueId: queueId,
                                                                   properties: &properties, sysFlag: header.sysFlag)
            TransactionalMessageBridge(controller: controller).ensureSystemTopic(half.topic)
            storeTopic = half.topic
            storeQueueId = half.queueId
            sysFlag = half.sysFlag
        } else if !isBatch, !deadLetter, hasDelay, let delayed = ScheduleMessageService.transformDelayLevelMessage(
            topic: header.topic, queueId: queueId, properties: &properties, sysFlag: header.sysFlag,
            maxLevel: controller.scheduleMessageService.maxLevel) {
            storeTopic = delayed.topic
            storeQueueId = delayed.queueId
        }

        let answerTo = RemotingCommand(code: request.code, language: request.language, version: request.version,
                                       opaque: request.opaque, flag: request.flag, serializeType: request.serializeType)
        if isBatch {
            return .put(PreparedSend(answerTo: answerTo, responseHeader: responseHeader, queueId: queueId,
                                     uniqueKey: uniqueKey, bodyBytes: body.count),
                        .batch(MessageBatchToStore(topic: header.topic, queueId: queueId, body: body, sysFlag: header.sysFlag,
                                                   bornTimestampMs: header.bornTimestamp, bornHost: bornHost,
                                                   reconsumeTimes: header.reconsumeTimes ?? 0)))
        }
        if body.isEmpty { return answer(.messageIllegal, "the message body is empty") }
        return .put(PreparedSend(answerTo: answerTo, responseHeader: responseHeader, queueId: queueId,
                                 uniqueKey: uniqueKey, bodyBytes: body.count),
                    .message(MessageToStore(topic: storeTopic, queueId: storeQueueId, body: body, properties: properties,
                                            flag: header.flag, sysFlag: sysFlag, bornTimestampMs: header.bornTimestamp,
                                            bornHost: bornHost, reconsumeTimes: header.reconsumeTimes ?? 0)))
    }

    /// The answer to a send once the store has put it.
    func finish(_ p: PreparedSend, _ result: PutMessageResult) -> RemotingCommand {
        controller.stats.recordPut(messages: Int(result.append?.messageCount ?? 0), bytes: p.bodyBytes, ok: result.isOk)
        var responseHeader = p.responseHeader
        let code: ResponseCode
        switch result.status {
        case .putOk: code = .success
        case .flushDiskTimeout: code = .flushDiskTimeout
        case .messageIllegal, .propertiesSizeExceeded: code = .messageIllegal
        case .serviceNotAvailable: code = .serviceNotAvailable
        case .flushQueueFull: code = .systemBusy
        case .createMappedFileFailed, .unknownError: code = .systemError
        }
        if let append = result.append, code == .success || code == .flushDiskTimeout {
            responseHeader.msgId = append.messageId
            responseHeader.queueId = p.queueId
            responseHeader.queueOffset = append.queueOffset
            responseHeader.transactionId = p.uniqueKey
            return p.answerTo.makeResponse(code, remark: code == .success ? nil : result.status.rawValue, header: responseHeader)
        }
        return p.answerTo.makeResponse(code, remark: result.remark ?? result.status.rawValue, header: responseHeader)
    }

    /// Appends `key=value` in the stored properties form.
    static func append(_ properties: inout String, _ key: String, _ value: String) {
        // Byte-level, with one reservation: Character appends and `last` (grapheme breaking) cost 2% of
        // the event loop when every send appends CLUSTER.
        let needsSeparator = !properties.isEmpty && properties.utf8.last != 2
        properties.reserveCapacity(properties.utf8.count + key.utf8.count + value.utf8.count + 3)
        if needsSeparator { properties.unicodeScalars.append("\u{2}") }
        properties += key
        properties.unicodeScalars.append("\u{1}")
        properties += value
        properties.unicodeScalars.append("\u{2}")
    }

    /// The producer's address as stored in BORNHOST (IPv4 if at all possible, clients decode v4 only), from
    /// the socket address itself: parsing its text for every send cost 5% of the event loop.
    static func messageHost(_ address: SocketAddress?) -> MessageHost {
        let port = Int32(address?.port ?? 0)
        switch address {
        case .v4(let a):
            return MessageHost(.v4(UInt32(bigEndian: a.address.sin_addr.s_addr)), port: port)
        case .v6(let a):
            var sin6 = a.address.sin6_addr
            let (hi, lo) = withUnsafeBytes(of: &sin6) { raw -> (UInt64, UInt64) in
                (UInt64(bigEndian: raw.loadUnaligned(as: UInt64.self)), UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
            }
            if hi == 0 && lo >> 32 == 0xFFFF { return MessageHost(.v4(UInt32(truncatingIfNeeded: lo)), port: port) }  // ::ffff:a.b.c.d
            if hi == 0 && lo == 1 { return MessageHost(.v4(0x7F00_0001), port: port) }  // ::1
            return MessageHost(.v6(hi, lo), port: port)
        default:
            return MessageHost(.v4(0x7F00_0001), port: port)
        }
    }
}
