// MessageRouter's every branch with plain values (no broker, no store): refusals with RocketMQ's remarks,
// what must be created first, and the plan for normal, retry -> DLQ, half, delayed and batch sends and for
// send-backs. Also a SendMessageProcessor built over a fake environment, answering through a real channel
// pair without a running broker.

import Common
import NIOCore
import NIOEmbedded
import NIOPosix
import Remoting
import Store
import XCTest

@testable import Broker

/// Tables as plain dictionaries.
struct FixedTables: RoutingTables {
    var topics: [String: TopicConfig] = [:]
    var groups: [String: SubscriptionGroupConfig] = [:]
    var lockedGroups: Set<String> = []

    func topicConfig(_ topic: String) -> TopicConfig? { topics[topic] }
    func subscriptionGroup(_ group: String) -> SubscriptionGroupConfig? { groups[group] }
    func groupHoldsQueueLocks(_ group: String) -> Bool { lockedGroups.contains(group) }

    static var standard: FixedTables {
        var t = FixedTables()
        for c in [TopicConfig(topicName: "TBW102", readQueueNums: 8, writeQueueNums: 8, perm: 7),
                  TopicConfig(topicName: "T", readQueueNums: 4, writeQueueNums: 4, perm: 6),
                  TopicConfig(topicName: "%RETRY%G", readQueueNums: 1, writeQueueNums: 1, perm: 6),
                  TopicConfig(topicName: "%DLQ%G", readQueueNums: 1, writeQueueNums: 1, perm: 6),
                  TopicConfig(topicName: "RMQ_SYS_TRANS_HALF_TOPIC", readQueueNums: 1, writeQueueNums: 1, perm: 6),
                  TopicConfig(topicName: "SCHEDULE_TOPIC_XXXX", readQueueNums: 18, writeQueueNums: 18, perm: 6)] {
            t.topics[c.topicName] = c
        }
        t.groups["G"] = SubscriptionGroupConfig(groupName: "G")
        return t
    }
}

final class MessageRouterTests: XCTestCase {
    func router(_ tables: FixedTables = .standard, _ edit: (inout RoutingSettings) -> Void = { _ in }) -> MessageRouter {
        var s = RoutingSettings()
        s.brokerIP1 = "10.0.0.1"
        s.brokerClusterName = "C1"
        edit(&s)
        return MessageRouter(settings: s, tables: tables, makeUniqueKey: { "UNIQ-1" }, pickQueue: { $0 - 1 })
    }

    func send(_ topic: String = "T", queueId: Int32 = 1, properties: String = "", reconsumeTimes: Int32 = 0,
              maxReconsumeTimes: Int32? = nil, batch: Bool = false) -> InboundSend {
        InboundSend(topic: topic, queueId: queueId, properties: properties, sysFlag: 0, reconsumeTimes: reconsumeTimes,
                    maxReconsumeTimes: maxReconsumeTimes, isBatch: batch, producerAddress: "1.2.3.4:5")
    }

    func plan(_ d: RouteDecision, line: UInt = #line) -> RoutePlan? {
        guard case .deliver(let p) = d else {
            XCTFail("expected a plan, got \(d)", line: line)
            return nil
        }
        return p
    }

    func props(_ p: RoutePlan) -> [String: String] { MessageProperties.decode(p.properties) }

    // MARK: send

    func testNormalSendGetsUniqueKeyAndClusterAndKeepsItsQueue() throws {
        let p = try XCTUnwrap(plan(router().route(send(properties: "TAGS\u{1}a\u{2}"))))
        XCTAssertEqual(p.kind, .normal)
        XCTAssertEqual(p.topic, "T")
        XCTAssertEqual(p.queueId, 1)
        XCTAssertEqual(p.replyQueueId, 1)
        XCTAssertEqual(props(p), ["TAGS": "a", "UNIQ_KEY": "UNIQ-1", "CLUSTER": "C1"])
        XCTAssertEqual(p.uniqueKey, "UNIQ-1")
    }

    func testProducersUniqueKeyIsKept() throws {
        let p = try XCTUnwrap(plan(router().route(send(properties: "UNIQ_KEY\u{1}ABC\u{2}"))))
        XCTAssertEqual(p.uniqueKey, "ABC")
        XCTAssertEqual(props(p)["UNIQ_KEY"], "ABC")
    }

    func testNegativeQueueIdIsPickedAmongWriteQueues() throws {
        let p = try XCTUnwrap(plan(router().route(send(queueId: -1))))
        XCTAssertEqual(p.queueId, 3)  // the test picker takes the last of 4
    }

    func testRefusals() {
        XCTAssertEqual(router().route(send("bad topic!")), .refuse(.invalidParameter, TopicValidator.validateTopic("bad topic!") ?? ""))
        XCTAssertEqual(router().route(send("SCHEDULE_TOPIC_XXXX")),
                       .refuse(.noPermission, "Sending message to topic[SCHEDULE_TOPIC_XXXX] is forbidden."))
        guard case .refuse(.invalidParameter, let remark) = router().route(send(queueId: 4)) else { return XCTFail() }
        XCTAssertTrue(remark.hasPrefix("request queueId[4] is illegal"), remark)
        XCTAssertTrue(remark.hasSuffix("Producer: 1.2.3.4:5"), remark)
        XCTAssertEqual(router { $0.rejectTransactionMessage = true }.route(send(properties: "TRAN_MSG\u{1}true\u{2}")),
                       .refuse(.noPermission, "the broker[10.0.0.1] sending transaction message is forbidden"))
        guard case .refuse(.messageIllegal, _) = router().route(send("%RETRY%G", queueId: 0, batch: true)) else { return XCTFail() }
    }

    func testUnwritableBrokerRefusesOnlyOrderTopics() {
        var tables = FixedTables.standard
        tables.topics["O"] = TopicConfig(topicName: "O", readQueueNums: 2, writeQueueNums: 2, perm: 6, order: true)
        let readOnly = router(tables) { $0.brokerPermission = 4 }
        XCTAssertEqual(readOnly.route(send("O", queueId: 0)), .refuse(.noPermission, "the broker[10.0.0.1] sending message is forbidden"))
        XCTAssertNotNil(plan(readOnly.route(send("T"))))
    }

    func testUnknownTopicIsCreatedFromItsTemplateOrRefused() {
        XCTAssertEqual(router().route(send("New")),
                       .create([.topicFromTemplate(topic: "New", template: "TBW102", queueNums: 4, topicSysFlag: 0)]))
        XCTAssertEqual(router { $0.autoCreateTopicEnable = false }.route(send("New")),
                       .refuse(.topicNotExist, "topic[New] not exist, apply first please!" + MessageRouter.faqSuffix))
        var noTemplate = FixedTables.standard
        noTemplate.topics["TBW102"] = nil
        XCTAssertEqual(router(noTemplate).route(send("New")),
                       .refuse(.topicNotExist, "topic[New] not exist, apply first please!" + MessageRouter.faqSuffix))
        // A retry topic without a template still gets one queue.
        var g2 = noTemplate
        g2.groups["G2"] = SubscriptionGroupConfig(groupName: "G2")
        XCTAssertEqual(router(g2).route(send("%RETRY%G2", queueId: 0)), .create([.topic("%RETRY%G2", queueNums: 1, perm: 6)]))
    }

    func testRetryForUnknownGroupIsRefusedUnlessGroupsAreAutoCreated() {
        XCTAssertEqual(router { $0.autoCreateSubscriptionGroup = false }.route(send("%RETRY%Nobody", queueId: 0)),
                       .refuse(.subscriptionGroupNotExist, "subscription group not exist, Nobody " + MessageRouter.faqSuffix))
        // With auto-creation the topic comes first (from its template), then, routed again, the group.
        XCTAssertEqual(router().route(send("%RETRY%Nobody", queueId: 0)),
                       .create([.topicFromTemplate(topic: "%RETRY%Nobody", template: "TBW102", queueNums: 4, topicSysFlag: 0)]))
        var withTopic = FixedTables.standard
        withTopic.topics["%RETRY%Nobody"] = TopicConfig(topicName: "%RETRY%Nobody", readQueueNums: 1, writeQueueNums: 1)
        XCTAssertEqual(router(withTopic).route(send("%RETRY%Nobody", queueId: 0)), .create([.subscriptionGroup("Nobody")]))
        // Java's order: the queue id is checked before the group; a batch is refused without a group lookup.
        let strict = router(withTopic, { $0.autoCreateSubscriptionGroup = false })
        guard case .refuse(.invalidParameter, _) = strict.route(send("%RETRY%Nobody", queueId: 5)) else { return XCTFail("queue id first") }
        guard case .refuse(.messageIllegal, let remark) = strict.route(send("%RETRY%Nobody", queueId: 0, batch: true)) else {
            return XCTFail("batch refusal")
        }
        XCTAssertEqual(remark, "batch request does not support retry group %RETRY%Nobody")
    }

    func testRetryWithinItsMaximumStaysOnTheRetryTopic() throws {
        let p = try XCTUnwrap(plan(router().route(send("%RETRY%G", queueId: 0, reconsumeTimes: 16))))
        XCTAssertEqual(p.kind, .normal)
        XCTAssertEqual(p.topic, "%RETRY%G")
    }

    func testRetryPastItsMaximumGoesToTheDeadLetterQueue() throws {
        let p = try XCTUnwrap(plan(router().route(send("%RETRY%G", queueId: 0, properties: "DELAY\u{1}3\u{2}", reconsumeTimes: 17))))
        XCTAssertEqual(p.kind, .deadLetter)
        XCTAssertEqual(p.topic, "%DLQ%G")
        XCTAssertEqual(p.queueId, 0)
        XCTAssertEqual(props(p)["DELAY"], "-1")
        // The header's maximum wins over the group's.
        XCTAssertEqual(try XCTUnwrap(plan(router().route(send("%RETRY%G", queueId: 0, reconsumeTimes: 3, maxReconsumeTimes: 2)))).kind,
                       .deadLetter)
    }

    func testRetryOfAnOrderlyGroupGoesToTheDeadLetterQueueAtOnce() throws {
        var t = FixedTables.standard
        t.lockedGroups = ["G"]
        XCTAssertEqual(try XCTUnwrap(plan(router(t).route(send("%RETRY%G", queueId: 0)))).kind, .deadLetter)
    }

    func testMissingDeadLetterTopicIsCreatedFirst() {
        var t = FixedTables.standard
        t.topics["%DLQ%G"] = nil
        XCTAssertEqual(router(t).route(send("%RETRY%G", queueId: 0, reconsumeTimes: 17)), .create([.topic("%DLQ%G", queueNums: 1, perm: 6)]))
    }

    func testHalfMessageGoesToTheHalfTopicWithItsRealTopic() throws {
        let p = try XCTUnwrap(plan(router().route(send(properties: "TRAN_MSG\u{1}true\u{2}UNIQ_KEY\u{1}U1\u{2}"))))
        XCTAssertEqual(p.kind, .transactionHalf)
        XCTAssertEqual(p.topic, "RMQ_SYS_TRANS_HALF_TOPIC")
        XCTAssertEqual(p.queueId, 0)
        XCTAssertEqual(p.replyQueueId, 1)
        let d = props(p)
        XCTAssertEqual(d["REAL_TOPIC"], "T")
        XCTAssertEqual(d["REAL_QID"], "1")
        XCTAssertEqual(d["__transactionId__"], "U1")
        var t = FixedTables.standard
        t.topics["RMQ_SYS_TRANS_HALF_TOPIC"] = nil
        XCTAssertEqual(router(t).route(send(properties: "TRAN_MSG\u{1}true\u{2}")),
                       .create([.topic("RMQ_SYS_TRANS_HALF_TOPIC", queueNums: 1, perm: 6)]))
    }

    func testHalfMessageRetriedThroughADelayLevelIsNotPreparedAgain() throws {
        let p = try XCTUnwrap(plan(router().route(send(properties: "TRAN_MSG\u{1}true\u{2}DELAY\u{1}3\u{2}", reconsumeTimes: 1))))
        XCTAssertEqual(p.kind, .delayed)
    }

    func testDelayLevelMovesTheMessageToTheScheduleTopic() throws {
        let p = try XCTUnwrap(plan(router().route(send(properties: "DELAY\u{1}3\u{2}"))))
        XCTAssertEqual(p.kind, .delayed)
        XCTAssertEqual(p.topic, "SCHEDULE_TOPIC_XXXX")
        XCTAssertEqual(p.queueId, 2)
        XCTAssertEqual(p.replyQueueId, 1)
        XCTAssertEqual(props(p)["REAL_TOPIC"], "T")
        XCTAssertEqual(props(p)["REAL_QID"], "1")
        // Levels above the maximum are capped; delay levels off leave the message where it is.
        XCTAssertEqual(try XCTUnwrap(plan(router().route(send(properties: "DELAY\u{1}99\u{2}")))).queueId, 17)
        XCTAssertEqual(try XCTUnwrap(plan(router { $0.maxDelayLevel = 0 }.route(send(properties: "DELAY\u{1}3\u{2}")))).kind, .normal)
    }

    func testBatchKeepsItsItemsPropertiesAsSent() throws {
        let p = try XCTUnwrap(plan(router().route(send(properties: "", batch: true))))
        XCTAssertEqual(p.properties, "")
        XCTAssertNil(p.uniqueKey)
    }

    // MARK: send-back

    func back(group: String = "G", delayLevel: Int32 = 0, reconsumeTimes: Int32 = 0, properties: String = "") -> InboundSendBack {
        InboundSendBack(group: group, delayLevel: delayLevel, maxReconsumeTimes: nil, properties: properties, originalTopic: "T",
                        sysFlag: 0, reconsumeTimes: reconsumeTimes, offsetMessageId: "OFFSETID")
    }

    func testSendBackGoesThroughDelayLevelThreePlusReconsumeTimes() throws {
        let p = try XCTUnwrap(plan(router().routeSendBack(back(reconsumeTimes: 2))))
        XCTAssertEqual(p.kind, .delayed)
        XCTAssertEqual(p.topic, "SCHEDULE_TOPIC_XXXX")
        XCTAssertEqual(p.queueId, 4)  // level 5
        let d = props(p)
        XCTAssertEqual(d["REAL_TOPIC"], "%RETRY%G")
        XCTAssertEqual(d["RETRY_TOPIC"], "T")
        XCTAssertEqual(d["ORIGIN_MESSAGE_ID"], "OFFSETID")
        XCTAssertEqual(d["WAIT"], "false")
    }

    func testSendBackKeepsTheFirstOriginMessageId() throws {
        let p = try XCTUnwrap(plan(router().routeSendBack(back(properties: "ORIGIN_MESSAGE_ID\u{1}FIRST\u{2}RETRY_TOPIC\u{1}X\u{2}"))))
        XCTAssertEqual(props(p)["ORIGIN_MESSAGE_ID"], "FIRST")
        XCTAssertEqual(props(p)["RETRY_TOPIC"], "X")
    }

    func testSendBackPastTheMaximumOrWithNegativeLevelGoesToTheDeadLetterQueue() throws {
        XCTAssertEqual(try XCTUnwrap(plan(router().routeSendBack(back(reconsumeTimes: 16)))).topic, "%DLQ%G")
        let p = try XCTUnwrap(plan(router().routeSendBack(back(delayLevel: -1))))
        XCTAssertEqual(p.kind, .deadLetter)
        XCTAssertNil(props(p)["DELAY"])
    }

    func testSendBackRefusalsAndCreations() {
        XCTAssertEqual(router { $0.autoCreateSubscriptionGroup = false }.routeSendBack(back(group: "Nobody")),
                       .refuse(.subscriptionGroupNotExist, "subscription group not exist, Nobody " + MessageRouter.faqSuffix))
        XCTAssertEqual(router { $0.brokerPermission = 4 }.routeSendBack(back()),
                       .refuse(.noPermission, "the broker[10.0.0.1] sending message is forbidden"))
        var readOnlyRetry = FixedTables.standard
        readOnlyRetry.topics["%RETRY%G"]?.perm = 4
        XCTAssertEqual(router(readOnlyRetry).routeSendBack(back()),
                       .refuse(.noPermission, "the topic[%RETRY%G] sending message is forbidden"))
        var noRetry = FixedTables.standard
        noRetry.topics["%RETRY%G"] = nil
        XCTAssertEqual(router(noRetry).routeSendBack(back()), .create([.topic("%RETRY%G", queueNums: 1, perm: 6)]))
        var noQueues = FixedTables.standard
        noQueues.groups["G"]?.retryQueueNums = 0
        XCTAssertEqual(try XCTUnwrap(plan(router(noQueues).routeSendBack(back()))).topic, "")
    }

    // MARK: back to the real topic

    func testDelayedDeliveryGoesBackToItsRealTopicKeepingRealTopicAndQueue() throws {
        let stored = ["REAL_TOPIC": "T", "REAL_QID": "3", "DELAY": "2", "TIMER_DELIVER_MS": "9", "TAGS": "a", "WAIT": "true"]
        let p = try XCTUnwrap(MessageRouter.routeRestored(stored, .delayedDelivery))
        XCTAssertEqual(p.topic, "T")
        XCTAssertEqual(p.queueId, 3)
        XCTAssertEqual(props(p), ["REAL_TOPIC": "T", "REAL_QID": "3", "TAGS": "a", "WAIT": "false"])
        XCTAssertNil(MessageRouter.routeRestored(["REAL_TOPIC": "RMQ_SYS_TRANS_HALF_TOPIC", "REAL_QID": "0"], .delayedDelivery))
        XCTAssertNil(MessageRouter.routeRestored(["TAGS": "a"], .delayedDelivery))
        XCTAssertNil(MessageRouter.routeRestored(["REAL_TOPIC": "T", "REAL_QID": "x"], .delayedDelivery))
    }

    func testCommittedHalfMessageLosesItsTransactionKeys() throws {
        let half = ["REAL_TOPIC": "T", "REAL_QID": "1", "TRAN_MSG": "true", "__transactionId__": "U1", "PGROUP": "P"]
        let p = try XCTUnwrap(MessageRouter.routeRestored(half, .transactionCommit))
        XCTAssertEqual(p.topic, "T")
        XCTAssertEqual(p.queueId, 1)
        XCTAssertEqual(props(p), ["__transactionId__": "U1", "PGROUP": "P", "WAIT": "false"])
    }
}
