// Wire types of transactional messages (remoting.md §9.7, §10; broker.md §8; client.md §7):
// END_TRANSACTION (37, producer → broker, one-way), CHECK_TRANSACTION_STATE (39, broker → producer, one-way)
// and the transaction bits of sysFlag. Plain values shared by the broker and the client; any task.

/// The transaction type held in sysFlag bits 2–3 (`MessageSysFlag`); END_TRANSACTION's `commitOrRollback`
/// uses the same values.
public enum MessageSysFlag {
    public static let transactionMask: Int32 = 0xC
    public static let transactionNotType: Int32 = 0x0
    public static let transactionPreparedType: Int32 = 0x4
    public static let transactionCommitType: Int32 = 0x8
    public static let transactionRollbackType: Int32 = 0xC

    public static func transactionValue(_ sysFlag: Int32) -> Int32 { sysFlag & transactionMask }

    public static func resetTransactionValue(_ sysFlag: Int32, _ type: Int32) -> Int32 {
        (sysFlag & ~transactionMask) | (type & transactionMask)
    }
}

/// END_TRANSACTION (37). `msgId` is required (Java's `@CFNotNull`); `fromTransactionCheck` is a Java
/// primitive, so an absent key reads as false.
public struct EndTransactionRequestHeader: DescribedHeader, Equatable {
    public var topic: String?
    public var producerGroup: String
    /// Queue offset of the half message in RMQ_SYS_TRANS_HALF_TOPIC.
    public var tranStateTableOffset: Int64
    /// Commit-log offset of the half message.
    public var commitLogOffset: Int64
    /// 0 unknown, 8 commit, 12 rollback.
    public var commitOrRollback: Int32
    public var fromTransactionCheck: Bool
    public var msgId: String
    public var transactionId: String?
    /// Key `bname`.
    public var brokerName: String?

    public init(topic: String?, producerGroup: String, tranStateTableOffset: Int64, commitLogOffset: Int64,
                commitOrRollback: Int32, fromTransactionCheck: Bool = false, msgId: String, transactionId: String? = nil,
                brokerName: String? = nil) {
        self.topic = topic
        self.producerGroup = producerGroup
        self.tranStateTableOffset = tranStateTableOffset
        self.commitLogOffset = commitLogOffset
        self.commitOrRollback = commitOrRollback
        self.fromTransactionCheck = fromTransactionCheck
        self.msgId = msgId
        self.transactionId = transactionId
        self.brokerName = brokerName
    }

    public static let schema = HeaderSchema(
        Self(topic: nil, producerGroup: "", tranStateTableOffset: 0, commitLogOffset: 0, commitOrRollback: 0, msgId: ""), [
            .optional("topic", \.topic), .required("producerGroup", \.producerGroup),
            .required("tranStateTableOffset", \.tranStateTableOffset), .required("commitLogOffset", \.commitLogOffset),
            .required("commitOrRollback", \.commitOrRollback), .defaulted("fromTransactionCheck", \.fromTransactionCheck, false),
            .required("msgId", \.msgId), .optional("transactionId", \.transactionId), .optional("bname", \.brokerName),
        ])
}

/// CHECK_TRANSACTION_STATE (39): the offsets name the newest copy of the half message; the body is that
/// copy in the stored-record format with topic and queue restored to the real ones.
public struct CheckTransactionStateRequestHeader: DescribedHeader, Equatable {
    public var topic: String?
    public var tranStateTableOffset: Int64
    public var commitLogOffset: Int64
    public var msgId: String?
    public var transactionId: String?
    public var offsetMsgId: String?
    /// Key `bname`.
    public var brokerName: String?

    public init(topic: String?, tranStateTableOffset: Int64, commitLogOffset: Int64, msgId: String?, transactionId: String?,
                offsetMsgId: String?, brokerName: String?) {
        self.topic = topic
        self.tranStateTableOffset = tranStateTableOffset
        self.commitLogOffset = commitLogOffset
        self.msgId = msgId
        self.transactionId = transactionId
        self.offsetMsgId = offsetMsgId
        self.brokerName = brokerName
    }

    public static let schema = HeaderSchema(
        Self(topic: nil, tranStateTableOffset: 0, commitLogOffset: 0, msgId: nil, transactionId: nil, offsetMsgId: nil,
             brokerName: nil), [
            .optional("topic", \.topic), .required("tranStateTableOffset", \.tranStateTableOffset),
            .required("commitLogOffset", \.commitLogOffset), .optional("msgId", \.msgId),
            .optional("transactionId", \.transactionId), .optional("offsetMsgId", \.offsetMsgId),
            .optional("bname", \.brokerName),
        ])
}
