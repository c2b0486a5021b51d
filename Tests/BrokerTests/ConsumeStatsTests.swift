// ConsumeStatsTests: GET_CONSUME_STATS through `mqadmin consumerProgress` against real mqnamesrv/mqbroker
// processes — the topics a group is reported for (Java's rules: the requested topic, else the group's
// offset topics; while it is online only those it subscribes to, its %RETRY% topic included) and a consume
// TPS from the broker's own count of messages pulled per group@topic, non-zero right after consuming.

import ApusTestSupport
import Common
import Foundation
import Remoting
import XCTest

final class ConsumeStatsTests: BrokerClusterTestCase {
    func mqadmin(_ args: String...) async throws -> CommandRun {
        try await runToCompletion(try findBinary("mqadmin", env: "APUS_MQADMIN"), args + ["-n", cluster.namesrvAddr])
    }

    func heartbeat(group: String, topics: [String]) async throws {
        let data = HeartbeatData(clientID: "127.0.0.1@stats-test", consumerDataSet: [ConsumerData(
            groupName: group, subscriptionDataSet: topics.map { SubscriptionData(topic: $0, subString: "*") })])
        let r = try await client.invokeSync(cluster.brokerAddr, .request(.heartBeat, body: data.encode()))
        XCTAssertEqual(r.responseCode, .success, r.remark ?? "")
    }

    func commit(group: String, topic: String, queueId: Int32, offset: Int64) async throws {
        let r = try await client.invokeSync(cluster.brokerAddr, .request(.updateConsumerOffset, header: UpdateConsumerOffsetRequestHeader(
            consumerGroup: group, topic: topic, queueId: queueId, commitOffset: offset)))
        XCTAssertEqual(r.responseCode, .success, r.remark ?? "")
    }

    func consumeStats(group: String, topic: String? = nil) async throws -> ConsumeStats {
        let r = try await client.invokeSync(cluster.brokerAddr, .request(.getConsumeStats, header: GetConsumeStatsRequestHeader(
            consumerGroup: group, topic: topic)))
        XCTAssertEqual(r.responseCode, .success, r.remark ?? "")
        return try ConsumeStats.decode(try XCTUnwrap(r.body))
    }

    func testAGroupThatConsumedShowsItsTopicsAndANonZeroTPSRightAfterConsuming() async throws {
        let c = try await start()
        try await c.createTopic("StatsTopic", queues: 2)
        try await c.createTopic("OtherTopic", queues: 1)
        for i in 0..<20 {
            let r = try await c.send(topic: "StatsTopic", body: [UInt8(i)], queueId: Int32(i % 2))
            XCTAssertEqual(r.responseCode, .success)
        }
        for q: Int32 in [0, 1] { _ = try await c.dispatchedMaxOffset(topic: "StatsTopic", queueId: q, atLeast: 10) }

        // Online, subscribed to StatsTopic and its retry topic (as a clustering push consumer is).
        try await heartbeat(group: "StatsCG", topics: ["StatsTopic", "%RETRY%StatsCG"])
        for q: Int32 in [0, 1] {
            let got = try await c.pullAll(group: "StatsCG", topic: "StatsTopic", queueId: q)
            XCTAssertEqual(got.count, 10)
            try await commit(group: "StatsCG", topic: "StatsTopic", queueId: q, offset: 10)
        }
        try await commit(group: "StatsCG", topic: "%RETRY%StatsCG", queueId: 0, offset: 0)
        // An offset for a topic the group no longer subscribes to: not reported while it is online (Java).
        try await commit(group: "StatsCG", topic: "OtherTopic", queueId: 0, offset: 0)

        let progress = try await runEventually { try await self.mqadmin("consumerProgress", "-g", "StatsCG") } until: {
            $0.status == 0 && $0.stdout.contains("%RETRY%StatsCG")
        }
        XCTAssertEqual(progress.status, 0, progress.stdout + progress.stderr)
        let rows = progress.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        let statsRows = rows.filter { $0.first == "StatsTopic" }
        XCTAssertEqual(statsRows.map { Array($0.prefix(6)) }, [
            ["StatsTopic", "broker-a", "0", "10", "10", "0"], ["StatsTopic", "broker-a", "1", "10", "10", "0"],
        ])
        XCTAssertEqual(rows.filter { $0.first == "%RETRY%StatsCG" }.count, 1)
        XCTAssertFalse(progress.stdout.contains("OtherTopic"), progress.stdout)
        let tpsLine = try XCTUnwrap(progress.stdout.split(separator: "\n").first { $0.hasPrefix("Consume TPS: ") })
        let tps = try XCTUnwrap(Double(tpsLine.dropFirst("Consume TPS: ".count)))
        XCTAssertGreaterThan(tps, 0, progress.stdout)

        // The requested topic only.
        let one = try await consumeStats(group: "StatsCG", topic: "StatsTopic")
        XCTAssertEqual(Set(one.offsetTable.keys.map(\.topic)), ["StatsTopic"])
        XCTAssertGreaterThan(one.consumeTps, 0)

        // A group nobody runs: every topic it has offsets for, and no rate (it pulled nothing). Its first
        // (empty) pull creates it.
        _ = try await c.pull(group: "OfflineCG", topic: "OtherTopic", queueId: 0, offset: 0)
        try await commit(group: "OfflineCG", topic: "StatsTopic", queueId: 0, offset: 3)
        try await commit(group: "OfflineCG", topic: "OtherTopic", queueId: 0, offset: 0)
        let offline = try await consumeStats(group: "OfflineCG")
        XCTAssertEqual(Set(offline.offsetTable.keys.map(\.topic)), ["StatsTopic", "OtherTopic"])
        XCTAssertEqual(offline.consumeTps, 0)
    }

    /// Reruns `body` until `done` holds (at most ~10 s); returns the last result.
    func runEventually(_ body: () async throws -> CommandRun, until done: (CommandRun) -> Bool) async throws -> CommandRun {
        var last = try await body()
        for _ in 0..<40 where !done(last) {
            try await Task.sleep(for: .milliseconds(250))
            last = try await body()
        }
        return last
    }
}
