// Queue locks of orderly consumers against a real `mqbroker` (broker.md §10): LOCK_BATCH_MQ grants a queue to
// one client of a group at a time and renews it for its holder; UNLOCK_BATCH_MQ frees only the caller's
// queues; a lock not renewed within rebalanceLockMaxLiveTime can be taken over; while a group holds locks, a
// message it sends to %RETRY%<group> goes to %DLQ%<group> at once; a malformed body is refused and changes
// nothing. The lock lifetime is shortened to 1 s here so the takeover is awaited in about a second.

import ApusTestSupport
import Foundation
import NIOCore
import Remoting
import XCTest

final class BrokerOrderlyLockTests: BrokerClusterTestCase {
    let topic = "OrderTopic"

    func queues(_ ids: [Int32]) -> Set<MessageQueue> {
        Set(ids.map { MessageQueue(topic: topic, brokerName: "broker-a", queueId: $0) })
    }

    /// The queue ids granted to `clientId`.
    func lock(_ group: String, _ clientId: String, _ ids: [Int32]) async throws -> Set<Int32> {
        let body = LockBatchRequestBody(consumerGroup: group, clientId: clientId, mqSet: queues(ids))
        let r = try await client.invokeSync(cluster.brokerAddr, .request(.lockBatchMQ, body: body.encode()))
        XCTAssertEqual(r.responseCode, .success, r.remark ?? "")
        return Set(try LockBatchResponseBody.decode(XCTUnwrap(r.body)).lockOKMQSet.map(\.queueId))
    }

    func unlock(_ group: String, _ clientId: String, _ ids: [Int32]) async throws {
        let body = LockBatchRequestBody(consumerGroup: group, clientId: clientId, mqSet: queues(ids))
        let r = try await client.invokeSync(cluster.brokerAddr, .request(.unlockBatchMQ, body: body.encode()))
        XCTAssertEqual(r.responseCode, .success, r.remark ?? "")
    }

    func testOneHolderPerQueueUntilItUnlocks() async throws {
        let c = try await start(namesrv: false)
        try await c.createTopic(topic, queues: 4)
        let got1 = try await lock("OrderGroup", "10.0.0.1@1", [0, 1])
        XCTAssertEqual(got1, [0, 1])
        // Another client of the group gets only the queue nobody holds.
        let got2 = try await lock("OrderGroup", "10.0.0.2@2", [1, 2])
        XCTAssertEqual(got2, [2])
        // The holder renews; another group is independent.
        let got3 = try await lock("OrderGroup", "10.0.0.1@1", [0, 1])
        XCTAssertEqual(got3, [0, 1])
        let got4 = try await lock("OtherGroup", "10.0.0.2@2", [1])
        XCTAssertEqual(got4, [1])
        // Unlocking a queue one does not hold changes nothing; the holder's unlock frees it.
        try await unlock("OrderGroup", "10.0.0.2@2", [1])
        let got5 = try await lock("OrderGroup", "10.0.0.2@2", [1])
        XCTAssertEqual(got5, [])
        try await unlock("OrderGroup", "10.0.0.1@1", [1])
        let got6 = try await lock("OrderGroup", "10.0.0.2@2", [1])
        XCTAssertEqual(got6, [1])
    }

    func testAnExpiredLockIsTakenOver() async throws {
        let c = try await start(["rebalanceLockMaxLiveTime": "1000"], namesrv: false)
        try await c.createTopic(topic, queues: 1)
        let got7 = try await lock("OrderGroup", "10.0.0.1@1", [0])
        XCTAssertEqual(got7, [0])
        let got8 = try await lock("OrderGroup", "10.0.0.2@2", [0])
        XCTAssertEqual(got8, [])
        // The holder stops renewing: the queue goes to the other client once the lock has lived 1 s.
        let began = ContinuousClock.now
        var granted: Set<Int32> = []
        while granted.isEmpty && ContinuousClock.now - began < .seconds(10) {
            granted = try await lock("OrderGroup", "10.0.0.2@2", [0])
            if granted.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        }
        XCTAssertEqual(granted, [0])
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - began, .milliseconds(900))
        let got9 = try await lock("OrderGroup", "10.0.0.1@1", [0])
        XCTAssertEqual(got9, [], "the old holder lost it")
    }

    func testRetriesOfAGroupHoldingLocksGoToTheDeadLetterTopic() async throws {
        let c = try await start(namesrv: false)
        try await c.createTopic(topic, queues: 1)
        // No lock: a retry message stays in %RETRY%.
        let plain = try await c.send(topic: "%RETRY%Plain", body: Array("a".utf8), queueId: 0,
                                     props: [("WAIT", "true"), ("RETRY_TOPIC", topic)])
        XCTAssertEqual(plain.responseCode, .success, plain.remark ?? "")
        let plainRetries = try await waitForMessages(c, topic: "%RETRY%Plain", queueId: 0, count: 1)
        XCTAssertEqual(plainRetries.count, 1)
        // The orderly group holds a queue: its retry goes to %DLQ% directly.
        let got10 = try await lock("Ordered", "10.0.0.1@1", [0])
        XCTAssertEqual(got10, [0])
        let r = try await c.send(topic: "%RETRY%Ordered", body: Array("b".utf8), queueId: 0,
                                 props: [("WAIT", "true"), ("RETRY_TOPIC", topic)])
        XCTAssertEqual(r.responseCode, .success, r.remark ?? "")
        let dead = try await waitForMessages(c, topic: "%DLQ%Ordered", queueId: 0, count: 1)
        XCTAssertEqual(dead.map(\.body), [Array("b".utf8)])
        XCTAssertEqual(dead.first?.properties["DELAY"], "-1")
        // Dispatch has passed the message (it is in the DLQ), so an empty retry queue means it never went there.
        let orderedRetries = try await c.pullAll(group: "Probe", topic: "%RETRY%Ordered", queueId: 0)
        XCTAssertEqual(orderedRetries.count, 0)
    }

    func testMalformedLockBodiesAreRefused() async throws {
        let c = try await start(namesrv: false)
        try await c.createTopic(topic, queues: 1)
        for body in [nil, ByteBuffer(string: "{not json"), ByteBuffer(string: "[1,2]")] as [ByteBuffer?] {
            let r = try await client.invokeSync(cluster.brokerAddr, .request(.lockBatchMQ, body: body))
            XCTAssertNotEqual(r.responseCode, .success)
            XCTAssertFalse((r.remark ?? "").isEmpty)
        }
        // Nothing was locked, and the broker still serves locks.
        let got11 = try await lock("OrderGroup", "10.0.0.1@1", [0])
        XCTAssertEqual(got11, [0])
    }
}
