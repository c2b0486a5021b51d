// SendMessageProcessor: SEND_MESSAGE (10), SEND_MESSAGE_V2 (310) and SEND_BATCH_MESSAGE (320) — header
// decoding (V1 names or V2 letters), routing through MessageRouter (checks, auto-creation, retry -> DLQ,
// half messages, delay levels, UNIQ_KEY/CLUSTER), the store put and the response (spec broker.md §2,
// remoting.md §9.1). Every answer, errors included, carries MSG_REGION and TRACE_ON.
// Registered `.eventLoopThen(send executor)`: on the event loop it answers what needs no waiting (a put
// that `tryPutMessage` takes at once); a send that must create a topic or a group (file writes) or whose
// put would wait for the allocator is declined there and runs again on the send executor.

import Glibc
import Logging
import NIOCore
import Remoting
import Store

/// The store as the send path uses it.
protocol MessageStoring: Sendable {
    func putMessage(_ message: MessageToStore, completion: @escaping @Sendable (PutMessageResult) -> Void)
    func putMessages(_ batch: MessageBatchToStore, completion: @escaping @Sendable (PutMessageResult) -> Void)
    func tryPutMessage(_ message: MessageToStore, completion: @escaping @Sendable (PutMessageResult) -> Void) -> Bool
    func tryPutMessages(_ batch: MessageBatchToStore, completion: @escaping @Sendable (PutMessageResult) -> Void) -> Bool
    var isOSPageCacheBusy: Bool { get }
    var isSlave: Bool { get }
    /// The stored message at a CommitLog offset (send-back copies it), or nil when none is there.
    func storedMessage(atPhysicalOffset offset: Int64) -> StoredMessage?
}

extension MessageStoring {
    func putMessage(_ message: MessageToStore) async -> PutMessageResult {
        await withCheckedContinuation { c in putMessage(message) { c.resume(returning: $0) } }
    }
}

extension MessageStore: MessageStoring {
    func storedMessage(atPhysicalOffset offset: Int64) -> StoredMessage? {
        lookMessage(physicalOffset: offset).flatMap { StoredMessage($0) }
    }
}

/// What sends need of the broker, and no more: a processor can be built over plain values in a test.
protocol SendMessageEnvironment: Sendable {
    /// One snapshot of the settings per request (routing, MSG_REGION, TRACE_ON).
    var routingSettings: RoutingSettings { get }
    var tables: any RoutingTables { get }
    var messageStore: any MessageStoring { get }
    func makeUniqueKey() -> String
    /// Creates what a route asked for (writes config files, registers with the NameServers). May wait.
    func create(_ creations: [RouteCreation])
    func recordPut(messages: Int, bytes: Int, ok: Bool)
}

struct SendMessageProcessor: RemotingRequestProcessor {
    let environment: any SendMessageEnvironment
    /// Made once, so routing a send allocates no closure.
    private let makeUniqueKey: @Sendable () -> String
    /// The store, taken once (each read of the environment's would box it again).
    private let store: any MessageStoring

    init(environment: any SendMessageEnvironment) {
        self.environment = environment
        makeUniqueKey = { environment.makeUniqueKey() }
        store = environment.messageStore
    }

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
        /// Something must be created first: not on the event loop.
        case offload
    }

    /// RocketMQ's rejectRequest for sends: a slave, or a busy page cache, refuses them before they queue.
    func rejectRequest() -> Bool {
        store.isSlave || store.isOSPageCacheBusy
    }

    /// On the send executor: creates what the route needs, and the put may wait.
    func processRequest(_ request: RemotingCommand, channel: RemotingChannel) async throws -> RemotingCommand? {
        switch prepare(request, channel: channel, mayCreate: true) {
        case .answer(let response):
            return response
        case .offload:
            return request.makeResponse(.systemError, remark: "route not settled after creating its topics")
        case .put(let p, let toStore):
            let result = await withCheckedContinuation { (c: CheckedContinuation<PutMessageResult, Never>) in
                switch toStore {
                case .batch(let batch): store.putMessages(batch) { c.resume(returning: $0) }
                case .message(let message): store.putMessage(message) { c.resume(returning: $0) }
                }
            }
            return finish(p, result)
        }
    }

    /// On the event loop: checks, then a put that never waits, answered from the store's completion (at
    /// once under ASYNC_FLUSH, from the group-commit thread under SYNC_FLUSH). No task, no thread hop.
    /// Returns false, having done nothing, for a send that would wait.
    func processRequestInline(_ request: RemotingCommand, channel: RemotingChannel) -> Bool {
        switch prepare(request, channel: channel, mayCreate: false) {
        case .answer(let response):
            channel.writeResponse(response, to: request)
            return true
        case .offload:
            return false
        case .put(let p, let toStore):
            let done: @Sendable (PutMessageResult) -> Void = { result in channel.writeResponse(finish(p, result), to: p.answerTo) }
            switch toStore {
            case .batch(let batch): return store.tryPutMessages(batch, completion: done)
            case .message(let message): return store.tryPutMessage(message, completion: done)
            }
        }
    }

    /// Header decoding and routing: everything before the store put. With `mayCreate` the topics and
    /// groups a route asks for are created and the message routed again.
    func prepare(_ request: RemotingCommand, channel: RemotingChannel, mayCreate: Bool) -> Prepared {
        let env = environment
        let settings = env.routingSettings
        let responseHeader = SendMessageResponseHeader(msgRegion: settings.regionId, traceOn: settings.traceOn)
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
        let inbound = InboundSend(
            topic: header.topic, queueId: header.queueId, properties: header.properties ?? "", sysFlag: header.sysFlag,
            reconsumeTimes: header.reconsumeTimes ?? 0, maxReconsumeTimes: header.maxReconsumeTimes, isBatch: isBatch,
            defaultTopic: header.defaultTopic, defaultTopicQueueNums: header.defaultTopicQueueNums,
            unitMode: header.unitMode == true, producerAddress: channel.remoteAddress)
        func route() -> RouteDecision {
            MessageRouter(settings: settings, tables: env.tables, makeUniqueKey: makeUniqueKey).route(inbound)
        }
        var decision = route()
        var rounds = 0
        while case .create(let creations) = decision {
            guard mayCreate else { return .offload }
            rounds += 1
            guard rounds <= 3 else { return answer(.systemError, "topic[\(header.topic)] could not be created") }
            env.create(creations)
            decision = route()  // over the tables as they are after the creation
        }
        let plan: RoutePlan
        switch decision {
        case .refuse(let code, let remark): return answer(code, remark)
        case .create: return .offload
        case .deliver(let p): plan = p
        }

        let body = request.bodyBytes
        let bornHost = Self.messageHost(channel.remoteSocketAddress ?? channel.channel.remoteAddress)
        let answerTo = RemotingCommand(code: request.code, language: request.language, version: request.version,
                                       opaque: request.opaque, flag: request.flag, serializeType: request.serializeType)
        let prepared = PreparedSend(answerTo: answerTo, responseHeader: responseHeader, queueId: plan.replyQueueId,
                                    uniqueKey: plan.uniqueKey, bodyBytes: body.count)
        if isBatch {
            return .put(prepared, .batch(MessageBatchToStore(topic: plan.topic, queueId: plan.queueId, body: body, sysFlag: plan.sysFlag,
                                                             bornTimestampMs: header.bornTimestamp, bornHost: bornHost,
                                                             reconsumeTimes: header.reconsumeTimes ?? 0)))
        }
        if body.isEmpty { return answer(.messageIllegal, "the message body is empty") }
        return .put(prepared, .message(MessageToStore(topic: plan.topic, queueId: plan.queueId, body: body, properties: plan.properties,
                                                      flag: header.flag, sysFlag: plan.sysFlag, bornTimestampMs: header.bornTimestamp,
                                                      bornHost: bornHost, reconsumeTimes: header.reconsumeTimes ?? 0)))
    }

    /// The answer to a send once the store has put it.
    func finish(_ p: PreparedSend, _ result: PutMessageResult) -> RemotingCommand {
        environment.recordPut(messages: Int(result.append?.messageCount ?? 0), bytes: p.bodyBytes, ok: result.isOk)
        var responseHeader = p.responseHeader
        let code = Self.responseCode(result.status)
        if let append = result.append, result.isStored {
            responseHeader.msgId = append.messageId
            responseHeader.queueId = p.queueId
            responseHeader.queueOffset = append.queueOffset
            responseHeader.transactionId = p.uniqueKey
            return p.answerTo.makeResponse(code, remark: code == .success ? nil : result.status.rawValue, header: responseHeader)
        }
        return p.answerTo.makeResponse(code, remark: result.remark ?? result.status.rawValue, header: responseHeader)
    }

    /// The code a send is answered with for a store put's status (remoting sends and LocalSend alike).
    static func responseCode(_ status: PutMessageStatus) -> ResponseCode {
        switch status {
        case .putOk: return .success
        case .flushDiskTimeout: return .flushDiskTimeout
        case .flushSlaveTimeout: return .flushSlaveTimeout
        case .slaveNotAvailable: return .slaveNotAvailable
        case .messageIllegal, .propertiesSizeExceeded: return .messageIllegal
        case .serviceNotAvailable: return .serviceNotAvailable
        case .flushQueueFull, .osPageCacheBusy: return .systemBusy
        case .createMappedFileFailed, .unknownError, .inSyncReplicasNotEnough: return .systemError
        }
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
