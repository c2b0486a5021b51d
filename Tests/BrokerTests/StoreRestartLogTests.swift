// StoreRestartLogTests: what a restarted mqbroker process logs about its CommitLog's tail. After a clean
// stop the zero rest of the last file is room for the next message, so nothing is reported cut; a real
// garbage tail (non-zero bytes that are no valid record) is still reported, with its size, and cut.

import ApusTestSupport
import Foundation
import Remoting
import XCTest

final class StoreRestartLogTests: BrokerClusterTestCase {
    /// Where the written data of the (only) CommitLog file ends: one past its last non-zero byte. Every
    /// record ends with its properties, whose last byte is the separator 2, so this is the log's end.
    func commitLogEnd() throws -> (path: String, end: Int) {
        let dir = cluster.storeDirectory.appendingPathComponent("commitlog")
        let name = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted().first)
        let path = dir.appendingPathComponent(name).path
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let last = try XCTUnwrap(data.lastIndex { $0 != 0 })
        return (path, last + 1)
    }

    func restart() async throws -> String {
        await cluster.stopBroker()
        try await cluster.startBroker(listenPort: cluster.brokerPort)
        let b = try XCTUnwrap(cluster.broker)
        return b.output.value
    }

    func testCleanRestartReportsNoTailCutAndAGarbageTailIsReportedAndCut() async throws {
        let c = try await start(namesrv: false)
        try await c.createTopic("TailTopic", queues: 1)
        for i in 0..<20 {
            let r = try await c.send(topic: "TailTopic", body: Array(repeating: UInt8(i + 1), count: 100), queueId: 0)
            XCTAssertEqual(r.responseCode, .success, r.remark ?? "")
        }
        _ = try await c.dispatchedMaxOffset(topic: "TailTopic", queueId: 0, atLeast: 20)

        // Clean stop and start: the 64 MiB file is mostly zeros, none of which is a cut.
        let clean = try await restart()
        XCTAssertTrue(clean.contains("store loaded: clean previous exit"), clean)
        XCTAssertTrue(clean.contains("no tail cut"), clean)
        XCTAssertFalse(clean.contains("bytes past the valid tail cut"), clean)
        XCTAssertFalse(clean.contains("torn or corrupt tail"), clean)
        let (path, end) = try commitLogEnd()

        // Garbage after the last record (as a torn write leaves): reported with its size, then cut.
        await cluster.stopBroker()
        let fd = open(path, O_RDWR)
        XCTAssertGreaterThanOrEqual(fd, 0)
        let garbage = [UInt8](repeating: 0xAB, count: 100)
        XCTAssertEqual(pwrite(fd, garbage, garbage.count, off_t(end)), garbage.count)
        close(fd)
        try await cluster.startBroker(listenPort: cluster.brokerPort)
        let damaged = try XCTUnwrap(cluster.broker).output.value
        XCTAssertTrue(damaged.contains("CommitLog ends at \(end)"), damaged)
        XCTAssertTrue(damaged.contains("100 bytes past the valid tail cut"), damaged)

        // Nothing valid was lost, the next message goes where the garbage was, and the next clean restart
        // is quiet again.
        let c2 = TestClient(client: client, address: cluster.brokerAddr)
        let kept = try await c2.pullAll(group: "G", topic: "TailTopic", queueId: 0)
        XCTAssertEqual(kept.count, 20)
        let r = try await c2.send(topic: "TailTopic", body: [7], queueId: 0)
        XCTAssertEqual(r.responseCode, .success, r.remark ?? "")
        let messages = try await waitForMessages(c2, topic: "TailTopic", queueId: 0, count: 21)
        XCTAssertEqual(messages.last?.physicalOffset, Int64(end))
        let again = try await restart()
        XCTAssertTrue(again.contains("no tail cut"), again)
        XCTAssertFalse(again.contains("torn or corrupt tail"), again)
    }
}
