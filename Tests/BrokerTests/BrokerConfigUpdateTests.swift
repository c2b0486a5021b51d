// BrokerConfigUpdateTests: `mqadmin updateBrokerConfig` against real mqnamesrv/mqbroker processes —
// brokerPermission reaches the NameServer's routes at once (not at the next periodic registration), and
// store keys change what the running broker reports and uses, while a key read only at start, an
// unknown key or an unparsable value is refused by name with nothing changed.

import ApusTestSupport
import Foundation
import NIOCore
import Remoting
import XCTest

final class BrokerConfigUpdateTests: BrokerClusterTestCase {
    func mqadmin(_ args: String...) async throws -> CommandRun {
        try await runToCompletion(try findBinary("mqadmin", env: "APUS_MQADMIN"), args + ["-n", cluster.namesrvAddr])
    }

    func route(_ topic: String) async throws -> TopicRouteData? {
        let r = try await client.invokeSync(cluster.namesrvAddr, .request(.getRouteInfoByTopic, header: GetRouteInfoRequestHeader(topic: topic)))
        return r.responseCode == .success ? try TopicRouteData.decode(try XCTUnwrap(r.body)) : nil
    }

    /// Polls the NameServer until the topic's perm is `perm` or `deadline` passes; returns the last perm seen.
    func awaitRoutePerm(_ topic: String, _ perm: Int32, within deadline: Duration) async throws -> Int32? {
        let end = ContinuousClock.now + deadline
        var seen: Int32?
        repeat {
            seen = try await route(topic)?.queueDatas.first?.perm
            if seen == perm { return seen }
            try await Task.sleep(for: .milliseconds(20))
        } while ContinuousClock.now < end
        return seen
    }

    /// GET_BROKER_CONFIG as `key=value` pairs.
    func brokerConfig() async throws -> [String: String] {
        let r = try await client.invokeSync(cluster.brokerAddr, .request(.getBrokerConfig))
        XCTAssertEqual(r.responseCode, .success)
        return parseJavaPropertiesForTest(String(decoding: r.bodyBytes, as: UTF8.self))
    }

    func testBrokerPermissionFourReachesTheNameServerAtOnceAndRefusesOrderTopicSends() async throws {
        // registerNameServerPeriod at RocketMQ's default: without an immediate registration the route would
        // keep its write bit for up to 30 s.
        let c = try await start(["registerNameServerPeriod": "30000"])
        let b = cluster.brokerAddr
        let created = try await mqadmin("updateTopic", "-b", b, "-t", "DrainOrderTopic", "-r", "2", "-w", "2", "-o", "true")
        XCTAssertEqual(created.status, 0, created.stdout + created.stderr)
        let before = try await awaitRoutePerm("DrainOrderTopic", 6, within: .seconds(5))
        XCTAssertEqual(before, 6)
        let ok = try await c.send(topic: "DrainOrderTopic", body: [1], queueId: 0)
        XCTAssertEqual(ok.responseCode, .success, ok.remark ?? "")

        let update = try await mqadmin("updateBrokerConfig", "-b", b, "-k", "brokerPermission", "-v", "4")
        XCTAssertEqual(update.status, 0, update.stdout + update.stderr)
        XCTAssertTrue(update.stdout.contains("update broker config success, \(b)"), update.stdout)
        // The broker answers after registering, so the route has changed already; 2 s is slack for a slow machine.
        let after = try await awaitRoutePerm("DrainOrderTopic", 4, within: .seconds(2))
        XCTAssertEqual(after, 4, "the NameServer still routes writes to a broker with brokerPermission=4")
        let tbw = try await route("TBW102")?.queueDatas.first?.perm
        XCTAssertEqual(tbw.map { $0 & PermName.write }, 0)

        let refused = try await c.send(topic: "DrainOrderTopic", body: [2], queueId: 0)
        XCTAssertEqual(refused.responseCode, .noPermission)
        XCTAssertEqual(refused.remark, "the broker[127.0.0.1] sending message is forbidden")
        let config = try await brokerConfig()
        XCTAssertEqual(config["brokerPermission"], "4")

        // And back: the write bit returns as quickly.
        let restore = try await mqadmin("updateBrokerConfig", "-b", b, "-k", "brokerPermission", "-v", "6")
        XCTAssertEqual(restore.status, 0, restore.stdout + restore.stderr)
        let restored = try await awaitRoutePerm("DrainOrderTopic", 6, within: .seconds(2))
        XCTAssertEqual(restored, 6)
    }

    func testStoreKeysChangeTheRunningBrokerAndRefusedKeysAreNamedWithNothingChanged() async throws {
        let c = try await start()
        let b = cluster.brokerAddr
        let changes = [("fileReservedTime", "1"), ("deleteWhen", "03;15"), ("diskMaxUsedSpaceRatio", "80"),
                       ("flushIntervalCommitLog", "200"), ("flushCommitLogLeastPages", "2"),
                       ("flushIntervalConsumeQueue", "500"), ("cleanResourceInterval", "5000"),
                       ("maxTransferCountOnMessageInMemory", "5")]
        for (k, v) in changes {
            let r = try await mqadmin("updateBrokerConfig", "-b", b, "-k", k, "-v", v)
            XCTAssertEqual(r.status, 0, "\(k): \(r.stdout) \(r.stderr)")
        }
        var config = try await brokerConfig()
        for (k, v) in changes { XCTAssertEqual(config[k], v, k) }

        // The store uses them: a pull now returns at most 5 messages.
        try await c.createTopic("LiveTopic", queues: 1)
        for i in 0..<12 {
            let r = try await c.send(topic: "LiveTopic", body: [UInt8(i)], queueId: 0)
            XCTAssertEqual(r.responseCode, .success)
        }
        _ = try await c.dispatchedMaxOffset(topic: "LiveTopic", queueId: 0, atLeast: 12)
        let pulled = try await c.pull(group: "LiveGroup", topic: "LiveTopic", queueId: 0, offset: 0, maxNums: 32)
        XCTAssertEqual(pulled.responseCode, .success)
        XCTAssertEqual(try RecordDecoder.decodeAll(pulled.bodyBytes).count, 5)

        // Refused, by name: keys read only at start (broker and store), unknown keys, unparsable values.
        let refused = [("listenPort", "1234"), ("brokerName", "other"), ("storePathRootDir", "/tmp/elsewhere"),
                       ("mapedFileSizeCommitLog", "1024"), ("mappedFileSizeCommitLog", "1024"), ("flushDiskType", "SYNC_FLUSH"),
                       ("brokerRole", "SLAVE"), ("sendMessageThreadPoolNums", "2"), ("noSuchKey", "1"),
                       ("fileReservedTime", "abc"), ("deleteWhen", "25"), ("defaultTopicQueueNums", "x")]
        for (k, v) in refused {
            let r = try await mqadmin("updateBrokerConfig", "-b", b, "-k", k, "-v", v)
            XCTAssertNotEqual(r.status, 0, "\(k)=\(v) accepted: \(r.stdout)")
            XCTAssertTrue(r.stderr.contains(k), "\(k): \(r.stderr)")
        }
        // All or nothing: a valid key beside a refused one is not applied either.
        let mixed = try await client.invokeSync(b, .request(.updateBrokerConfig, body: ByteBuffer(string: "fileReservedTime=7\nlistenPort=1\n")))
        XCTAssertEqual(mixed.responseCode, .noPermission)
        XCTAssertTrue(mixed.remark?.contains("listenPort") ?? false, mixed.remark ?? "")
        config = try await brokerConfig()
        XCTAssertEqual(config["fileReservedTime"], "1")
        XCTAssertEqual(config["listenPort"], String(cluster.brokerPort))
        XCTAssertEqual(config["brokerName"], "broker-a")
        XCTAssertEqual(config["flushDiskType"], "ASYNC_FLUSH")
        XCTAssertEqual(config["mappedFileSizeCommitLog"], String(64 * 1024 * 1024))
        XCTAssertEqual(config["deleteWhen"], "03;15")
    }
}

/// `key=value` lines (GET_BROKER_CONFIG's body).
func parseJavaPropertiesForTest(_ text: String) -> [String: String] {
    var out: [String: String] = [:]
    for line in text.split(separator: "\n") {
        guard let eq = line.firstIndex(of: "=") else { continue }
        out[String(line[..<eq])] = String(line[line.index(after: eq)...])
    }
    return out
}
