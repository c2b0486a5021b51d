// TopicAttributesTests: `mqadmin updateTopic -a` against real mqnamesrv/mqbroker processes — attributes are
// merged into the topic's current ones (`+key=value` adds or changes, `-key` removes, no -a keeps them), as
// RocketMQ 5's AttributeUtil.alterCurrentAttributes, and checked against the supported topic attributes: an
// unknown key, a bad value, an unchangeable attribute or a malformed modification is refused by name and
// changes nothing.

import ApusTestSupport
import Foundation
import Logging
import NIOPosix
import Remoting
import XCTest

final class TopicAttributesTests: XCTestCase {
    func testUpdateTopicMergesAttributesAndRefusesUnsupportedOnesByNameWithNothingChanged() async throws {
        let cluster = try Cluster()
        try await cluster.startNamesrv()
        try await cluster.startBroker()
        addTeardownBlock { await cluster.stopAll() }
        let admin = try AdminRunner(namesrvAddr: cluster.namesrvAddr)
        let b = cluster.brokerAddr
        let remoting = RemotingClient(group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "test"))
        addTeardownBlock { await remoting.shutdown() }
        func topicConfig(_ topic: String) async throws -> TopicConfig? {
            let r = try await remoting.invokeSync(b, .request(.getTopicConfig, header: TopicRequestHeader(topic: topic)))
            return r.responseCode == .success ? try TopicConfig.decode(try XCTUnwrap(r.body)) : nil
        }

        let created = try await admin.run("updateTopic", "-b", b, "-t", "AttrTopic", "-a", "+message.type=FIFO,+queue.type=SimpleCQ")
        assertSuccess(created, contains: ["create topic to \(b) success.", "attributes={+message.type=FIFO, +queue.type=SimpleCQ}]"])
        var config = try await topicConfig("AttrTopic")
        XCTAssertEqual(config?.attributes, ["message.type": "FIFO", "queue.type": "SimpleCQ"])

        // Changed, others kept.
        assertSuccess(try await admin.run("updateTopic", "-b", b, "-t", "AttrTopic", "--attributes", "+message.type=DELAY,+reserve.time=72"),
                      contains: ["create topic to \(b) success."])
        config = try await topicConfig("AttrTopic")
        XCTAssertEqual(config?.attributes, ["message.type": "DELAY", "queue.type": "SimpleCQ", "reserve.time": "72"])
        // No -a: kept.
        assertSuccess(try await admin.run("updateTopic", "-b", b, "-t", "AttrTopic", "-r", "4", "-w", "4"), contains: ["attributes={}]"])
        config = try await topicConfig("AttrTopic")
        XCTAssertEqual(config?.attributes, ["message.type": "DELAY", "queue.type": "SimpleCQ", "reserve.time": "72"])
        XCTAssertEqual(config?.readQueueNums, 4)
        // Removed.
        assertSuccess(try await admin.run("updateTopic", "-b", b, "-t", "AttrTopic", "-r", "4", "-w", "4", "-a", "-reserve.time"),
                      contains: ["attributes={-reserve.time=}]"])
        config = try await topicConfig("AttrTopic")
        XCTAssertEqual(config?.attributes, ["message.type": "DELAY", "queue.type": "SimpleCQ"])

        // Refused by name; the queue numbers asked for with them are not applied either.
        let refusals: [(String, String)] = [
            ("+no.such.key=1", "unsupported key: no.such.key"),
            ("+message.type=BAD", "value BAD of attribute message.type is not in set"),
            ("+reserve.time=x", "value x of attribute reserve.time is not a number"),
            ("+queue.type=BatchCQ", "attempt to update an unchangeable attribute. key: queue.type"),
            ("-cleanup.policy", "attempt to delete a nonexistent key: cleanup.policy"),
            ("+message.type=MIXED", "MIXED message type is not supported."),
            ("+message.type=FIFO,-no.such.key", "unsupported key: no.such.key"),
            ("message.type=FIFO", "add/alter attribute format is wrong: message.type"),
            ("queue.type", "delete attribute format is wrong: queue.type"),
        ]
        for (modification, reason) in refusals {
            let r = try await admin.run("updateTopic", "-b", b, "-t", "AttrTopic", "-r", "2", "-w", "2", "-a", modification)
            assertFailure(r)
            XCTAssertTrue(r.stderr.contains(reason), "\(modification): \(r.stderr)")
            config = try await topicConfig("AttrTopic")
            XCTAssertEqual(config?.attributes, ["message.type": "DELAY", "queue.type": "SimpleCQ"], modification)
            XCTAssertEqual(config?.readQueueNums, 4, modification)
        }

        // A topic being created takes only additions, and is not created when refused.
        let bad = try await admin.run("updateTopic", "-b", b, "-t", "NewAttrTopic", "-a", "-message.type")
        assertFailure(bad)
        XCTAssertTrue(bad.stderr.contains("only add attribute is supported while creating topic. key: message.type"), bad.stderr)
        let absent = try await topicConfig("NewAttrTopic")
        XCTAssertNil(absent)
        // Unchangeable attributes may be set at creation.
        assertSuccess(try await admin.run("updateTopic", "-b", b, "-t", "NewAttrTopic", "-a", "+cleanup.policy=COMPACTION"),
                      contains: ["create topic to \(b) success."])
        let fresh = try await topicConfig("NewAttrTopic")
        XCTAssertEqual(fresh?.attributes, ["cleanup.policy": "COMPACTION"])
    }
}
