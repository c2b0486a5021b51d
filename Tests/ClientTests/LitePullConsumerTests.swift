// LitePullConsumer against real processes: subscribe-and-poll, assign, seek back, manual commit.

import ApusTestSupport
import Client
import Foundation
import Remoting
import XCTest

final class LitePullConsumerTests: XCTestCase {
    func pollAll(_ c: LitePullConsumer, count: Int) async throws -> [MessageExt] {
        var got: [MessageExt] = []
        try await waitUntil("\(count) polled") {
            got += await c.poll(timeoutMs: 100)
            return got.count >= count
        }
        return got
    }

    func testSubscribedConsumerPollsEverythingAndCommitsOffsets() async throws {
        let cluster = try await Cluster.started()
        addTeardownBlock { await cluster.stopAll() }
        try await cluster.createTopic("LiteTopic", queues: 4)
        let producer = Producer(group: "lite_producer", config: cluster.clientConfig)
        try await producer.start()
        for i in 0..<40 { _ = try await producer.send(Message(topic: "LiteTopic", body: "lite-\(i)")) }
        var opts = LitePullConsumerOptions()
        opts.consumeFromWhere = .firstOffset
        opts.autoCommit = false
        let c = LitePullConsumer(group: "lite_group", config: cluster.clientConfig, options: opts)
        try c.subscribe("LiteTopic")
        try await c.start()
        let got = try await pollAll(c, count: 40)
        XCTAssertEqual(Set(got.map { String(decoding: $0.body, as: UTF8.self) }), Set((0..<40).map { "lite-\($0)" }))
        var offsets: [MessageQueue: Int64] = [:]
        for mq in c.assignment { offsets[mq] = Int64(got.filter { $0.queueId == mq.queueId }.count) }
        await c.commit(offsets, persist: true)
        for mq in c.assignment {
            let expected = Int64(got.filter { $0.queueId == mq.queueId }.count)
            let committed = await c.committed(mq)
            XCTAssertEqual(committed, expected, "\(mq)")
        }
        await c.shutdown()
        await producer.shutdown()
    }

    func testAssignedConsumerSeeksBackAndReadsAgain() async throws {
        let cluster = try await Cluster.started()
        addTeardownBlock { await cluster.stopAll() }
        try await cluster.createTopic("SeekTopic", queues: 1)
        let producer = Producer(group: "seek_producer", config: cluster.clientConfig)
        try await producer.start()
        for i in 0..<10 { _ = try await producer.send(Message(topic: "SeekTopic", body: "s-\(i)")) }
        var opts = LitePullConsumerOptions()
        opts.consumeFromWhere = .firstOffset
        let c = LitePullConsumer(group: "seek_group", config: cluster.clientConfig, options: opts)
        try await c.start()
        let queues = try await c.fetchMessageQueues("SeekTopic")
        try await c.assign(queues)
        let first = try await pollAll(c, count: 10)
        XCTAssertEqual(first.map(\.queueOffset), Array(0..<10))
        try await c.seek(queues[0], to: 7)
        let again = try await pollAll(c, count: 3)
        XCTAssertEqual(again.map(\.queueOffset), [7, 8, 9])
        do {
            try await c.seek(queues[0], to: 99)
            XCTFail("seek beyond the max offset must fail")
        } catch {}
        await c.shutdown()
        await producer.shutdown()
    }
}
