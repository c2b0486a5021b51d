// Message: what a producer sends (common/message/Message): topic, body, flag and properties (tags, keys,
// delay level, user properties). A value type built by user code on any task; MessageExt wraps one.

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

    public func userProperty(_ name: String) -> String? { properties[name] }
}
