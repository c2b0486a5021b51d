// Test helpers: pulled records decoded with Common's MessageDecoder into a flat test view, and a small
// client over RemotingClient that sends, pulls and manages offsets the way the Java client shapes them.

import ApusTestSupport
import Common
import Foundation
import Logging
import NIOCore
import NIOPosix
import Remoting
import XCTest

/// One decoded stored record.
struct DecodedMessage: Equatable {
    var queueId: Int32
    var flag: Int32
    var queueOffset: Int64
    var physicalOffset: Int64
    var sysFlag: Int32
    var bornTimestamp: Int64
    var storeTimestamp: Int64
    var storeHost: String
    var reconsumeTimes: Int32
    var body: [UInt8]
    var topic: String
    var properties: [String: String]
}

enum RecordDecoder {
    /// Decodes concatenated records with Common's decoder until the buffer ends; a bad record throws.
    static func decodeAll(_ bytes: [UInt8]) throws -> [DecodedMessage] {
        var out: [DecodedMessage] = []
        var start = 0
        while start < bytes.count {
            let (m, size) = try MessageDecoder.decode(bytes, at: start)
            out.append(DecodedMessage(
                queueId: m.queueId, flag: m.flag, queueOffset: m.queueOffset, physicalOffset: m.commitLogOffset,
                sysFlag: m.sysFlag, bornTimestamp: m.bornTimestamp, storeTimestamp: m.storeTimestamp,
                storeHost: m.storeHost.description, reconsumeTimes: m.reconsumeTimes, body: m.body, topic: m.topic,
                properties: m.properties))
            start += size
        }
        return out
    }
}

func properties(_ pairs: [(String, String)]) -> String {
    pairs.map { "\($0.0)\u{1}\($0.1)\u{2}" }.joined()
}

/// A client the way Java shapes requests (V2 sends, JSON, string extFields).
struct TestClient: Sendable {
    let client: RemotingClient
    let address: String

    func send(topic: String, body: [UInt8], queueId: Int32 = -1, props: [(String, String)] = [("WAIT", "true")],
              producerGroup: String = "PG", v2: Bool = true, flag: Int32 = 0) async throws -> RemotingCommand {
        let header = SendMessageRequestHeader(producerGroup: producerGroup, topic: topic, queueId: queueId,
                                              bornTimestamp: Int64(Date().timeIntervalSince1970 * 1000), flag: flag,
                                              properties: properties(props))
        var r = RemotingCommand.request(v2 ? .sendMessageV2 : .sendMessage, body: ByteBuffer(bytes: body))
        r.extFields = v2 ? header.toV2ExtFields() : header.toExtFields()
        return try await client.invokeSync(address, r, timeoutMs: 15_000)
    }

    func pull(group: String, topic: String, queueId: Int32, offset: Int64, maxNums: Int32 = 32, sysFlag: Int32 = 4,
              suspendMs: Int64 = 0, subscription: String = "*", commitOffset: Int64 = 0, timeoutMs: Int64 = 30_000,
              expressionType: String? = nil)
        async throws -> RemotingCommand
    {
        let h = PullMessageRequestHeader(consumerGroup: group, topic: topic, queueId: queueId, queueOffset: offset,
                                         maxMsgNums: maxNums, sysFlag: sysFlag, commitOffset: commitOffset,
                                         suspendTimeoutMillis: suspendMs, subscription: subscription, subVersion: 0,
                                         expressionType: expressionType)
        return try await client.invokeSync(address, .request(.pullMessage, header: h), timeoutMs: timeoutMs)
    }

    /// Pulls a queue from `offset` to its end.
    func pullAll(group: String, topic: String, queueId: Int32, from offset: Int64 = 0) async throws -> [DecodedMessage] {
        var out: [DecodedMessage] = []
        var next = offset
        for _ in 0..<10_000 {
            let r = try await pull(group: group, topic: topic, queueId: queueId, offset: next)
            if r.responseCode != .success { break }
            let h: PullMessageResponseHeader = try r.decodeHeader()
            out += try RecordDecoder.decodeAll(r.bodyBytes)
            next = h.nextBeginOffset
        }
        return out
    }

    func createTopic(_ topic: String, queues: Int32) async throws {
        let r = try await client.invokeSync(address, .request(.updateAndCreateTopic, header: CreateTopicRequestHeader(
            topic: topic, readQueueNums: queues, writeQueueNums: queues)))
        XCTAssertEqual(r.responseCode, .success, r.remark ?? "")
    }

    /// The queue's max offset once dispatch has caught up to `atLeast` (dispatch is asynchronous), or after 5 s.
    func dispatchedMaxOffset(topic: String, queueId: Int32, atLeast: Int64) async throws -> Int64 {
        let deadline = ContinuousClock.now + .seconds(5)
        var value: Int64 = 0
        repeat {
            value = try await offsetRequest(.getMaxOffset, topic: topic, queueId: queueId)
            if value >= atLeast { return value }
            try await Task.sleep(for: .milliseconds(5))
        } while ContinuousClock.now < deadline
        return value
    }

    func offsetRequest(_ code: RequestCode, topic: String, queueId: Int32) async throws -> Int64 {
        let r = try await client.invokeSync(address, .request(code, header: TopicQueueRequestHeader(topic: topic, queueId: queueId)))
        XCTAssertEqual(r.responseCode, .success)
        return try (r.decodeHeader() as OffsetResponseHeader).offset
    }
}

/// The fixture the broker test classes share: an event loop group, a remoting client, and the cluster a
/// test started (stopped in tearDown, so no process outlives its test).
class BrokerClusterTestCase: XCTestCase {
    var group: MultiThreadedEventLoopGroup!
    var client: RemotingClient!
    var cluster: Cluster!

    override func setUp() async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        client = RemotingClient(group: group, logger: Logger(label: "test"))
    }

    override func tearDown() async throws {
        await client.shutdown()
        if let cluster { await cluster.stopAll() }
        try await group.shutdownGracefully()
    }

    /// Polls a queue until it holds `count` messages or 10 s pass (dispatch follows an acknowledged send
    /// within about a millisecond).
    func waitForMessages(_ c: TestClient, topic: String, queueId: Int32, count: Int) async throws -> [DecodedMessage] {
        let deadline = ContinuousClock.now + .seconds(10)
        var got: [DecodedMessage] = []
        while ContinuousClock.now < deadline {
            got = try await c.pullAll(group: "Probe", topic: topic, queueId: queueId)
            if got.count >= count { return got }
            try await Task.sleep(for: .milliseconds(20))
        }
        return got
    }

    /// Starts a broker (and a NameServer unless `namesrv` is false) with `extra` broker settings.
    func start(_ extra: [String: String] = [:], namesrv: Bool = true) async throws -> TestClient {
        cluster = try Cluster(extraConfig: extra)
        if namesrv { try await cluster.startNamesrv() }
        try await cluster.startBroker()
        return TestClient(client: client, address: cluster.brokerAddr)
    }
}
