// MQBenchTests: `mqbench producer` and `mqbench consumer` against real mqnamesrv/mqbroker processes, as
// `make bench` runs them: the producer's quantity mode sends exactly what it reports, with every answer
// SEND_OK, and the consumer then receives all of it.
import ApusTestSupport
import Foundation
import XCTest

final class MQBenchTests: XCTestCase {
    private func summaryFields(_ line: Substring) -> [String: Double] {
        Dictionary(line.dropFirst("[Summary] ".count).split(separator: "|").compactMap { part -> (String, Double)? in
            let kv = part.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, let v = Double(kv[1]) else { return nil }
            return (kv[0], v)
        }, uniquingKeysWith: { a, _ in a })
    }

    func testProducerSendsItsQuantityAllSendOKAndTheConsumerReceivesAll() async throws {
        let cluster = try await Cluster.started()
        addTeardownBlock { await cluster.stopAll() }
        try await cluster.createTopic("BenchTestTopic", queues: 8)
        let bench = try findBinary("mqbench", env: "APUS_MQBENCH")
        let produced = try await runToCompletion(bench, [
            "producer", "-n", cluster.namesrvAddr, "-t", "BenchTestTopic", "-w", "16", "-s", "512", "-q", "3000", "-ri", "1000",
        ], timeout: .seconds(60))
        XCTAssertEqual(produced.status, 0, produced.stdout + produced.stderr)
        XCTAssertTrue(produced.stdout.contains("[Complete] Send Total: 3000 |"), produced.stdout)
        XCTAssertTrue(produced.stdout.contains("Send Failed: 0 | Response Failed: 0"), produced.stdout)
        let summary = try XCTUnwrap(produced.stdout.split(separator: "\n").last { $0.hasPrefix("[Summary]") }, produced.stdout)
        let p = summaryFields(summary)
        XCTAssertEqual(p["total msgs"], 3000, String(summary))
        XCTAssertEqual(p["not SEND_OK"], 0, String(summary))
        XCTAssertGreaterThan(p["msgs/s"] ?? 0, 0, String(summary))
        XCTAssertLessThanOrEqual(p["p50(ms)"] ?? .infinity, p["p99(ms)"] ?? 0, String(summary))
        // The summary is the last line: no interval report after it.
        XCTAssertTrue(produced.stdout.split(separator: "\n").last?.hasPrefix("[Summary]") ?? false, produced.stdout)

        let consumed = try await runToCompletion(bench, [
            "consumer", "-n", cluster.namesrvAddr, "-t", "BenchTestTopic", "-g", "bench_test_consumer", "-w", "8",
            "--expect", "3000", "--duration", "60", "-ri", "1000",
        ], timeout: .seconds(90))
        XCTAssertEqual(consumed.status, 0, consumed.stdout + consumed.stderr)
        let c = try XCTUnwrap(consumed.stdout.split(separator: "\n").last { $0.hasPrefix("[Summary]") }, consumed.stdout)
        XCTAssertEqual(summaryFields(c)["consumed"], 3000, String(c))
    }
}
