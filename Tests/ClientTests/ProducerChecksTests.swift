// What every send does before it reaches the wire: the UNIQ_KEY id (client.md §5.5) and the topic checks
// (§5.2), with the texts RocketMQ users read. Pure functions; no processes.

import XCTest

@testable import Client

final class ProducerChecksTests: XCTestCase {
    func testUniqueIdsAreThirtyTwoHexDigitsWithAStablePrefixAndACounter() throws {
        let ids = (0..<1000).map { _ in MessageClientIDSetter.createUniqID() }
        XCTAssertEqual(Set(ids).count, ids.count)
        let hex = Set("0123456789ABCDEF".utf8)
        for id in ids {
            XCTAssertEqual(id.utf8.count, 32, id)
            XCTAssertTrue(id.utf8.allSatisfy(hex.contains), id)
            XCTAssertEqual(id.prefix(20), ids[0].prefix(20), "IP, pid and the random value are fixed per process")
        }
        // The last four digits are a counter that steps by one from id to id.
        let counters = ids.prefix(2).map { UInt16($0.suffix(4), radix: 16) }
        XCTAssertEqual(counters[1].map { $0 &- (counters[0] ?? 0) }, 1)
    }

    func testTopicChecksGiveRocketMQsTexts() {
        func text(_ topic: String) -> String? {
            do { try Validators.checkTopic(topic); return nil } catch { return "\(error)" }
        }
        XCTAssertNil(text("TopicTest_1-%|"))
        XCTAssertTrue(text("")?.contains("is blank") ?? false)
        XCTAssertTrue(text("  \t")?.contains("is blank") ?? false)
        XCTAssertTrue(text("a b")?.contains("contains illegal characters") ?? false)
        XCTAssertTrue(text("tópico")?.contains("contains illegal characters") ?? false)
        XCTAssertTrue(text(String(repeating: "t", count: 128))?.contains("longer than topic max length 127") ?? false)
        XCTAssertTrue(text("SCHEDULE_TOPIC_XXXX")?.contains("is forbidden") ?? false)
    }
}
