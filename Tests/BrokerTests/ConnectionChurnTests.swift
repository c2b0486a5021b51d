// Connection churn against real mqbroker and mqnamesrv processes (issue 15, point 1): 20 000 connect/close
// cycles, clean and with a malformed 100 KB frame before each close, leave both servers' resident memory
// where it was (each closed connection used to keep its handler, channel and buffers: ~4 KB each).

import ApusTestSupport
import Foundation
import XCTest

final class ConnectionChurnTests: BrokerClusterTestCase {
    func rss(_ pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        return (Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0) * 1024
    }

    func churn(port: Int, cycles: Int, malformed: Bool) throws {
        // A frame that declares a 100 KB header it never sends in full, then the connection closes.
        var bad: [UInt8] = [0x00, 0x01, 0x86, 0xA4, 0x00, 0x01, 0x86, 0xA0]
        bad += [UInt8](repeating: 0x7B, count: 100_000)
        for _ in 0..<cycles {
            let s = try RawSocket(port: port)
            if malformed { s.send(bad) }
        }
    }

    /// RSS after the churn, once the server has processed every close (it settles within a few seconds).
    func settledGrowth(_ pid: Int32, from before: Int) async throws -> Int {
        var last = try rss(pid)
        for _ in 0..<20 {
            try await Task.sleep(for: .milliseconds(250))
            let now = try rss(pid)
            if abs(now - last) < 64 * 1024 { return now - before }
            last = now
        }
        return last - before
    }

    func testTwentyThousandConnectionsLeaveNoMemoryBehind() async throws {
        _ = try await start()
        let brokerPid = try XCTUnwrap(cluster.broker?.process.processIdentifier)
        let namesrvPid = try XCTUnwrap(cluster.namesrv?.process.processIdentifier)
        let brokerPort = try XCTUnwrap(Int(cluster.brokerAddr.split(separator: ":").last ?? ""))
        let namesrvPort = try XCTUnwrap(Int(cluster.namesrvAddr.split(separator: ":").last ?? ""))
        // Warm-up: malloc's per-thread arenas and NIO's pools reach their working size first (a 100 KB frame
        // buffer per connection leaves free memory in whichever arena served it: that plateaus, a leak does not).
        // The warm-up is as long as a measured batch, so the batch measures steady state (a leak keeps growing).
        try churn(port: brokerPort, cycles: 20_000, malformed: true)
        try churn(port: namesrvPort, cycles: 20_000, malformed: true)
        _ = try await settledGrowth(brokerPid, from: 0)
        _ = try await settledGrowth(namesrvPid, from: 0)
        for (name, pid, port) in [("broker", brokerPid, brokerPort), ("namesrv", namesrvPid, namesrvPort)] {
            for malformed in [false, true] {
                // A leak grows every batch; the allocator settling (arenas, NIO pools) happens once. So a kind passes
                // when one of up to three consecutive batches stays under the bound: under a loaded CI machine the
                // first batch after the warm-up has been seen to keep 11 MiB, the next one nothing.
                var growths: [Int] = []
                for _ in 0..<3 {
                    let before = try rss(pid)
                    try churn(port: port, cycles: 20_000, malformed: malformed)
                    let growth = try await settledGrowth(pid, from: before)
                    growths.append(growth)
                    print("churn: \(name) \(malformed ? "malformed" : "clean") 20000 cycles: RSS \(growth >= 0 ? "+" : "")\(growth / 1024) KiB")
                    if growth < 8 << 20 { break }
                }
                // The leak this guards against kept ~4 KiB a connection (78 MiB a batch): every batch would fail.
                XCTAssertLessThan(growths.min() ?? .max, 8 << 20,
                                  "\(name) kept \(growths.map { $0 >> 20 }) MiB after batches of 20 000 \(malformed ? "malformed" : "clean") connections")
            }
        }
        // Both still serve.
        let c = TestClient(client: client, address: cluster.brokerAddr)
        let r = try await c.send(topic: "AfterChurn", body: [1])
        XCTAssertEqual(r.responseCode, .success, r.remark ?? "")
    }
}
