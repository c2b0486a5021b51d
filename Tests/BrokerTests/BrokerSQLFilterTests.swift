// SQL92 filtering against a real `mqbroker` (broker.md §4.2): with enablePropertyFilter a pull carrying an
// SQL92 subscription returns only the messages whose properties match; without it, and for a selector that
// does not parse, the pull is refused with RocketMQ's codes; CHECK_CLIENT_CONFIG (46) answers what Java
// consumers ask at start.

import Common
import ApusTestSupport
import Foundation
import NIOCore
import Remoting
import XCTest

final class BrokerSQLFilterTests: BrokerClusterTestCase {
    let topic = "SqlTopic"

    func sendNumbered(_ c: TestClient) async throws {
        for i in 1...10 {
            let r = try await c.send(topic: topic, body: Array("m\(i)".utf8), queueId: 0,
                                     props: [("WAIT", "true"), ("a", String(i)), ("color", i % 2 == 0 ? "red" : "blue")])
            XCTAssertEqual(r.responseCode, .success, r.remark ?? "")
        }
        _ = try await waitForMessages(c, topic: topic, queueId: 0, count: 10)
    }

    func checkClientConfig(_ sql: String) async throws -> RemotingCommand {
        var w = JSONWriter(style: .fastjson)
        w.beginObject()
        w.field("clientId", "10.0.0.1@1")
        w.field("group", "SqlGroup")
        w.key("subscriptionData")
        SubscriptionData(topic: topic, subString: sql, expressionType: "SQL92").writeJSON(to: &w)
        w.endObject()
        return try await client.invokeSync(cluster.brokerAddr, .request(.checkClientConfig, body: w.buffer))
    }

    func testSQL92PullsReturnOnlyMatchingMessages() async throws {
        let c = try await start(["enablePropertyFilter": "true"], namesrv: false)
        try await c.createTopic(topic, queues: 1)
        try await sendNumbered(c)
        let r = try await c.pull(group: "SqlGroup", topic: topic, queueId: 0, offset: 0,
                                 subscription: "a > 5 AND color = 'red'", expressionType: "SQL92")
        XCTAssertEqual(r.responseCode, .success, r.remark ?? "")
        let got = try RecordDecoder.decodeAll(Array(buffer: try XCTUnwrap(r.body)))
        XCTAssertEqual(got.map { String(decoding: $0.body, as: UTF8.self) }, ["m6", "m8", "m10"])
        // Nothing matches: the pull moves past the queue without a message.
        let none = try await c.pull(group: "SqlGroup", topic: topic, queueId: 0, offset: 0,
                                    subscription: "a > 100", expressionType: "SQL92")
        XCTAssertNotEqual(none.responseCode, .success)
        let ok = try await checkClientConfig("a > 5")
        XCTAssertEqual(ok.responseCode, .success)
        let bad = try await checkClientConfig("a >")
        XCTAssertEqual(bad.responseCode, .subscriptionParseFailed)
    }

    func testSQL92IsRefusedWithoutPropertyFilterAndWhenItDoesNotParse() async throws {
        let c = try await start(namesrv: false)
        try await c.createTopic(topic, queues: 1)
        try await sendNumbered(c)
        let off = try await c.pull(group: "SqlGroup", topic: topic, queueId: 0, offset: 0, subscription: "a > 5",
                                   expressionType: "SQL92")
        XCTAssertEqual(off.responseCode, .systemError)
        XCTAssertEqual(off.remark, "The broker does not support consumer to filter message by SQL92")
        let check = try await checkClientConfig("a > 5")
        XCTAssertEqual(check.responseCode, .systemError)
        // Tag pulls are unaffected.
        let tags = try await c.pull(group: "SqlGroup", topic: topic, queueId: 0, offset: 0)
        XCTAssertEqual(tags.responseCode, .success)
    }

    func testUnparsableSelectorIsASubscriptionParseFailure() async throws {
        let c = try await start(["enablePropertyFilter": "true"], namesrv: false)
        try await c.createTopic(topic, queues: 1)
        try await sendNumbered(c)
        let r = try await c.pull(group: "SqlGroup", topic: topic, queueId: 0, offset: 0, subscription: "a > AND",
                                 expressionType: "SQL92")
        XCTAssertEqual(r.responseCode, .subscriptionParseFailed)
        XCTAssertEqual(r.remark, "parse the consumer's subscription failed")
    }
}
