// Delay levels, consumer send-back, retry and dead-letter topics against a real `mqbroker` (broker.md §7, §9):
// a delayed message appears in its topic only after its level's delay; a message sent back by a consumer
// reappears in %RETRY%<group> with reconsumeTimes + 1 and RETRY_TOPIC set; past the maximum it lands in
// %DLQ%<group>. Delay levels are shortened with `messageDelayLevel` so the test waits about a second.

import ApusTestSupport
import Foundation
import Logging
import NIOCore
import NIOPosix
import Remoting
import XCTest

final class BrokerRetryAndDelayTests: BrokerClusterTestCase {
    func start() async throws -> TestClient {
        // Level n waits n seconds here (RocketMQ's default table starts 1s 5s 10s ...).
        try await start(["messageDelayLevel": "1s 2s 1s 1s 1s 1s"], namesrv: false)
    }

    func testDelayedMessageIsDeliveredToItsTopicAfterTheLevelDelay() async throws {
        let c = try await start()
        try await c.createTopic("DelayTopic", queues: 2)
        let sent = Date()
        let r = try await c.send(topic: "DelayTopic", body: Array("later".utf8), queueId: 1,
                                 props: [("WAIT", "true"), ("DELAY", "2"), ("TAGS", "T")])
        XCTAssertEqual(r.responseCode, .success, r.remark ?? "")
        // Not in the topic right away.
        let early = try await c.pullAll(group: "Probe", topic: "DelayTopic", queueId: 1)
        XCTAssertEqual(early.count, 0)
        let got = try await waitForMessages(c, topic: "DelayTopic", queueId: 1, count: 1)
        XCTAssertEqual(got.count, 1)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(sent), 1.9)
        let m = try XCTUnwrap(got.first)
        XCTAssertEqual(m.body, Array("later".utf8))
        XCTAssertEqual(m.properties["REAL_TOPIC"], "DelayTopic")
        XCTAssertEqual(m.properties["REAL_QID"], "1")
        XCTAssertNil(m.properties["DELAY"])
        XCTAssertEqual(m.properties["TAGS"], "T")
        XCTAssertEqual(m.queueOffset, 0)
    }

    func testSentBackMessageReappearsInTheRetryTopicWithReconsumeTimesIncremented() async throws {
        let c = try await start()
        try await c.createTopic("WorkTopic", queues: 1)
        let r = try await c.send(topic: "WorkTopic", body: Array("job".utf8), queueId: 0,
                                 props: [("WAIT", "true"), ("UNIQ_KEY", "JOB1")])
        XCTAssertEqual(r.responseCode, .success)
        let original = try await waitForMessages(c, topic: "WorkTopic", queueId: 0, count: 1)
        let offset = try XCTUnwrap(original.first?.physicalOffset)
        let back = try await client.invokeSync(cluster.brokerAddr, .request(.consumerSendMsgBack, header: ConsumerSendMsgBackRequestHeader(
            offset: offset, group: "Workers", delayLevel: 1, originMsgId: "JOB1", originTopic: "WorkTopic", maxReconsumeTimes: 2)))
        XCTAssertEqual(back.responseCode, .success, back.remark ?? "")
        let retried = try await waitForMessages(c, topic: "%RETRY%Workers", queueId: 0, count: 1)
        let m = try XCTUnwrap(retried.first)
        XCTAssertEqual(m.body, Array("job".utf8))
        XCTAssertEqual(m.reconsumeTimes, 1)
        XCTAssertEqual(m.properties["RETRY_TOPIC"], "WorkTopic")
        // As Java's consumerSendMsgBack: the stored message's own msgId (its offset id) when it has no
        // ORIGIN_MESSAGE_ID yet; the header's originMsgId is not used.
        let origin = try XCTUnwrap(m.properties["ORIGIN_MESSAGE_ID"])
        XCTAssertEqual(origin.count, 32)
        XCTAssertTrue(origin.hasSuffix(String(format: "%016llX", offset)), origin)
        XCTAssertEqual(m.properties["UNIQ_KEY"], "JOB1")

        // Sent back again from the retry topic twice more: the third time it has reached the maximum (2).
        var current = m
        for expectedTimes in [Int32(2)] {
            let again = try await client.invokeSync(cluster.brokerAddr, .request(.consumerSendMsgBack, header: ConsumerSendMsgBackRequestHeader(
                offset: current.physicalOffset, group: "Workers", delayLevel: 0, maxReconsumeTimes: 2)))
            XCTAssertEqual(again.responseCode, .success)
            let all = try await waitForMessages(c, topic: "%RETRY%Workers", queueId: 0, count: Int(expectedTimes))
            current = try XCTUnwrap(all.last)
            XCTAssertEqual(current.reconsumeTimes, expectedTimes)
        }
        let last = try await client.invokeSync(cluster.brokerAddr, .request(.consumerSendMsgBack, header: ConsumerSendMsgBackRequestHeader(
            offset: current.physicalOffset, group: "Workers", delayLevel: 0, maxReconsumeTimes: 2)))
        XCTAssertEqual(last.responseCode, .success)
        let dead = try await waitForMessages(c, topic: "%DLQ%Workers", queueId: 0, count: 1)
        XCTAssertEqual(dead.count, 1)
        XCTAssertEqual(dead.first?.body, Array("job".utf8))
        XCTAssertEqual(dead.first?.reconsumeTimes, 3)
        XCTAssertEqual(dead.first?.properties["RETRY_TOPIC"], "WorkTopic")
    }

    func testSendBackOfAnUnknownOffsetIsASystemError() async throws {
        let c = try await start()
        _ = c
        let back = try await client.invokeSync(cluster.brokerAddr, .request(.consumerSendMsgBack, header: ConsumerSendMsgBackRequestHeader(
            offset: 123_456_789, group: "Workers", delayLevel: 0)))
        XCTAssertEqual(back.responseCode, .systemError)
    }

    func testDelayOffsetsArePersistedAtStop() async throws {
        let c = try await start()
        try await c.createTopic("DelayTopic", queues: 1)
        _ = try await c.send(topic: "DelayTopic", body: [1], queueId: 0, props: [("WAIT", "true"), ("DELAY", "1")])
        _ = try await waitForMessages(c, topic: "DelayTopic", queueId: 0, count: 1)
        let dir = cluster.storeDirectory.path
        await cluster.stopBroker()
        let text = try String(contentsOfFile: dir + "/config/delayOffset.json", encoding: .utf8)
        XCTAssertTrue(text.contains("\"offsetTable\""), text)
        XCTAssertTrue(text.contains("1:1"), text)
    }
}
