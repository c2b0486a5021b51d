// MessageRouter: where a message goes, decided from the message and snapshots of the broker's tables and
// settings, with no side effects (broker.md §2.1, §7, §8.1, §9). It answers with a refusal (code and
// RocketMQ's remark), the topics or groups to create first (the caller creates them off the event loop and
// routes again), or a plan: store topic and queue, the queue the answer names, properties, sysFlag.
// Send, send-back, end-transaction and delayed delivery all route through it, so the rules for retry ->
// DLQ, transaction halves, delay levels, UNIQ_KEY and CLUSTER live in one place. Pure and Sendable.

import Common
import Remoting
import Store

/// What the router may look at: lookups into the broker's tables as they are now.
protocol RoutingTables: Sendable {
    func topicConfig(_ topic: String) -> TopicConfig?
    func subscriptionGroup(_ group: String) -> SubscriptionGroupConfig?
    /// Whether a consumer of `group` holds queue locks (an orderly group, RebalanceLockManager).
    func groupHoldsQueueLocks(_ group: String) -> Bool
}

/// The broker settings routing depends on, as plain values.
struct RoutingSettings: Sendable, Equatable {
    var brokerPermission: Int32 = 6
    var brokerIP1 = "127.0.0.1"
    var brokerClusterName = "DefaultCluster" {
        didSet { clusterProperty = Self.clusterProperty(brokerClusterName) }
    }
    /// `CLUSTER\u{1}<brokerClusterName>\u{2}`, made once: every send appends it.
    private(set) var clusterProperty = RoutingSettings.clusterProperty("DefaultCluster")
    var autoCreateTopicEnable = true
    var autoCreateSubscriptionGroup = true
    var rejectTransactionMessage = false
    /// Highest delay level of messageDelayLevel (0: delay levels off).
    var maxDelayLevel: Int32 = 18
    /// Not routing but read in the same snapshot: what every send answer carries (MSG_REGION, TRACE_ON).
    var regionId = "DefaultRegion"
    var traceOn = true

    init() {}

    private static func clusterProperty(_ cluster: String) -> String { "CLUSTER\u{1}\(cluster)\u{2}" }

    init(_ c: BrokerConfig, maxDelayLevel: Int32) {
        brokerPermission = c.brokerPermission
        brokerIP1 = c.brokerIP1
        brokerClusterName = c.brokerClusterName
        clusterProperty = Self.clusterProperty(c.brokerClusterName)  // observers do not run in an init
        autoCreateTopicEnable = c.autoCreateTopicEnable
        autoCreateSubscriptionGroup = c.autoCreateSubscriptionGroup
        rejectTransactionMessage = c.rejectTransactionMessage
        self.maxDelayLevel = maxDelayLevel
        regionId = c.regionId
        traceOn = c.traceOn
    }
}

/// Something the caller must create before the message can be routed again.
enum RouteCreation: Sendable, Equatable {
    /// Auto-creation on send from a template topic (TBW102 or the producer's default topic), broker.md §2.2.
    case topicFromTemplate(topic: String, template: String, queueNums: Int32, topicSysFlag: Int32)
    /// A topic the broker makes for itself: %RETRY%, %DLQ%, the transaction system topics.
    case topic(String, queueNums: Int32, perm: Int32)
    /// A subscription group auto-created on first use (autoCreateSubscriptionGroup).
    case subscriptionGroup(String)
}

/// Where a message is stored and what its answer says.
struct RoutePlan: Sendable, Equatable {
    enum Kind: Sendable, Equatable { case normal, deadLetter, transactionHalf, delayed }
    var kind: Kind
    var topic: String
    var queueId: Int32
    /// The queue the send's answer names (the requested or chosen one, whatever the store queue is).
    var replyQueueId: Int32
    var properties: String
    var sysFlag: Int32
    var uniqueKey: String?
}

enum RouteDecision: Sendable, Equatable {
    case refuse(ResponseCode, String)
    case create([RouteCreation])
    case deliver(RoutePlan)
}

/// A decision as an Error, for `Result`'s failure side (a precheck that stops the route).
struct RouteDecisionBox: Error, Equatable {
    let decision: RouteDecision
    init(_ d: RouteDecision) { decision = d }
}

/// A producer's send, as the router needs it.
struct InboundSend: Sendable {
    var topic: String
    var queueId: Int32
    var properties: String
    var sysFlag: Int32
    var reconsumeTimes: Int32
    var maxReconsumeTimes: Int32?
    var isBatch: Bool
    var defaultTopic = TopicValidator.autoCreateTopicKeyTopic
    var defaultTopicQueueNums: Int32 = 4
    var unitMode = false
    /// The producer's address, for remarks.
    var producerAddress = ""
}

/// A consumer's CONSUMER_SEND_MSG_BACK of a stored message.
struct InboundSendBack: Sendable {
    var group: String
    var delayLevel: Int32
    var maxReconsumeTimes: Int32?
    /// The stored message's properties, topic, sysFlag, reconsume count and offset message id.
    var properties: String
    var originalTopic: String
    var sysFlag: Int32
    var reconsumeTimes: Int32
    var offsetMessageId: String
}

struct MessageRouter: Sendable {
    let settings: RoutingSettings
    let tables: any RoutingTables
    /// Makes a UNIQ_KEY for a message that came without one (MessageClientIDSetter).
    let makeUniqueKey: @Sendable () -> String
    /// Picks a queue in 0..<n (random in RocketMQ; fixed in tests).
    let pickQueue: @Sendable (Int32) -> Int32

    init(settings: RoutingSettings, tables: any RoutingTables, makeUniqueKey: @escaping @Sendable () -> String,
         pickQueue: @escaping @Sendable (Int32) -> Int32 = { Int32.random(in: 0..<max(1, $0)) }) {
        self.settings = settings
        self.tables = tables
        self.makeUniqueKey = makeUniqueKey
        self.pickQueue = pickQueue
    }

    static let faqSuffix = "\nSee https://rocketmq.apache.org/docs/bestPractice/06FAQ for further details."
    static let dlqQueueNums: Int32 = 1
    static let retryTopicProperty = "RETRY_TOPIC"
    static let originMessageIdProperty = "ORIGIN_MESSAGE_ID"

    // MARK: send

    /// SEND_MESSAGE / V2 / SEND_BATCH_MESSAGE (broker.md §2.1 steps 4-12).
    func route(_ m: InboundSend) -> RouteDecision {
        let existing = tables.topicConfig(m.topic)
        if !PermName.isWriteable(settings.brokerPermission), existing?.order == true {
            return .refuse(.noPermission, "the broker[\(settings.brokerIP1)] sending message is forbidden")
        }
        if let why = TopicValidator.validateTopic(m.topic) { return .refuse(.invalidParameter, why) }
        if TopicValidator.notAllowedSendTopics.contains(m.topic) {
            return .refuse(.noPermission, "Sending message to topic[\(m.topic)] is forbidden.")
        }
        let isRetry = m.topic.hasPrefix(TopicValidator.retryGroupTopicPrefix)
        let retryGroupName = isRetry ? String(m.topic.dropFirst(TopicValidator.retryGroupTopicPrefix.count)) : ""
        guard let topicConfig = existing else {
            // A %RETRY% topic is created only for a group that exists (or may be auto-created). Java creates
            // the topic first and refuses the group after; creating nothing for a refused send is kinder.
            if isRetry && !m.isBatch, case .refuse(let code, let remark) = group(retryGroupName) { return .refuse(code, remark) }
            return createForSend(m, isRetry: isRetry)
        }

        let queueCount = max(topicConfig.writeQueueNums, topicConfig.readQueueNums)
        if m.queueId >= queueCount {
            return .refuse(.invalidParameter, "request queueId[\(m.queueId)] is illegal, \(topicConfig.lineFormat) Producer: \(m.producerAddress)")
        }
        let queueId = m.queueId < 0 ? pickQueue(max(1, topicConfig.writeQueueNums)) : m.queueId
        if m.isBatch {
            // As Java's sendBatchMessage: no group lookup for a batch, just the refusal.
            if isRetry { return .refuse(.messageIllegal, "batch request does not support retry group \(m.topic)") }
            // A batch's items carry their own properties; the store keeps them as sent.
            return .deliver(RoutePlan(kind: .normal, topic: m.topic, queueId: queueId, replyQueueId: queueId,
                                      properties: m.properties, sysFlag: m.sysFlag, uniqueKey: nil))
        }
        // Java's handleRetryAndDLQ, after msgCheck: a %RETRY% send names a group that must exist.
        var retryGroup: SubscriptionGroupConfig?
        if isRetry {
            switch group(retryGroupName) {
            case .refuse(let code, let remark): return .refuse(code, remark)
            case .create(let list): return .create(list)
            case .found(let g): retryGroup = g
            }
        }

        var properties = m.properties
        var scan = PropertyScan(properties)
        if scan.uniqueKey == nil {
            let id = makeUniqueKey()
            Self.append(&properties, MessageProperties.uniqueClientMessageIdKeyIndex, id)
            scan.uniqueKey = id
        }
        if !properties.isEmpty && properties.utf8.last != 2 { properties.unicodeScalars.append("\u{2}") }
        properties += settings.clusterProperty
        var plan = RoutePlan(kind: .normal, topic: m.topic, queueId: queueId, replyQueueId: queueId,
                             properties: properties, sysFlag: m.sysFlag, uniqueKey: scan.uniqueKey)

        // Retry -> DLQ (broker.md §9): past the group's maximum, or any retry of an orderly group (its
        // consumer retried locally already).
        if let retryGroup {
            var maxTimes = retryGroup.retryMaxTimes
            if let fromHeader = m.maxReconsumeTimes { maxTimes = fromHeader }
            if m.reconsumeTimes > maxTimes || tables.groupHoldsQueueLocks(retryGroup.groupName) {
                let dlq = TopicValidator.dlqGroupTopicPrefix + retryGroup.groupName
                if tables.topicConfig(dlq) == nil { return .create([.topic(dlq, queueNums: Self.dlqQueueNums, perm: 6)]) }
                var pairs = MessageProperties.decode(plan.properties).filter { $0.key != MessageProperties.delayTimeLevel }
                    .map { ($0.key, $0.value) }
                pairs.append((MessageProperties.delayTimeLevel, "-1"))
                plan.kind = .deadLetter
                plan.topic = dlq
                plan.queueId = pickQueue(Self.dlqQueueNums)
                plan.properties = MessageProperties.encode(pairs)
                return .deliver(plan)
            }
        }
        // Half messages (§8.1) wait in RMQ_SYS_TRANS_HALF_TOPIC until END_TRANSACTION; a half message coming
        // back through a delay level (a retry) is not prepared a second time.
        if scan.transactionPrepared, !(m.reconsumeTimes > 0 && (scan.delayLevel ?? 0) > 0) {
            if settings.rejectTransactionMessage {
                return .refuse(.noPermission, "the broker[\(settings.brokerIP1)] sending transaction message is forbidden")
            }
            if let missing = missingTransactionTopics() { return .create(missing) }
            let half = TransactionalMessageBridge.parseHalfMessage(topic: m.topic, queueId: queueId,
                                                                   properties: &plan.properties, sysFlag: m.sysFlag)
            plan.kind = .transactionHalf
            plan.topic = half.topic
            plan.queueId = half.queueId
            plan.sysFlag = half.sysFlag
            return .deliver(plan)
        }
        if scan.hasDelay, let delayed = ScheduleMessageService.transformDelayLevelMessage(
            topic: m.topic, queueId: queueId, properties: &plan.properties, sysFlag: m.sysFlag,
            maxLevel: settings.maxDelayLevel) {
            plan.kind = .delayed
            plan.topic = delayed.topic
            plan.queueId = delayed.queueId
        }
        return .deliver(plan)
    }

    /// An unknown topic: auto-created from its template, or a %RETRY% topic with one queue, or refused.
    private func createForSend(_ m: InboundSend, isRetry: Bool) -> RouteDecision {
        let topicSysFlag: Int32 = m.unitMode ? (isRetry ? 2 : 1) : 0
        if let template = tables.topicConfig(m.defaultTopic), PermName.isInherited(template.perm),
           settings.autoCreateTopicEnable || m.defaultTopic != TopicValidator.autoCreateTopicKeyTopic {
            return .create([.topicFromTemplate(topic: m.topic, template: m.defaultTopic,
                                               queueNums: m.defaultTopicQueueNums, topicSysFlag: topicSysFlag)])
        }
        if isRetry { return .create([.topic(m.topic, queueNums: 1, perm: 6)]) }
        return .refuse(.topicNotExist, "topic[\(m.topic)] not exist, apply first please!" + Self.faqSuffix)
    }

    private func missingTransactionTopics() -> [RouteCreation]? {
        let wanted = [TransactionalMessageBridge.halfTopic]
        let missing = wanted.filter { tables.topicConfig($0) == nil }.map { RouteCreation.topic($0, queueNums: 1, perm: 6) }
        return missing.isEmpty ? nil : missing
    }

    private enum GroupLookup { case found(SubscriptionGroupConfig), refuse(ResponseCode, String), create([RouteCreation]) }

    private func group(_ name: String) -> GroupLookup {
        if let g = tables.subscriptionGroup(name) { return .found(g) }
        guard settings.autoCreateSubscriptionGroup, TopicValidator.validateGroup(name) == nil else {
            return .refuse(.subscriptionGroupNotExist, "subscription group not exist, \(name) " + Self.faqSuffix)
        }
        return .create([.subscriptionGroup(name)])
    }

    // MARK: send-back

    /// What Java checks before it looks the stored message up: the group, the broker's write permission,
    /// retryQueueNums (0: answered SUCCESS, nothing stored: `.deliver` with an empty topic), the retry
    /// topic (created if absent) and its write permission. The group on success.
    func precheckSendBack(group name: String) -> Result<SubscriptionGroupConfig, RouteDecisionBox> {
        let g: SubscriptionGroupConfig
        switch group(name) {
        case .refuse(let code, let remark): return .failure(RouteDecisionBox(.refuse(code, remark)))
        case .create(let list): return .failure(RouteDecisionBox(.create(list)))
        case .found(let found): g = found
        }
        if !PermName.isWriteable(settings.brokerPermission) {
            return .failure(RouteDecisionBox(.refuse(.noPermission, "the broker[\(settings.brokerIP1)] sending message is forbidden")))
        }
        if g.retryQueueNums <= 0 {
            return .failure(RouteDecisionBox(.deliver(RoutePlan(kind: .normal, topic: "", queueId: 0, replyQueueId: 0, properties: "", sysFlag: 0))))
        }
        let retryTopic = TopicValidator.retryTopic(group: name)
        guard let retryConfig = tables.topicConfig(retryTopic) else {
            return .failure(RouteDecisionBox(.create([.topic(retryTopic, queueNums: g.retryQueueNums, perm: 6)])))
        }
        if !PermName.isWriteable(retryConfig.perm) {
            return .failure(RouteDecisionBox(.refuse(.noPermission, "the topic[\(retryTopic)] sending message is forbidden")))
        }
        return .success(g)
    }

    /// CONSUMER_SEND_MSG_BACK (broker.md §9): a copy for %RETRY%<group> through delay level 3 +
    /// reconsumeTimes (or the one asked for), or for %DLQ%<group> past the maximum or on a negative level.
    /// `.deliver` with an empty topic means: answer SUCCESS and store nothing (retryQueueNums 0).
    /// `group` is what precheckSendBack found (the processor checks before it reads the stored message);
    /// without it the prechecks run here.
    func routeSendBack(_ m: InboundSendBack, group prechecked: SubscriptionGroupConfig? = nil) -> RouteDecision {
        let g: SubscriptionGroupConfig
        if let prechecked {
            g = prechecked
        } else {
            switch precheckSendBack(group: m.group) {
            case .failure(let stop): return stop.decision
            case .success(let found): g = found
            }
        }
        let retryTopic = TopicValidator.retryTopic(group: m.group)
        var decoded = MessageProperties.decode(m.properties)
        if decoded[Self.retryTopicProperty] == nil { decoded[Self.retryTopicProperty] = m.originalTopic }
        // Java keeps the first origin: the stored message's own ORIGIN_MESSAGE_ID, else its (offset) msgId.
        if (decoded[Self.originMessageIdProperty] ?? "").isEmpty { decoded[Self.originMessageIdProperty] = m.offsetMessageId }
        decoded[MessageProperties.waitStoreMsgOk] = "false"
        decoded[MessageProperties.delayTimeLevel] = nil

        let maxTimes = m.maxReconsumeTimes ?? g.retryMaxTimes
        var plan = RoutePlan(kind: .normal, topic: retryTopic, queueId: pickQueue(g.retryQueueNums), replyQueueId: 0,
                             properties: "", sysFlag: m.sysFlag)
        var delayLevel = m.delayLevel
        if m.reconsumeTimes >= maxTimes || delayLevel < 0 {
            let dlq = TopicValidator.dlqGroupTopicPrefix + m.group
            if tables.topicConfig(dlq) == nil { return .create([.topic(dlq, queueNums: Self.dlqQueueNums, perm: 6)]) }
            plan.kind = .deadLetter
            plan.topic = dlq
            plan.queueId = pickQueue(Self.dlqQueueNums)
            delayLevel = 0
        } else if delayLevel == 0 {
            delayLevel = 3 + m.reconsumeTimes
        }
        var pairs = decoded.map { ($0.key, $0.value) }
        if delayLevel > 0 { pairs.append((MessageProperties.delayTimeLevel, String(delayLevel))) }
        plan.properties = MessageProperties.encode(pairs)
        if let delayed = ScheduleMessageService.transformDelayLevelMessage(
            topic: plan.topic, queueId: plan.queueId, properties: &plan.properties, sysFlag: m.sysFlag,
            maxLevel: settings.maxDelayLevel) {
            plan.kind = .delayed
            plan.topic = delayed.topic
            plan.queueId = delayed.queueId
        }
        return .deliver(plan)
    }

    // MARK: back to the real topic

    /// Why a stored message goes back to the topic it was sent to.
    enum Restore: Sendable { case delayedDelivery, transactionCommit }

    /// A message parked in a system topic (a delay level's SCHEDULE_TOPIC_XXXX queue, or a committed half
    /// message) back to its REAL_TOPIC / REAL_QID (broker.md §7, §8.2). Delayed delivery keeps REAL_TOPIC and
    /// REAL_QID as RocketMQ does and drops the delay and timer keys; a commit drops REAL_TOPIC, REAL_QID and
    /// TRAN_MSG. Both store with WAIT=false. Nil when the properties name no real topic (or a half message
    /// comes due through a delay level: it is not delivered).
    static func routeRestored(_ decoded: [String: String], _ why: Restore) -> RoutePlan? {
        guard let topic = decoded[MessageProperties.realTopic], !topic.isEmpty,
              let queueId = decoded[MessageProperties.realQueueId].flatMap({ Int32($0) }) else { return nil }
        var pairs = decoded
        switch why {
        case .delayedDelivery:
            if topic == TopicValidator.transHalfTopic { return nil }
            for key in [MessageProperties.delayTimeLevel, "TIMER_DELIVER_MS", "TIMER_DELAY_SEC"] { pairs.removeValue(forKey: key) }
        case .transactionCommit:
            for key in [MessageProperties.realTopic, MessageProperties.realQueueId, MessageProperties.transactionPrepared] {
                pairs.removeValue(forKey: key)
            }
        }
        pairs[MessageProperties.waitStoreMsgOk] = "false"
        let properties = MessageProperties.encode(pairs.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        return RoutePlan(kind: .normal, topic: topic, queueId: queueId, replyQueueId: queueId, properties: properties, sysFlag: 0)
    }

    // MARK: helpers

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
}

/// The properties every send looks at, read in one pass (appending CLUSTER changes none of them).
struct PropertyScan {
    var uniqueKey: String?
    var transactionPrepared = false
    var delayLevel: Int32?
    var hasDelay = false

    init(_ properties: String) {
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
    }
}
