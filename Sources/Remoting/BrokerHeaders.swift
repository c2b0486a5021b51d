// Typed headers of the requests a broker serves (spec remoting.md §9): send, pull, offsets, clients.
// Decoded by the broker's processors, encoded by clients, tests and tools; plain values, any task.

import NIOCore

/// SEND_MESSAGE (10) with V1 names; SEND_MESSAGE_V2 (310) and SEND_BATCH_MESSAGE (320) carry the same
/// fields under the letters `a`…`n` (§9.1).
public struct SendMessageRequestHeader: CommandCustomHeader, Equatable {
    public var producerGroup: String
    public var topic: String
    public var defaultTopic: String
    public var defaultTopicQueueNums: Int32
    public var queueId: Int32
    public var sysFlag: Int32
    public var bornTimestamp: Int64
    public var flag: Int32
    public var properties: String?
    public var reconsumeTimes: Int32?
    public var unitMode: Bool?
    public var maxReconsumeTimes: Int32?
    public var batch: Bool?
    public var brokerName: String?

    public init(
        producerGroup: String, topic: String, defaultTopic: String = "TBW102", defaultTopicQueueNums: Int32 = 4,
        queueId: Int32, sysFlag: Int32 = 0, bornTimestamp: Int64, flag: Int32 = 0, properties: String? = nil,
        reconsumeTimes: Int32? = 0, unitMode: Bool? = false, maxReconsumeTimes: Int32? = nil, batch: Bool? = false,
        brokerName: String? = nil
    ) {
        self.producerGroup = producerGroup
        self.topic = topic
        self.defaultTopic = defaultTopic
        self.defaultTopicQueueNums = defaultTopicQueueNums
        self.queueId = queueId
        self.sysFlag = sysFlag
        self.bornTimestamp = bornTimestamp
        self.flag = flag
        self.properties = properties
        self.reconsumeTimes = reconsumeTimes
        self.unitMode = unitMode
        self.maxReconsumeTimes = maxReconsumeTimes
        self.batch = batch
        self.brokerName = brokerName
    }

    // One description drives every codec of this header: `wire` names each field (V1 name, V2 letter) in
    // field order, `Slots.set` reads any field's value from its bytes (the same rules whether the bytes come
    // from a JSON header's String or from a binary section in place), `Slots.header` checks the required
    // ones, and `forEachValue` gives the values to whichever writer (dictionary or binary, long names or
    // letters). The binary path allocates nothing but the Strings of its text fields.

    /// (V1 key, V2 key) of each field, in field order.
    static let wire: [(v1: StaticString, v2: StaticString)] = [
        ("producerGroup", "a"), ("topic", "b"), ("defaultTopic", "c"), ("defaultTopicQueueNums", "d"),
        ("queueId", "e"), ("sysFlag", "f"), ("bornTimestamp", "g"), ("flag", "h"), ("properties", "i"),
        ("reconsumeTimes", "j"), ("unitMode", "k"), ("maxReconsumeTimes", "l"), ("batch", "m"), ("bname", "n"),
    ]

    /// The field a key names, in the V2 letters or the V1 names.
    @inline(__always)
    static func fieldIndex(_ key: UnsafeRawBufferPointer, v2: Bool) -> Int? {
        if v2 {
            guard key.count == 1, key[0] >= UInt8(ascii: "a"), key[0] <= UInt8(ascii: "n") else { return nil }
            return Int(key[0] - UInt8(ascii: "a"))
        }
        return wire.firstIndex { ExtFieldBytes.matches(key, $0.v1) }
    }

    /// Values read off the wire, by field, before the required ones are checked.
    struct Slots {
        var group, topic, defaultTopic, properties, brokerName: String?
        /// A present but unparsable number is `.some(nil)`: for a required field the same error as absent.
        var queueNums, queueId, sysFlag, born, flag, reconsume, maxReconsume: Int64??
        var unitMode, batch: Bool?

        mutating func set(_ index: Int, _ value: UnsafeRawBufferPointer) {
            switch index {
            case 0: group = ExtFieldBytes.string(value)
            case 1: topic = ExtFieldBytes.string(value)
            case 2: defaultTopic = ExtFieldBytes.string(value)
            case 3: queueNums = .some(ExtFieldBytes.int64(value))
            case 4: queueId = .some(ExtFieldBytes.int64(value))
            case 5: sysFlag = .some(ExtFieldBytes.int64(value))
            case 6: born = .some(ExtFieldBytes.int64(value))
            case 7: flag = .some(ExtFieldBytes.int64(value))
            case 8: properties = ExtFieldBytes.string(value)
            case 9: reconsume = .some(ExtFieldBytes.int64(value))
            case 10: unitMode = ExtFieldBytes.bool(value)
            case 11: maxReconsume = .some(ExtFieldBytes.int64(value))
            case 12: batch = ExtFieldBytes.bool(value)
            default: brokerName = ExtFieldBytes.string(value)
            }
        }

        func header(v2: Bool) throws(RemotingError) -> SendMessageRequestHeader {
            func key(_ i: Int) -> String { (v2 ? wire[i].v2 : wire[i].v1).description }
            func required(_ v: Int64??, _ i: Int) throws(RemotingError) -> Int64 {
                guard let v = v ?? nil else { throw .missingHeaderField(key(i)) }
                return v
            }
            func required32(_ v: Int64??, _ i: Int) throws(RemotingError) -> Int32 {
                guard let v = Int32(exactly: try required(v, i)) else { throw .missingHeaderField(key(i)) }
                return v
            }
            guard let group else { throw .missingHeaderField(key(0)) }
            guard let topic else { throw .missingHeaderField(key(1)) }
            guard let defaultTopic else { throw .missingHeaderField(key(2)) }
            return SendMessageRequestHeader(
                producerGroup: group, topic: topic, defaultTopic: defaultTopic,
                defaultTopicQueueNums: try required32(queueNums, 3), queueId: try required32(queueId, 4),
                sysFlag: try required32(sysFlag, 5), bornTimestamp: try required(born, 6), flag: try required32(flag, 7),
                properties: properties, reconsumeTimes: (reconsume ?? nil).flatMap { Int32(exactly: $0) },
                unitMode: unitMode, maxReconsumeTimes: (maxReconsume ?? nil).flatMap { Int32(exactly: $0) },
                batch: batch, brokerName: brokerName)
        }
    }

    /// A field's value as written.
    enum Value {
        case text(String), number(Int64), flag(Bool)
        var string: String {
            switch self {
            case .text(let s): return s
            case .number(let n): return String(n)
            case .flag(let b): return String(b)
            }
        }
    }

    /// Every present field's index and value, in field order.
    @inline(__always)
    func forEachValue(_ body: (Int, Value) -> Void) {
        body(0, .text(producerGroup))
        body(1, .text(topic))
        body(2, .text(defaultTopic))
        body(3, .number(Int64(defaultTopicQueueNums)))
        body(4, .number(Int64(queueId)))
        body(5, .number(Int64(sysFlag)))
        body(6, .number(bornTimestamp))
        body(7, .number(Int64(flag)))
        if let properties { body(8, .text(properties)) }
        if let reconsumeTimes { body(9, .number(Int64(reconsumeTimes))) }
        if let unitMode { body(10, .flag(unitMode)) }
        if let maxReconsumeTimes { body(11, .number(Int64(maxReconsumeTimes))) }
        if let batch { body(12, .flag(batch)) }
        if let brokerName { body(13, .text(brokerName)) }
    }

    public init(extFields: [String: String]) throws(RemotingError) { try self.init(fields: extFields, v2: false) }

    /// Decodes the single-letter form of SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE.
    public init(v2ExtFields: [String: String]) throws(RemotingError) { try self.init(fields: v2ExtFields, v2: true) }

    /// From a JSON header's map: each entry's bytes through the same readers as the binary path.
    init(fields: [String: String], v2: Bool) throws(RemotingError) {
        var slots = Slots()
        for (k, v) in fields {
            var key = k, value = v
            key.withUTF8 { kb in
                guard let i = Self.fieldIndex(UnsafeRawBufferPointer(kb), v2: v2) else { return }
                value.withUTF8 { slots.set(i, UnsafeRawBufferPointer($0)) }
            }
        }
        self = try slots.header(v2: v2)
    }

    private func fields(v2: Bool) -> [String: String] {
        var f = [String: String](minimumCapacity: Self.wire.count)
        forEachValue { i, v in f[(v2 ? Self.wire[i].v2 : Self.wire[i].v1).description] = v.string }
        return f
    }

    public func toExtFields() -> [String: String] { fields(v2: false) }

    /// The single-letter form the Java and C++ clients send with code 310 (and Java with 320).
    public func toV2ExtFields() -> [String: String] { fields(v2: true) }

    public init(binaryExtFields: BinaryExtFields) throws(RemotingError) { try self.init(binary: binaryExtFields, v2: false) }

    public func writeBinaryExtFields(into buffer: inout ByteBuffer) -> Int { writeBinary(into: &buffer, v2: false) }

    /// Every send decodes this: the section is read in place, with a String made only for the text fields
    /// and numbers parsed from their bytes.
    init(binary section: BinaryExtFields, v2: Bool) throws(RemotingError) {
        var slots = Slots()
        section.forEachField { key, value in
            if let i = Self.fieldIndex(key, v2: v2) { slots.set(i, value) }
        }
        self = try slots.header(v2: v2)
    }

    /// Writes the fields straight into a binary header, in the letters (V2) or the long names.
    func writeBinary(into buffer: inout ByteBuffer, v2: Bool) -> Int {
        var n = 0
        forEachValue { i, v in
            let key = v2 ? Self.wire[i].v2 : Self.wire[i].v1
            switch v {
            case .text(let s): n += buffer.writeExtField(key, s)
            case .number(let x): n += buffer.writeExtField(key, x)
            case .flag(let b): n += buffer.writeExtField(key, b)
            }
        }
        return n
    }
}

/// SendMessageRequestHeader in its single-letter form, as a header of its own so a request carries it
/// typed (SEND_MESSAGE_V2 310, SEND_BATCH_MESSAGE 320) and the broker decodes it in place.
public struct SendMessageRequestHeaderV2: CommandCustomHeader, Equatable {
    public var header: SendMessageRequestHeader

    public init(_ header: SendMessageRequestHeader) { self.header = header }
    public init(extFields: [String: String]) throws(RemotingError) { header = try SendMessageRequestHeader(v2ExtFields: extFields) }
    public init(binaryExtFields: BinaryExtFields) throws(RemotingError) {
        header = try SendMessageRequestHeader(binary: binaryExtFields, v2: true)
    }
    public func toExtFields() -> [String: String] { header.toV2ExtFields() }
    public func writeBinaryExtFields(into buffer: inout ByteBuffer) -> Int { header.writeBinary(into: &buffer, v2: true) }
}

/// Response of every send code, errors included (§9.1): the two extra keys are always present, first.
public struct SendMessageResponseHeader: DescribedHeader, Equatable {
    public var msgId: String?
    public var queueId: Int32?
    public var queueOffset: Int64?
    public var transactionId: String?
    /// Extra key `MSG_REGION`.
    public var msgRegion: String
    /// Extra key `TRACE_ON` ("true"/"false").
    public var traceOn: Bool

    public init(msgId: String? = nil, queueId: Int32? = nil, queueOffset: Int64? = nil, transactionId: String? = nil,
                msgRegion: String = "DefaultRegion", traceOn: Bool = true) {
        self.msgId = msgId
        self.queueId = queueId
        self.queueOffset = queueOffset
        self.transactionId = transactionId
        self.msgRegion = msgRegion
        self.traceOn = traceOn
    }

    public static let schema = HeaderSchema(Self(), [
        .defaulted("MSG_REGION", \.msgRegion, "DefaultRegion"), .defaulted("TRACE_ON", \.traceOn, true),
        .optional("msgId", \.msgId), .optional("queueId", \.queueId), .optional("queueOffset", \.queueOffset),
        .optional("transactionId", \.transactionId),
    ])
}

/// PullSysFlag bits (§9.3).
public enum PullSysFlag {
    public static let commitOffset: Int32 = 0x1
    public static let suspend: Int32 = 0x2
    public static let subscription: Int32 = 0x4
    public static let classFilter: Int32 = 0x8
    public static let litePull: Int32 = 0x10
}

public struct PullMessageRequestHeader: DescribedHeader, Equatable {
    public var consumerGroup: String
    public var topic: String
    public var queueId: Int32
    public var queueOffset: Int64
    public var maxMsgNums: Int32
    public var sysFlag: Int32
    public var commitOffset: Int64
    public var suspendTimeoutMillis: Int64
    public var subscription: String?
    public var subVersion: Int64
    public var expressionType: String?
    public var maxMsgBytes: Int32?
    /// RocketMQ 5's RpcRequestHeader `bname`: the broker the client means (for proxies and brokers in
    /// one process); Apus ignores it on receipt.
    public var brokerName: String?

    public init(consumerGroup: String, topic: String, queueId: Int32, queueOffset: Int64, maxMsgNums: Int32 = 32,
                sysFlag: Int32 = 0, commitOffset: Int64 = 0, suspendTimeoutMillis: Int64 = 0, subscription: String? = nil,
                subVersion: Int64 = 0, expressionType: String? = nil, maxMsgBytes: Int32? = nil,
                brokerName: String? = nil) {
        self.consumerGroup = consumerGroup
        self.topic = topic
        self.queueId = queueId
        self.queueOffset = queueOffset
        self.maxMsgNums = maxMsgNums
        self.sysFlag = sysFlag
        self.commitOffset = commitOffset
        self.suspendTimeoutMillis = suspendTimeoutMillis
        self.subscription = subscription
        self.subVersion = subVersion
        self.expressionType = expressionType
        self.maxMsgBytes = maxMsgBytes
        self.brokerName = brokerName
    }

    public static let schema = HeaderSchema(Self(consumerGroup: "", topic: "", queueId: 0, queueOffset: 0), [
        .required("consumerGroup", \.consumerGroup), .required("topic", \.topic), .required("queueId", \.queueId),
        .required("queueOffset", \.queueOffset), .required("maxMsgNums", \.maxMsgNums), .required("sysFlag", \.sysFlag),
        .required("commitOffset", \.commitOffset), .required("suspendTimeoutMillis", \.suspendTimeoutMillis),
        .optional("subscription", \.subscription), .required("subVersion", \.subVersion),
        .optional("expressionType", \.expressionType), .optional("maxMsgBytes", \.maxMsgBytes),
        .optional("bname", \.brokerName),
    ])
}

/// Always carries the four required fields, whatever the code (§9.3): they are required, so always sent.
public struct PullMessageResponseHeader: DescribedHeader, Equatable {
    public var suggestWhichBrokerId: Int64
    public var nextBeginOffset: Int64
    public var minOffset: Int64
    public var maxOffset: Int64
    public var topicSysFlag: Int32?
    public var groupSysFlag: Int32?
    public var forbiddenType: Int32?

    public init(suggestWhichBrokerId: Int64 = 0, nextBeginOffset: Int64 = 0, minOffset: Int64 = 0, maxOffset: Int64 = 0,
                topicSysFlag: Int32? = nil, groupSysFlag: Int32? = nil, forbiddenType: Int32? = nil) {
        self.suggestWhichBrokerId = suggestWhichBrokerId
        self.nextBeginOffset = nextBeginOffset
        self.minOffset = minOffset
        self.maxOffset = maxOffset
        self.topicSysFlag = topicSysFlag
        self.groupSysFlag = groupSysFlag
        self.forbiddenType = forbiddenType
    }

    public static let schema = HeaderSchema(Self(), [
        .required("suggestWhichBrokerId", \.suggestWhichBrokerId), .required("nextBeginOffset", \.nextBeginOffset),
        .required("minOffset", \.minOffset), .required("maxOffset", \.maxOffset),
        .optional("topicSysFlag", \.topicSysFlag), .optional("groupSysFlag", \.groupSysFlag),
        .optional("forbiddenType", \.forbiddenType),
    ])
}

/// QUERY_CONSUMER_OFFSET (14).
public struct QueryConsumerOffsetRequestHeader: DescribedHeader, Equatable {
    public var consumerGroup: String
    public var topic: String
    public var queueId: Int32
    public var setZeroIfNotFound: Bool?
    /// Key `bname` (RocketMQ 5's RpcRequestHeader): sent by clients, ignored on receipt.
    public var brokerName: String?
    public init(consumerGroup: String, topic: String, queueId: Int32, setZeroIfNotFound: Bool? = nil,
                brokerName: String? = nil) {
        self.consumerGroup = consumerGroup
        self.topic = topic
        self.queueId = queueId
        self.setZeroIfNotFound = setZeroIfNotFound
        self.brokerName = brokerName
    }
    public static let schema = HeaderSchema(Self(consumerGroup: "", topic: "", queueId: 0), [
        .required("consumerGroup", \.consumerGroup), .required("topic", \.topic), .required("queueId", \.queueId),
        .optional("setZeroIfNotFound", \.setZeroIfNotFound), .optional("bname", \.brokerName),
    ])
}

/// UPDATE_CONSUMER_OFFSET (15).
public struct UpdateConsumerOffsetRequestHeader: DescribedHeader, Equatable {
    public var consumerGroup: String
    public var topic: String
    public var queueId: Int32
    public var commitOffset: Int64
    /// Key `bname`: sent by clients, ignored on receipt.
    public var brokerName: String?
    public init(consumerGroup: String, topic: String, queueId: Int32, commitOffset: Int64, brokerName: String? = nil) {
        self.consumerGroup = consumerGroup
        self.topic = topic
        self.queueId = queueId
        self.commitOffset = commitOffset
        self.brokerName = brokerName
    }
    public static let schema = HeaderSchema(Self(consumerGroup: "", topic: "", queueId: 0, commitOffset: 0), [
        .required("consumerGroup", \.consumerGroup), .required("topic", \.topic), .required("queueId", \.queueId),
        .required("commitOffset", \.commitOffset), .optional("bname", \.brokerName),
    ])
}

/// GET_MAX_OFFSET (30), GET_MIN_OFFSET (31), GET_EARLIEST_MSG_STORETIME (32): `topic`, `queueId`.
public struct TopicQueueRequestHeader: DescribedHeader, Equatable {
    public var topic: String
    public var queueId: Int32
    /// Key `bname`: sent by clients, ignored on receipt.
    public var brokerName: String?
    public init(topic: String, queueId: Int32, brokerName: String? = nil) {
        self.topic = topic
        self.queueId = queueId
        self.brokerName = brokerName
    }
    public static let schema = HeaderSchema(Self(topic: "", queueId: 0), [
        .required("topic", \.topic), .required("queueId", \.queueId), .optional("bname", \.brokerName),
    ])
}
public typealias GetMaxOffsetRequestHeader = TopicQueueRequestHeader
public typealias GetMinOffsetRequestHeader = TopicQueueRequestHeader
public typealias GetEarliestMsgStoretimeRequestHeader = TopicQueueRequestHeader

/// SEARCH_OFFSET_BY_TIMESTAMP (29).
public struct SearchOffsetRequestHeader: DescribedHeader, Equatable {
    public var topic: String
    public var queueId: Int32
    public var timestamp: Int64
    /// `LOWER` (default) or `UPPER`.
    public var boundaryType: String?
    /// Key `bname`: sent by clients, ignored on receipt.
    public var brokerName: String?
    public init(topic: String, queueId: Int32, timestamp: Int64, boundaryType: String? = nil, brokerName: String? = nil) {
        self.topic = topic
        self.queueId = queueId
        self.timestamp = timestamp
        self.boundaryType = boundaryType
        self.brokerName = brokerName
    }
    public static let schema = HeaderSchema(Self(topic: "", queueId: 0, timestamp: 0), [
        .required("topic", \.topic), .required("queueId", \.queueId), .required("timestamp", \.timestamp),
        .optional("boundaryType", \.boundaryType), .optional("bname", \.brokerName),
    ])
}

/// Response header with one `offset` (14, 29, 30, 31).
public struct OffsetResponseHeader: DescribedHeader, Equatable {
    public var offset: Int64
    public init(offset: Int64) { self.offset = offset }
    public static let schema = HeaderSchema(Self(offset: 0), [.required("offset", \.offset)])
}

/// GET_EARLIEST_MSG_STORETIME response.
public struct TimestampResponseHeader: DescribedHeader, Equatable {
    public var timestamp: Int64
    public init(timestamp: Int64) { self.timestamp = timestamp }
    public static let schema = HeaderSchema(Self(timestamp: 0), [.required("timestamp", \.timestamp)])
}

/// GET_CONSUMER_LIST_BY_GROUP (38), NOTIFY_CONSUMER_IDS_CHANGED (40), GET_CONSUMER_CONNECTION_LIST (203).
public struct ConsumerGroupRequestHeader: DescribedHeader, Equatable {
    public var consumerGroup: String
    public init(consumerGroup: String) { self.consumerGroup = consumerGroup }
    public static let schema = HeaderSchema(Self(consumerGroup: ""), [.required("consumerGroup", \.consumerGroup)])
}
public typealias GetConsumerListByGroupRequestHeader = ConsumerGroupRequestHeader
public typealias NotifyConsumerIdsChangedRequestHeader = ConsumerGroupRequestHeader

/// UNREGISTER_CLIENT (35); the C++ client sends empty strings for absent groups.
public struct UnregisterClientRequestHeader: DescribedHeader, Equatable {
    public var clientID: String
    public var producerGroup: String?
    public var consumerGroup: String?
    public init(clientID: String, producerGroup: String? = nil, consumerGroup: String? = nil) {
        self.clientID = clientID
        self.producerGroup = producerGroup
        self.consumerGroup = consumerGroup
    }
    public static let schema = HeaderSchema(Self(clientID: ""), [
        .required("clientID", \.clientID), .optional("producerGroup", \.producerGroup, emptyIsAbsent: true),
        .optional("consumerGroup", \.consumerGroup, emptyIsAbsent: true),
    ])
}

/// CONSUMER_SEND_MSG_BACK (36): a consumer returns a message it could not consume (remoting.md §9.6).
public struct ConsumerSendMsgBackRequestHeader: DescribedHeader, Equatable {
    /// CommitLog (physical) offset of the consumed message.
    public var offset: Int64
    public var group: String
    /// 0: the broker picks 3 + reconsumeTimes; below 0: straight to the dead-letter queue.
    public var delayLevel: Int32
    public var originMsgId: String?
    public var originTopic: String?
    public var unitMode: Bool
    public var maxReconsumeTimes: Int32?
    /// Key `bname`: sent by clients, ignored on receipt.
    public var brokerName: String?
    public init(offset: Int64, group: String, delayLevel: Int32, originMsgId: String? = nil, originTopic: String? = nil,
                unitMode: Bool = false, maxReconsumeTimes: Int32? = nil, brokerName: String? = nil) {
        self.offset = offset
        self.group = group
        self.delayLevel = delayLevel
        self.originMsgId = originMsgId
        self.originTopic = originTopic
        self.unitMode = unitMode
        self.maxReconsumeTimes = maxReconsumeTimes
        self.brokerName = brokerName
    }
    public static let schema = HeaderSchema(Self(offset: 0, group: "", delayLevel: 0), [
        .required("offset", \.offset), .required("group", \.group), .required("delayLevel", \.delayLevel),
        .optional("originMsgId", \.originMsgId), .optional("originTopic", \.originTopic),
        .defaulted("unitMode", \.unitMode, false), .optional("maxReconsumeTimes", \.maxReconsumeTimes),
        .optional("bname", \.brokerName),
    ])
}

/// HEART_BEAT (34) response: what this broker supports of the 5.x heartbeat (Java adds both keys).
public struct HeartbeatResponseHeader: DescribedHeader, Equatable {
    /// Key `IS_SUPPORT_HEART_BEAT_V2`.
    public var supportsHeartbeatV2: Bool
    /// Key `IS_SUB_CHANGE`.
    public var subscriptionChanged: Bool
    public init(supportsHeartbeatV2: Bool = true, subscriptionChanged: Bool = true) {
        self.supportsHeartbeatV2 = supportsHeartbeatV2
        self.subscriptionChanged = subscriptionChanged
    }
    public static let schema = HeaderSchema(Self(), [
        .defaulted("IS_SUPPORT_HEART_BEAT_V2", \.supportsHeartbeatV2, false),
        .defaulted("IS_SUB_CHANGE", \.subscriptionChanged, false),
    ])
}
