// MessageConst: the names of the properties RocketMQ gives a meaning (common/message/MessageConst, spec
// client.md §5.1, store.md §3.4). Constants only; used by every target that reads or writes properties.

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
    /// Names a user property may not take (the part of Java's `STRING_HASH_SET` that matters here).
    public static let reserved: Set<String> = [
        keys, tags, waitStoreMsgOK, delayTimeLevel, retryTopic, realTopic, realQueueId, transactionPrepared,
        producerGroup, minOffset, maxOffset, uniqueClientMessageIdKeyIndex, reconsumeTime, maxReconsumeTimes,
        originMessageId, consumeStartTime, "TIMER_DELAY_SEC", "TIMER_DELAY_MS", "TIMER_DELIVER_MS",
    ]
}
