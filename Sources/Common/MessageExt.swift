// MessageExt: a stored message as clients and tools see it (common/message/MessageExt) — the record's
// fields (queue, offsets, hosts, timestamps, reconsumeTimes, CRC) around the Message. MessageDecoder
// builds it from record bytes; consumers, admin tools and tests read it on any task.

public struct MessageExt: Sendable, Equatable, CustomStringConvertible {
    public var message: Message
    /// Broker the message was read from, when known (pulls set it; "" otherwise).
    public var brokerName: String = ""
    public var queueId: Int32 = 0
    public var storeSize: Int32 = 0
    public var queueOffset: Int64 = 0
    /// Stored sysFlag (compression and host-kind bits kept so callers see how the record was stored).
    public var sysFlag: Int32 = 0
    public var bornTimestamp: Int64 = 0
    public var bornHost: MessageHost = .loopback
    public var storeTimestamp: Int64 = 0
    public var storeHost: MessageHost = .loopback
    /// Physical (commit-log) offset of the record.
    public var commitLogOffset: Int64 = 0
    public var bodyCRC: Int32 = 0
    public var reconsumeTimes: Int32 = 0
    public var preparedTransactionOffset: Int64 = 0

    public init(message: Message) { self.message = message }

    public var topic: String {
        get { message.topic }
        set { message.topic = newValue }
    }
    public var body: [UInt8] {
        get { message.body }
        set { message.body = newValue }
    }
    public var properties: [String: String] {
        get { message.properties }
        set { message.properties = newValue }
    }
    public var flag: Int32 { message.flag }
    public var tags: String? { message.tags }
    public var keys: [String] { message.keys }
    public var transactionId: String? { message.transactionId }
    /// hex(store host address + port + commit-log offset), store.md §3.10.
    public var offsetMsgId: String { OffsetMessageId.make(host: storeHost, physicalOffset: commitLogOffset) }
    /// The id clients show: UNIQ_KEY when present, else the offset id.
    public var msgId: String { message.uniqueKey ?? offsetMsgId }

    /// Java `MessageExt.toString` shape.
    public var description: String {
        let props = message.properties.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        return "MessageExt [brokerName=\(brokerName), queueId=\(queueId), storeSize=\(storeSize), queueOffset=\(queueOffset), "
            + "sysFlag=\(sysFlag), bornTimestamp=\(bornTimestamp), bornHost=/\(bornHost), storeTimestamp=\(storeTimestamp), "
            + "storeHost=/\(storeHost), msgId=\(msgId), commitLogOffset=\(commitLogOffset), bodyCRC=\(bodyCRC), "
            + "reconsumeTimes=\(reconsumeTimes), preparedTransactionOffset=\(preparedTransactionOffset), "
            + "toString()=Message{topic='\(message.topic)', flag=\(message.flag), properties={\(props)}, "
            + "body=[\(message.body.prefix(64).map { String(Int8(bitPattern: $0)) }.joined(separator: ", "))"
            + "\(message.body.count > 64 ? ", ..." : "")], transactionId='null'}]"
    }
}
