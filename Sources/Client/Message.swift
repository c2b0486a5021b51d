// Message: what a producer sends — topic, body, flag and properties (tags, keys, delay level, user
// properties), plus the property-string codec (spec remoting.md §13.3, client.md §5.1).
// A value type; built by user code on any task.

/// Well-known property names (`MessageConst`).
public enum MessageConst {
    public static let keys = "KEYS"
    public static let tags = "TAGS"
    public static let waitStoreMsgOK = "WAIT"
    public static let delayTimeLevel = "DELAY"
    public static let retryTopic = "RETRY_TOPIC"
    public static let realTopic = "REAL_TOPIC"
    public static let realQueueId = "REAL_QID"
    public static let transactionPrepared = "TRAN_MSG"
    public static let producerGroup = "PGROUP"
    public static let minOffset = "MIN_OFFSET"
    public static let maxOffset = "MAX_OFFSET"
    public static let uniqueClientMessageIdKeyIndex = "UNIQ_KEY"
    public static let reconsumeTime = "RECONSUME_TIME"
    public static let maxReconsumeTimes = "MAX_RECONSUME_TIMES"
    public static let originMessageId = "ORIGIN_MESSAGE_ID"
    public static let consumeStartTime = "CONSUME_START_TIME"
    public static let cluster = "CLUSTER"
    /// Set by the broker on half messages (and by the producer after the half send): the transaction id.
    public static let transactionId = "__transactionId__"
    public static let transactionCheckTimes = "TRANSACTION_CHECK_TIMES"
    /// A user property: seconds before the broker's first check of a half message.
    public static let checkImmunityTimeInSeconds = "CHECK_IMMUNITY_TIME_IN_SECONDS"
    /// Names a user property may not take (a subset of `MessageConst.STRING_HASH_SET` that matters here).
    static let reserved: Set<String> = [
        keys, tags, waitStoreMsgOK, delayTimeLevel, retryTopic, realTopic, realQueueId, transactionPrepared,
        producerGroup, minOffset, maxOffset, uniqueClientMessageIdKeyIndex, reconsumeTime, maxReconsumeTimes,
        originMessageId, consumeStartTime, "TIMER_DELAY_SEC", "TIMER_DELAY_MS", "TIMER_DELIVER_MS",
    ]
}

/// A message to send (`org.apache.rocketmq.common.message.Message`).
public struct Message: Sendable, Equatable {
    public var topic: String
    public var body: [UInt8]
    public var flag: Int32 = 0
    /// All properties, system and user, in insertion-independent form.
    public var properties: [String: String] = [:]

    public init(topic: String, body: [UInt8], tags: String? = nil, keys: [String] = [], flag: Int32 = 0) {
        self.topic = topic
        self.body = body
        self.flag = flag
        if let tags { self.tags = tags }
        if !keys.isEmpty { self.keys = keys }
    }

    public init(topic: String, body: String, tags: String? = nil, keys: [String] = []) {
        self.init(topic: topic, body: Array(body.utf8), tags: tags, keys: keys)
    }

    public var tags: String? {
        get { properties[MessageConst.tags] }
        set { properties[MessageConst.tags] = newValue }
    }
    /// Keys are stored joined by one space.
    public var keys: [String] {
        get { properties[MessageConst.keys].map { $0.split(separator: " ").map(String.init) } ?? [] }
        set { properties[MessageConst.keys] = newValue.isEmpty ? nil : newValue.joined(separator: " ") }
    }
    /// Delay level 1...18 (0 = none); the broker's table maps it to a delay.
    public var delayTimeLevel: Int {
        get { properties[MessageConst.delayTimeLevel].flatMap { Int($0) } ?? 0 }
        set { properties[MessageConst.delayTimeLevel] = newValue > 0 ? String(newValue) : nil }
    }
    public var waitStoreMsgOK: Bool {
        get { properties[MessageConst.waitStoreMsgOK] != "false" }
        set { properties[MessageConst.waitStoreMsgOK] = newValue ? "true" : "false" }
    }
    /// The client unique id (UNIQ_KEY), once the producer has set it.
    public var uniqueKey: String? { properties[MessageConst.uniqueClientMessageIdKeyIndex] }
    /// The transaction id of a transactional message: `__transactionId__`, else UNIQ_KEY.
    public var transactionId: String? { properties[MessageConst.transactionId] ?? uniqueKey }

    /// Sets a user property; reserved names and blank names or values are refused.
    public mutating func putUserProperty(_ name: String, _ value: String) throws(MQClientError) {
        guard !name.allSatisfy(\.isWhitespace), !value.allSatisfy(\.isWhitespace) else {
            throw .illegalArgument("the name or value of property can not be null or blank string")
        }
        guard !MessageConst.reserved.contains(name) else {
            throw .illegalArgument("The Property<\(name)> is used by system, input another please")
        }
        properties[name] = value
    }

    public func userProperty(_ name: String) -> String? { properties[name] }
}

/// `name \x01 value \x02` repeated (remoting.md §13.3).
enum MessageProperties {
    /// name \u{1} value \u{2} per pair, names in byte order (stable output). Built straight into the
    /// string's storage: this runs for every send.
    static func encode(_ properties: [String: String]) -> String {
        if properties.isEmpty { return "" }
        var pairs = Array(properties)
        if pairs.count > 1 { pairs.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) } }
        let total = pairs.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count + 2 }
        return String(unsafeUninitializedCapacity: total) { out in
            var i = 0
            func put(_ text: String) {
                for b in text.utf8 { out[i] = b; i += 1 }
            }
            for (k, v) in pairs {
                put(k); out[i] = 1; i += 1
                put(v); out[i] = 2; i += 1
            }
            return i
        }
    }

    static func decode<C: Collection<UInt8>>(_ bytes: C) -> [String: String] {
        var out: [String: String] = [:]
        var name: [UInt8] = []
        var value: [UInt8] = []
        var inValue = false
        func flush() {
            if inValue, !name.isEmpty { out[String(decoding: name, as: UTF8.self)] = String(decoding: value, as: UTF8.self) }
            name.removeAll(keepingCapacity: true); value.removeAll(keepingCapacity: true); inValue = false
        }
        for b in bytes {
            switch b {
            case 1 where !inValue: inValue = true
            case 2: flush()
            default: if inValue { value.append(b) } else { name.append(b) }
            }
        }
        flush()
        return out
    }
}
