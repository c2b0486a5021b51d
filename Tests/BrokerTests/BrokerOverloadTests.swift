// Overload against a real broker (issue 9, Must-show 1): more pipelined requests than the pull executor's
// queue holds are answered SYSTEM_BUSY with RocketMQ's remark while another client keeps being served; and a
// client that stops reading its socket after thousands of pipelined pulls of 32 x 4 KiB does not make the
// broker buffer the answers (its anonymous RSS stays bounded) while others are served.

import ApusTestSupport
import Foundation
import Logging
import NIOCore
import NIOPosix
import Remoting
import Synchronization
import XCTest

final class BrokerOverloadTests: BrokerClusterTestCase {
    /// The broker process's anonymous resident memory (heap, not mapped store files), in bytes.
    func brokerAnonRSS() throws -> Int {
        let pid = try XCTUnwrap(cluster.broker?.process.processIdentifier)
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix("RssAnon:") })
        let kb = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
        return kb * 1024
    }

    func pullFrame(topic: String, maxNums: Int32, opaque: Int32) throws -> [UInt8] {
        let h = PullMessageRequestHeader(consumerGroup: "FloodGroup", topic: topic, queueId: 0, queueOffset: 0, maxMsgNums: maxNums,
                                         sysFlag: 4, commitOffset: 0, suspendTimeoutMillis: 0, subscription: "*", subVersion: 0,
                                         expressionType: nil)
        var r = RemotingCommand.request(.pullMessage, header: h)
        r.opaque = opaque
        return try r.encodeFrame().allBytes
    }

    func fill(_ c: TestClient, topic: String, count: Int, bytes: Int) async throws {
        try await c.createTopic(topic, queues: 1)
        for i in 0..<count {
            let r = try await c.send(topic: topic, body: [UInt8](repeating: UInt8(i & 0xFF), count: bytes), queueId: 0)
            XCTAssertEqual(r.responseCode, .success)
        }
        _ = try await c.dispatchedMaxOffset(topic: topic, queueId: 0, atLeast: Int64(count))
    }

    /// What a well-behaved client checks while the broker is under load: its sends and offset queries answered.
    func assertServed(_ c: TestClient, rounds: Int, file: StaticString = #filePath, line: UInt = #line) async throws {
        for i in 0..<rounds {
            let r = try await c.send(topic: "Calm", body: Array("calm \(i)".utf8), queueId: 0)
            XCTAssertEqual(r.responseCode, .success, r.remark ?? "", file: file, line: line)
            let max = try await c.offsetRequest(.getMaxOffset, topic: "Calm", queueId: 0)
            XCTAssertGreaterThanOrEqual(max, 0, file: file, line: line)
        }
    }

    func testFloodBeyondThePullQueueIsAnsweredSystemBusyWhileOthersAreServed() async throws {
        let c = try await start(["pullMessageThreadPoolNums": "1", "pullThreadPoolQueueCapacity": "32"], namesrv: false)
        try await fill(c, topic: "Flood", count: 8, bytes: 4096)
        try await c.createTopic("Calm", queues: 1)
        let rssBefore = try brokerAnonRSS()

        let port = try XCTUnwrap(Int(cluster.brokerAddr.split(separator: ":").last ?? ""))
        let perSocket = 3000
        let sockets = try (0..<3).map { _ in try RawSocket(port: port) }
        let counts = FloodCounts()
        // Readers: every flood request must be answered, one way or the other.
        let readers = sockets.map { s in
            Task.detached {
                for _ in 0..<perSocket {
                    guard let frame = s.readFrame(), let r = try? RemotingCommand.decodeFrame(ByteBuffer(bytes: frame.dropFirst(4))) else { return false }
                    counts.seen.withLock { c in
                        switch r.responseCode {
                        case .success, .pullNotFound: c.success += 1
                        case .systemBusy: c.busy += 1; c.remarks.insert(r.remark ?? "")
                        default: c.other += 1
                        }
                    }
                }
                return true
            }
        }
        for (n, s) in sockets.enumerated() {
            var batch: [UInt8] = []
            for i in 0..<perSocket { batch += try pullFrame(topic: "Flood", maxNums: 8, opaque: Int32(n * perSocket + i + 1)) }
            let frames = batch
            Thread.detachNewThread { s.send(frames) }
        }
        try await assertServed(c, rounds: 50)
        for r in readers { let all = await r.value; XCTAssertTrue(all, "a flood request went unanswered") }
        let seen = counts.seen.withLock { $0 }
        XCTAssertEqual(seen.success + seen.busy + seen.other, 3 * perSocket)
        XCTAssertEqual(seen.other, 0)
        XCTAssertGreaterThan(seen.busy, 0, "the queue never overflowed: \(seen)")
        XCTAssertGreaterThan(seen.success, 0)
        for remark in seen.remarks {
            XCTAssertTrue(remark == "[OVERLOAD]system busy, start flow control for a while"
                          || remark.hasPrefix("[TIMEOUT_CLEAN_QUEUE]broker busy, start flow control for a while"), remark)
        }
        try await assertServed(c, rounds: 5)
        let growth = try brokerAnonRSS() - rssBefore
        print("flood: \(seen.success) answered, \(seen.busy) SYSTEM_BUSY, broker anonymous RSS +\(growth >> 20) MiB")
        XCTAssertLessThan(growth, 128 << 20, "broker grew by \(growth >> 20) MiB")
    }

    func testClientThatStopsReadingDoesNotMakeTheBrokerBufferItsAnswers() async throws {
        // Bodies copied onto the heap (RocketMQ's default), so buffered answers would show as anonymous memory.
        let c = try await start(["transferMsgByHeap": "true"], namesrv: false)
        try await fill(c, topic: "Big", count: 32, bytes: 4096)
        try await c.createTopic("Calm", queues: 1)
        let rssBefore = try brokerAnonRSS()

        let port = try XCTUnwrap(Int(cluster.brokerAddr.split(separator: ":").last ?? ""))
        let stalled = try RawSocket(port: port)
        var tv = timeval(tv_sec: 2, tv_usec: 0)  // the broker stops reading us: sends give up instead of blocking
        setsockopt(stalled.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var frames: [UInt8] = []
        let pulls = 20_000  // 20 000 x 128 KiB answers: 2.5 GiB if the broker buffered them
        for i in 0..<pulls { frames += try pullFrame(topic: "Big", maxNums: 32, opaque: Int32(i + 1)) }
        let sender = Task.detached { () -> Int in
            var sent = 0
            while sent < frames.count {
                let n = frames[sent...].withUnsafeBytes { Glibc.send(stalled.fd, $0.baseAddress, min($0.count, 65536), Int32(MSG_NOSIGNAL)) }
                if n <= 0 { break }
                sent += n
            }
            return sent
        }
        // Others are served while the stalled client's pulls are outstanding.
        try await assertServed(c, rounds: 30)
        let sentBytes = await sender.value
        XCTAssertGreaterThan(sentBytes, 64 * 1024, "too few pulls reached the broker to matter")
        // Long enough for a broker that kept reading to have answered (and buffered) thousands of them.
        var peak = try brokerAnonRSS()
        let until = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < until {
            try await assertServed(c, rounds: 1)
            peak = max(peak, try brokerAnonRSS())
            try await Task.sleep(for: .milliseconds(200))
        }
        let growth = peak - rssBefore
        print("stalled reader: \(sentBytes / 1024) KiB of pulls sent, broker anonymous RSS +\(growth >> 20) MiB")
        XCTAssertLessThan(growth, 256 << 20, "broker grew by \(growth >> 20) MiB for a client that does not read")
        // A pull from a reading client still gets its messages.
        let r = try await c.pull(group: "Reader", topic: "Big", queueId: 0, offset: 0)
        XCTAssertEqual(r.responseCode, .success)
        withExtendedLifetime(stalled) {}
    }
}

final class FloodCounts: Sendable {
    let seen = Mutex<(success: Int, busy: Int, other: Int, remarks: Set<String>)>((0, 0, 0, []))
}
