// A broker under a low descriptor limit flooded with idle connections while a producer sends across many
// CommitLog segment rolls (issue 14, must-show 1). Before, 1 019 idle connections under the default limit
// starved the store of descriptors for its next segment and the broker died on a trap; now connections past
// the reserve are closed at accept, idle ones are closed after serverChannelMaxIdleTimeSeconds, every send is
// answered, and sends succeed again once the flood is gone.

import ApusTestSupport
import Foundation
import Glibc
import XCTest

final class DescriptorExhaustionTests: BrokerClusterTestCase {
    /// True when the peer closed `s` (EOF waiting), false while it is open and silent.
    func closedByPeer(_ s: RawSocket) -> Bool {
        var byte: UInt8 = 0
        let n = recv(s.fd, &byte, 1, Int32(MSG_DONTWAIT | MSG_PEEK))
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }

    func testBrokerUnderLowDescriptorLimitSurvivesAConnectionFloodAndSendsResume() async throws {
        cluster = try Cluster(extraConfig: [
            "mappedFileSizeCommitLog": String(1 << 20), "serverChannelMaxIdleTimeSeconds": "4",
        ])
        cluster.brokerLaunchPrefix = ["/usr/bin/prlimit", "--nofile=256:256"]
        try await cluster.startNamesrv()
        try await cluster.startBroker()
        let broker = try XCTUnwrap(cluster.broker)
        XCTAssertTrue(broker.output.value.contains("open files limit: soft 256, hard 256; connections accepted up to 128"),
                      broker.output.value)
        let c = TestClient(client: client, address: cluster.brokerAddr)
        let body = [UInt8](repeating: 0x61, count: 2048)
        let first = try await c.send(topic: "FdFlood", body: body, queueId: 0)
        XCTAssertEqual(first.responseCode, .success, first.remark ?? "")

        // The producer: 4 000 sends of 2 KiB (about eight 1 MiB segment rolls) while the flood runs.
        let producer = Task { () -> (ok: Int, answered: Int, failed: [String]) in
            var ok = 0, answered = 0
            var failed: [String] = []
            for _ in 0..<4_000 {
                do {
                    let r = try await c.send(topic: "FdFlood", body: body, queueId: 0)
                    answered += 1
                    if r.responseCode == .success { ok += 1 } else if failed.count < 5 { failed.append("\(r.responseCode): \(r.remark ?? "")") }
                } catch {
                    if failed.count < 5 { failed.append("no answer: \(error)") }
                }
            }
            return (ok, answered, failed)
        }
        // The flood: connections that never send, until the broker closes new ones at accept.
        var flood: [RawSocket] = []
        for _ in 0..<300 {
            guard let s = try? RawSocket(port: cluster.brokerPort) else { break }
            flood.append(s)
        }
        try await waitUntil("connections past the limit closed by the broker") {
            flood.contains { self.closedByPeer($0) }
        }
        let result = await producer.value
        XCTAssertEqual(result.answered, 4_000, "every send is answered: \(result.failed)")
        XCTAssertTrue(broker.process.isRunning, "the broker died: \(broker.output.value.suffix(3000))")
        print("fd flood: \(result.ok) of 4000 sends SEND_OK during the flood; \(flood.filter(closedByPeer).count) of \(flood.count) flood connections closed")

        // Idle connections go away by themselves (serverChannelMaxIdleTimeSeconds=4) and sends succeed again.
        try await waitUntil("idle flood connections closed", timeout: .seconds(30)) {
            flood.allSatisfy { self.closedByPeer($0) }
        }
        flood.removeAll()
        var after = 0
        for _ in 0..<200 {
            let r = try await c.send(topic: "FdFlood", body: body, queueId: 0)
            XCTAssertEqual(r.responseCode, .success, r.remark ?? "")
            if r.responseCode == .success { after += 1 }
        }
        XCTAssertEqual(after, 200)
        // Nothing acknowledged is lost: the queue holds exactly the messages answered SEND_OK.
        let expected = 1 + result.ok + after
        let got = try await waitForMessages(c, topic: "FdFlood", queueId: 0, count: expected)
        XCTAssertEqual(got.count, expected)
        XCTAssertTrue(broker.process.isRunning)
    }

    func testIdleConnectionIsClosedAfterTheConfiguredTimeAndAnActiveOneIsNot() async throws {
        let c = try await start(["serverChannelMaxIdleTimeSeconds": "2"])
        let idle = try RawSocket(port: cluster.brokerPort)
        let began = ContinuousClock.now
        try await waitUntil("idle connection closed", timeout: .seconds(15)) { self.closedByPeer(idle) }
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - began, .seconds(1))
        // A connection that keeps talking is kept past the idle time: the same socket (no reconnect possible)
        // answers GET_BROKER_RUNTIME_INFO for three idle periods.
        let active = try RawSocket(port: cluster.brokerPort)
        for opaque in 1...6 {
            active.send(RawFrames.frame(headerJSON: #"{"code":28,"language":"JAVA","version":399,"opaque":\#(opaque),"flag":0,"extFields":{}}"#))
            let frame = try RawFrames.parse(try XCTUnwrap(active.readFrame(), "no answer on the active connection"))
            XCTAssertEqual(frame.header["opaque"]?.int64Value, Int64(opaque))
            // Idle time between requests is the behaviour under test: a second each, 6 s in all against a 2 s limit.
            try await Task.sleep(for: .seconds(1))
        }
        XCTAssertFalse(closedByPeer(active))
        _ = c
    }
}
