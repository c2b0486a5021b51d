// MQAdmin message operations: lookups by offset id, key and unique key, pulls of one queue and single
// sends (admin.md §10): VIEW_MESSAGE_BY_ID / QUERY_MESSAGE / SEND_MESSAGE_V2 requests after a route lookup,
// pulls through the client library's MQClientAPI. Called by `mqadmin` sub-commands; any task.

import Client
import Common
import NIOCore
import Remoting

/// What a send returned.
public struct SendResult: Sendable {
    public var sendStatus: String
    public var msgId: String
    public var offsetMsgId: String
    public var brokerName: String
    public var queueId: Int32
    public var queueOffset: Int64
}

/// What one pull returned.
public struct PullResult: Sendable {
    /// FOUND, NO_NEW_MSG, NO_MATCHED_MSG or OFFSET_ILLEGAL.
    public var pullStatus: String
    public var nextBeginOffset: Int64
    public var minOffset: Int64
    public var maxOffset: Int64
    public var messages: [MessageExt]
}

extension MQAdmin {
    /// The store address and commit-log offset inside an offset message id; nil for anything else, such
    /// as a UNIQ_KEY (also 32 hex characters, but its "port" is pid and random bits, out of range).
    public static func storeTarget(ofOffsetMsgId id: String) -> (address: String, offset: Int64)? {
        guard let (host, offset) = OffsetMessageId.parse(id), host.port > 0, host.port <= 65535, offset >= 0 else { return nil }
        return (host.description, offset)
    }

    /// VIEW_MESSAGE_BY_ID (33) to the store host encoded in an offset message id.
    public func viewMessage(offsetMsgId: String, topic: String? = nil) async throws -> MessageExt {
        guard let (address, offset) = Self.storeTarget(ofOffsetMsgId: offsetMsgId) else {
            throw MQAdminError.badArgument("\(offsetMsgId) is not an offset message id")
        }
        let r = try await invoke(address, .request(.viewMessageById, header: ViewMessageRequestHeader(offset: offset, topic: topic)))
        guard let m = MessageDecoder.decodeAll(r.bodyBytes, decompress: true).first else {
            throw MQAdminError.notFound("can not find message by the offset, \(offset)")
        }
        return m
    }

    /// QUERY_MESSAGE (12) to one address per broker of the topic; merged and filtered like RocketMQ's
    /// MQAdminImpl (exact key in KEYS, or UNIQ_KEY equal to the key for a unique-key query).
    public func queryMessage(topic: String, key: String, maxNum: Int32, begin: Int64, end: Int64, uniqueKey: Bool)
        async throws -> [MessageExt]
    {
        let route = try await examineTopicRouteInfo(topic)
        var found: [MessageExt] = []
        for b in route.brokerDatas {
            guard let addr = Self.selectBrokerAddr(b) else { continue }
            let request = RemotingCommand.request(.queryMessage, header: QueryMessageRequestHeader(
                topic: topic, key: key, maxNum: maxNum, beginTimestamp: begin, endTimestamp: end, uniqueKeyQuery: uniqueKey))
            let r = try await invoke(addr, request, timeoutMs: 18_000, accept: [.queryNotFound])
            guard r.responseCode == .success else { continue }
            for var m in MessageDecoder.decodeAll(r.bodyBytes, decompress: true) where m.topic == topic {
                m.brokerName = b.brokerName
                if uniqueKey {
                    if m.properties["UNIQ_KEY"] == key { found.append(m) }
                } else if m.keys.contains(key) {
                    found.append(m)
                }
            }
        }
        return found
    }

    /// PULL_MESSAGE (11) of one queue without suspending or committing (admin.md §10.4).
    public func pull(brokerName: String, topic: String, queueId: Int32, offset: Int64, maxNums: Int32,
                     group: String = "TOOLS_CONSUMER", route: TopicRouteData? = nil) async throws -> PullResult {
        let route = if let route { route } else { try await examineTopicRouteInfo(topic) }
        let addr = try brokerAddr(brokerName: brokerName, route: route)
        let h = PullMessageRequestHeader(consumerGroup: group, topic: topic, queueId: queueId, queueOffset: offset,
                                         maxMsgNums: maxNums, sysFlag: PullSysFlag.subscription, subscription: "*",
                                         expressionType: "TAG")
        let r: Client.PullResult
        do {
            r = try await clientAPI.pullMessage(addr, h, lite: false, timeoutMs: 10_000, brokerName: brokerName)
        } catch {
            if case let .broker(code, remark) = error { throw MQAdminError.response(code: code, remark: remark, address: addr) }
            throw error
        }
        let status = switch r.status {
        case .found: "FOUND"
        case .noNewMessage: "NO_NEW_MSG"
        case .noMatchedMessage: "NO_MATCHED_MSG"
        case .offsetIllegal: "OFFSET_ILLEGAL"
        }
        var messages = r.messages
        for i in messages.indices { messages[i].brokerName = brokerName }
        return PullResult(pullStatus: status, nextBeginOffset: r.nextBeginOffset, minOffset: r.minOffset,
                          maxOffset: r.maxOffset, messages: messages)
    }

    /// SEND_MESSAGE_V2 (310) of one message to `brokerName`/`queueId`, or to a queue picked from the route.
    public func sendMessage(topic: String, body: [UInt8], tags: String? = nil, keys: String? = nil,
                            brokerName: String? = nil, queueId: Int32? = nil, producerGroup: String) async throws -> SendResult {
        let route = try await examineTopicRouteInfo(topic)
        var targets: [(String, Int32)] = []
        for q in route.queueDatas.sorted(by: { $0.brokerName < $1.brokerName }) where PermName.isWriteable(q.perm) {
            for id in 0..<q.writeQueueNums { targets.append((q.brokerName, id)) }
        }
        if let brokerName { targets = targets.filter { $0.0 == brokerName } }
        if let queueId { targets = targets.filter { $0.1 == queueId } }
        guard let (name, qid) = targets.randomElement() else {
            throw MQAdminError.notFound("No route info of this topic: \(topic)")
        }
        let addr = try brokerAddr(brokerName: name, route: route)
        let uniqKey = MessageClientIDSetter.createUniqID()
        var props: [(String, String)] = [("UNIQ_KEY", uniqKey), ("WAIT", "true")]
        if let tags, !tags.isEmpty { props.append(("TAGS", tags)) }
        if let keys, !keys.isEmpty { props.append(("KEYS", keys)) }
        let h = SendMessageRequestHeader(producerGroup: producerGroup, topic: topic, queueId: qid,
                                         bornTimestamp: WallClock.nowMs(), properties: MessageProperties.encode(props),
                                         brokerName: name)
        let request = RemotingCommand.request(.sendMessageV2, header: SendMessageRequestHeaderV2(h), body: ByteBuffer(bytes: body))
        let r = try await invoke(addr, request)
        let rh = try r.decodeHeader(SendMessageResponseHeader.self)
        return SendResult(sendStatus: "SEND_OK", msgId: uniqKey, offsetMsgId: rh.msgId ?? "", brokerName: name,
                          queueId: rh.queueId ?? qid, queueOffset: rh.queueOffset ?? 0)
    }
}
