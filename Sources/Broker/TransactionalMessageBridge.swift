// TransactionalMessageBridge: how transactional messages meet the store (broker.md §8). A half message is
// stored in RMQ_SYS_TRANS_HALF_TOPIC queue 0 with REAL_TOPIC/REAL_QID/__transactionId__ and transaction
// type NOT_TYPE, so it gets a ConsumeQueue slot there and none in its real topic; a resolved one gets an
// op record ("d", body "<half queue offset>,") in RMQ_SYS_TRANS_OP_HALF_TOPIC. The check service's
// progress is kept as consumer offsets of group CID_RMQ_SYS_TRANS on both topics. Stateless over the
// store, the topic table and the offset table it is built from; any task.

import Common
import Logging
import Remoting
import Store

struct TransactionalMessageBridge: Sendable {
    static let halfTopic = TopicValidator.transHalfTopic
    static let opHalfTopic = TopicValidator.transOpHalfTopic
    static let checkMaxTimeTopic = TopicValidator.transCheckMaxTimeTopic
    /// The consumer group whose offsets record the check service's progress.
    static let systemConsumerGroup = "CID_RMQ_SYS_TRANS"
    /// Tag of op records that mark a half message as committed or rolled back.
    static let removeTag = "d"
    static let opOffsetSeparator: Character = ","

    static let transactionIdProperty = "__transactionId__"
    static let producerGroupProperty = "PGROUP"
    static let checkTimesProperty = "TRANSACTION_CHECK_TIMES"
    static let checkImmunityTimeProperty = "CHECK_IMMUNITY_TIME_IN_SECONDS"

    let store: MessageStore
    let topics: TopicConfigManager
    let offsets: ConsumerOffsetManager
    /// Called after a system topic was created, so the NameServers learn it.
    let topicCreated: @Sendable () -> Void
    let logger: Logger

    // MARK: half messages

    /// Turns a send into its half message: properties gain REAL_TOPIC, REAL_QID and __transactionId__ (the
    /// UNIQ_KEY); the transaction type becomes NOT_TYPE so the record is dispatched to the half queue.
    static func parseHalfMessage(topic: String, queueId: Int32, properties: inout String, sysFlag: Int32)
        -> (topic: String, queueId: Int32, sysFlag: Int32)
    {
        var pairs = MessageProperties.decode(properties)
        if let uniq = pairs[MessageProperties.uniqueClientMessageIdKeyIndex], !uniq.isEmpty {
            pairs[transactionIdProperty] = uniq
        }
        pairs[MessageProperties.realTopic] = topic
        pairs[MessageProperties.realQueueId] = String(queueId)
        properties = MessageProperties.encode(pairs.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        return (halfTopic, 0, MessageSysFlag.resetTransactionValue(sysFlag, MessageSysFlag.transactionNotType))
    }

    /// The stored half message at a commit-log offset, if the record there is one of the half topic.
    func halfMessage(commitLogOffset: Int64) -> StoredMessage? {
        guard commitLogOffset >= 0, let record = store.lookMessage(physicalOffset: commitLogOffset),
              let message = StoredMessage(record), message.topic == Self.halfTopic else { return nil }
        return message
    }

    /// The stored message at a queue offset of the half or op topic, or nil when the slot or the record is gone.
    func message(topic: String, queueId: Int32, queueOffset: Int64) -> StoredMessage? {
        guard let unit = store.consumeQueueUnit(topic: topic, queueId: queueId, queueOffset: queueOffset),
              let record = store.lookMessage(physicalOffset: unit.physicalOffset, size: Int(unit.size)) else { return nil }
        return StoredMessage(record)
    }

    /// Queues of the half topic the store has units for (normally just queue 0).
    var halfQueueIds: [Int32] {
        let configured = topics.select(Self.halfTopic)?.readQueueNums ?? 1
        return (0..<max(1, configured)).filter { store.maxOffsetInQueue(topic: Self.halfTopic, queueId: $0) > 0 }
    }

    /// Creates the half, op and check-max topics once (1 queue, perm 6), as RocketMQ does on first use.
    func ensureSystemTopic(_ topic: String) {
        if topics.createTopicIfAbsent(topic, queueNums: 1, perm: PermName.read | PermName.write).created {
            topicCreated()
        }
    }

    // MARK: progress

    /// CID_RMQ_SYS_TRANS's offset on a queue, or the queue's min offset when none was stored.
    func fetchConsumeOffset(topic: String, queueId: Int32) -> Int64 {
        offsets.queryOffset(group: Self.systemConsumerGroup, topic: topic, queueId: queueId)
            ?? store.minOffsetInQueue(topic: topic, queueId: queueId)
    }

    func updateConsumeOffset(topic: String, queueId: Int32, offset: Int64) {
        offsets.commitOffset(group: Self.systemConsumerGroup, topic: topic, queueId: queueId, offset: offset)
    }

    // MARK: puts

    /// Marks the half message at `halfQueueOffset` as resolved. True when the op record was stored.
    @discardableResult
    func putOpMessage(halfQueueId: Int32, halfQueueOffset: Int64) async -> Bool {
        ensureSystemTopic(Self.opHalfTopic)
        let properties = MessageProperties.encode([
            (MessageProperties.tags, Self.removeTag), (MessageProperties.waitStoreMsgOk, "false"),
        ])
        let op = MessageToStore(topic: Self.opHalfTopic, queueId: halfQueueId,
                                body: Array("\(halfQueueOffset)\(Self.opOffsetSeparator)".utf8),
                                properties: properties, bornTimestampMs: nowMs(), bornHost: store.config.storeHost)
        let result = await store.putMessage(op)
        if !(result.isStored) {
            logger.error("transaction op record for half offset \(halfQueueOffset) not stored: \(result.status.rawValue)")
            return false
        }
        return true
    }

    /// Half-queue offsets an op record resolves: its body is decimal offsets each followed by ",".
    static func opHalfOffsets(_ op: StoredMessage) -> [Int64] {
        String(decoding: op.body, as: UTF8.self).split(separator: opOffsetSeparator).compactMap {
            Int64(String($0.filter { $0 != " " }))
        }
    }

    /// Re-appends a half message to its half queue (a check re-appends before it asks the producer), with
    /// the given properties. Returns the new copy as stored, or nil if the put failed.
    func putBackHalfMessage(_ half: StoredMessage, properties: String) async -> StoredMessage? {
        let copy = MessageToStore(topic: half.topic, queueId: half.queueId, body: half.body, properties: properties,
                                  flag: half.flag, sysFlag: half.sysFlag, bornTimestampMs: half.bornTimestampMs,
                                  bornHost: half.bornHost, reconsumeTimes: half.reconsumeTimes)
        let result = await store.putMessage(copy)
        guard result.isStored, let append = result.append else {
            logger.error("re-appending half message \(half.offsetMessageId) failed: \(result.status.rawValue)")
            return nil
        }
        var stored = half
        stored.properties = properties
        stored.queueOffset = append.queueOffset
        stored.physicalOffset = append.physicalOffset
        stored.storeTimestampMs = append.storeTimestampMs
        stored.storeHost = append.storeHost
        return stored
    }

    /// Parks a half message that was checked too often (or outlived the store's retention) in
    /// TRANS_CHECK_MAX_TIME_TOPIC, where an operator can still find it.
    @discardableResult
    func putDiscardMessage(_ half: StoredMessage) async -> Bool {
        ensureSystemTopic(Self.checkMaxTimeTopic)
        var pairs = MessageProperties.decode(half.properties)
        pairs[MessageProperties.waitStoreMsgOk] = "false"
        let message = MessageToStore(topic: Self.checkMaxTimeTopic, queueId: 0, body: half.body,
                                     properties: MessageProperties.encode(pairs.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }),
                                     flag: half.flag, sysFlag: half.sysFlag, bornTimestampMs: half.bornTimestampMs,
                                     bornHost: half.bornHost, reconsumeTimes: half.reconsumeTimes)
        let result = await store.putMessage(message)
        return result.isStored
    }
}
