// SQL92 selectors from the Swift client against real processes (broker.md §4.2): a push consumer subscribed
// with MessageSelector.bySql receives only messages whose properties match; against a broker without
// enablePropertyFilter it refuses to start with the broker's reason, as Java's checkClientInBroker does.

import ApusTestSupport
import Client
import Foundation
import Remoting
import XCTest

final class SQLFilterConsumerTests: XCTestCase {
    func testSqlSelectorDeliversOnlyMatchingMessages() async throws {
        let cluster = try await Cluster.started(["enablePropertyFilter": "true"])
        addTeardownBlock { await cluster.stopAll() }
        let topic = "SqlConsumeTopic"
        try await cluster.createTopic(topic, queues: 2)
        let producer = Producer(group: "sql_producer", config: cluster.clientConfig)
        try await producer.start()
        for i in 1...20 {
            var m = Message(topic: topic, body: "m\(i)", tags: i % 2 == 0 ? "even" : "odd")
            m.properties["price"] = String(i * 10)
            _ = try await producer.send(m)
        }
        let collector = Collector()
        var options = PushConsumerOptions()
        options.consumeFromWhere = .firstOffset
        let c = PushConsumer(group: "sql_group", config: cluster.clientConfig, options: options)
        try c.subscribe(topic, selector: .bySql("price >= 150 AND TAGS = 'even'"))
        c.registerMessageListener { msgs, _ in collector.add("c", msgs); return .consumeSuccess }
        try await c.start()
        try await waitUntil("the 3 matching messages") { collector.distinctBodies.count >= 3 }
        // A later matching message arrives after every earlier one was pulled past: nothing else came through.
        var marker = Message(topic: topic, body: "marker", tags: "even")
        marker.properties["price"] = "1000"
        _ = try await producer.send(marker)
        try await waitUntil("marker") { collector.distinctBodies.contains("marker") }
        XCTAssertEqual(collector.distinctBodies, ["m16", "m18", "m20", "marker"])
        await c.shutdown()
        await producer.shutdown()
    }

    func testSqlSelectorAgainstABrokerWithoutPropertyFilterFailsAtStart() async throws {
        let cluster = try await Cluster.started()
        addTeardownBlock { await cluster.stopAll() }
        let topic = "SqlRefusedTopic"
        try await cluster.createTopic(topic, queues: 1)
        let c = PushConsumer(group: "sql_refused_group", config: cluster.clientConfig)
        try c.subscribe(topic, selector: .bySql("a > 1"))
        c.registerMessageListener { _, _ in .consumeSuccess }
        do {
            try await c.start()
            XCTFail("started against a broker that cannot filter by SQL92")
            await c.shutdown()
        } catch {
            XCTAssertTrue("\(error)".contains("does not support consumer to filter message by SQL92"), "\(error)")
        }
    }
}
