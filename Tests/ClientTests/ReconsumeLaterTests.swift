// RECONSUME_LATER against real processes (issue 5, must-show 2): the message comes back later through
// %RETRY%<group> with reconsumeTimes incremented; the broker's delay table is shortened to 1 s here.

import ApusTestSupport
import Client
import Foundation
import Remoting
import XCTest

final class ReconsumeLaterTests: XCTestCase {
    func testReconsumeLaterDeliversTheMessageAgainWithReconsumeTimesIncremented() async throws {
        let cluster = try await Cluster.started(["messageDelayLevel": "1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s"])
        addTeardownBlock { await cluster.stopAll() }
        let topic = "RetryTopic"
        try await cluster.createTopic(topic, queues: 2)
        let producer = Producer(group: "retry_producer", config: cluster.clientConfig)
        try await producer.start()
        let sent = try await producer.send(Message(topic: topic, body: "please retry", tags: "TagR", keys: ["retry-key"]))
        let collector = Collector()
        // Fails the first two deliveries, accepts the third.
        let c = try await startPushConsumer(cluster, group: "retry_group", topic: topic, name: "c", collector: collector,
                                            status: { m in m.reconsumeTimes < 2 ? .reconsumeLater : .consumeSuccess })
        try await waitUntil("three deliveries", timeout: .seconds(60)) { collector.all.count >= 3 }
        let deliveries = collector.all
        XCTAssertEqual(deliveries.prefix(3).map(\.reconsumeTimes), [0, 1, 2])
        for m in deliveries.prefix(3) {
            XCTAssertEqual(m.topic, topic, "the retried message shows its original topic")
            XCTAssertEqual(String(decoding: m.body, as: UTF8.self), "please retry")
            XCTAssertEqual(m.msgId, sent.msgId, "UNIQ_KEY is kept across retries")
            XCTAssertEqual(m.tags, "TagR")
        }
        XCTAssertGreaterThanOrEqual(deliveries[1].storeTimestamp - deliveries[0].storeTimestamp, 900, "delivered again later")
        try await Task.sleep(for: .milliseconds(1500))
        XCTAssertEqual(collector.all.count, 3, "accepted after the third delivery")
        await c.shutdown()
        await producer.shutdown()
    }
}
