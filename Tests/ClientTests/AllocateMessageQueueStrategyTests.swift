// Allocation strategies of the clustering rebalance (client.md §8.6), as pure functions: every queue goes
// to exactly one consumer, the shapes match RocketMQ's (averagely: contiguous blocks, the first `n % c`
// consumers one larger; by circle: round-robin), and consistent hashing moves few queues when a consumer
// joins. The MD5 behind the hash ring is checked against RFC 1321's vectors.

import Remoting
import XCTest
@testable import Client

final class AllocateMessageQueueStrategyTests: XCTestCase {
    let queues = (0..<8).map { MessageQueue(topic: "T", brokerName: "b", queueId: Int32($0)) }

    func ids(_ mqs: [MessageQueue]) -> [Int32] { mqs.map(\.queueId) }

    func allocations(_ s: any AllocateMessageQueueStrategy, _ mqAll: [MessageQueue], _ cids: [String]) -> [[MessageQueue]] {
        cids.map { s.allocate(group: "G", currentCID: $0, mqAll: mqAll, cidAll: cids) }
    }

    func assertPartition(_ parts: [[MessageQueue]], _ mqAll: [MessageQueue], file: StaticString = #filePath, line: UInt = #line) {
        let flat = parts.flatMap { $0 }
        XCTAssertEqual(flat.count, mqAll.count, "every queue exactly once", file: file, line: line)
        XCTAssertEqual(Set(flat), Set(mqAll), file: file, line: line)
    }

    func testAveragelyGivesContiguousBlocksWithTheFirstConsumersOneLarger() {
        let parts = allocations(AllocateMessageQueueAveragely(), queues, ["c0", "c1", "c2"])
        XCTAssertEqual(parts.map(ids), [[0, 1, 2], [3, 4, 5], [6, 7]])
        assertPartition(parts, queues)
        XCTAssertEqual(allocations(AllocateMessageQueueAveragely(), queues, ["c0", "c1"]).map(ids), [[0, 1, 2, 3], [4, 5, 6, 7]])
        // More consumers than queues: the extra consumers get nothing.
        let two = Array(queues.prefix(2))
        XCTAssertEqual(allocations(AllocateMessageQueueAveragely(), two, ["a", "b", "c"]).map(ids), [[0], [1], []])
        XCTAssertEqual(AllocateMessageQueueAveragely().allocate(group: "G", currentCID: "stranger", mqAll: queues, cidAll: ["c0"]), [])
    }

    func testByCircleDealsQueuesRoundRobin() {
        let parts = allocations(AllocateMessageQueueAveragelyByCircle(), queues, ["c0", "c1", "c2"])
        XCTAssertEqual(parts.map(ids), [[0, 3, 6], [1, 4, 7], [2, 5]])
        assertPartition(parts, queues)
    }

    func testConsistentHashPartitionsAndMovesFewQueuesWhenAConsumerJoins() {
        let many = (0..<64).map { MessageQueue(topic: "T", brokerName: "b", queueId: Int32($0)) }
        let five = (0..<5).map { "10.0.0.\($0)@\($0)" }
        let before = allocations(AllocateMessageQueueConsistentHash(), many, five)
        assertPartition(before, many)
        let six = five + ["10.0.0.9@9"]
        let after = allocations(AllocateMessageQueueConsistentHash(), many, six)
        assertPartition(after, many)
        var owner: [MessageQueue: String] = [:]
        for (cid, part) in zip(five, before) { for q in part { owner[q] = cid } }
        var moved = 0
        for (cid, part) in zip(six, after) { for q in part where owner[q] != cid { moved += 1 } }
        // Only queues taken by the newcomer move; far fewer than a reshuffle of all 64.
        XCTAssertEqual(moved, after.last?.count)
        XCTAssertLessThan(moved, 32)
    }

    func testMD5MatchesRFC1321Vectors() {
        func hex(_ s: String) -> String { MD5.digest(Array(s.utf8)).map { String(format: "%02x", $0) }.joined() }
        XCTAssertEqual(hex(""), "d41d8cd98f00b204e9800998ecf8427e")
        XCTAssertEqual(hex("abc"), "900150983cd24fb0d6963f7d28e17f72")
        XCTAssertEqual(hex("message digest"), "f96b697d7cb7938d525a2f31aaf161d0")
        XCTAssertEqual(hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890"),
                       "57edf4a22be3c955ac49da2e2107b67a")
    }
}
