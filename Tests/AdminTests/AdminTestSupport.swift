// AdminTests support: runs the built `mqadmin` against a Cluster (real mqnamesrv + mqbroker), retries a
// run until its output shows what the test waits for, and a raw client that heartbeats as a consumer or
// producer and commits offsets (the Swift Client library is separate).

import Common
import ApusTestSupport
import Foundation
import Logging
import NIOCore
import NIOPosix
import Remoting
import XCTest

/// `mqadmin` runs against one cluster.
struct AdminRunner: Sendable {
    let binary: URL
    let namesrvAddr: String

    init(namesrvAddr: String) throws {
        binary = try findBinary("mqadmin", env: "APUS_MQADMIN")
        self.namesrvAddr = namesrvAddr
    }

    /// `mqadmin <args> -n <namesrv>`.
    func run(_ args: String...) async throws -> CommandRun {
        try await runToCompletion(binary, args + ["-n", namesrvAddr])
    }

    /// Without adding `-n`.
    func runRaw(_ args: [String], environment: [String: String] = [:]) async throws -> CommandRun {
        try await runToCompletion(binary, args, environment: environment)
    }

    /// Reruns until `done` holds (at most ~15 s); returns the last run.
    func eventually(_ args: String..., until done: (CommandRun) -> Bool) async throws -> CommandRun {
        var last = try await runToCompletion(binary, args + ["-n", namesrvAddr])
        for _ in 0..<60 where !done(last) {
            try await Task.sleep(for: .milliseconds(250))
            last = try await runToCompletion(binary, args + ["-n", namesrvAddr])
        }
        return last
    }
}

/// Asserts exit 0 and that stdout contains every fragment.
func assertSuccess(_ run: CommandRun, contains fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(run.status, 0, "stdout: \(run.stdout)\nstderr: \(run.stderr)", file: file, line: line)
    for f in fragments {
        XCTAssertTrue(run.stdout.contains(f), "missing \(f.debugDescription) in:\n\(run.stdout)\nstderr: \(run.stderr)",
                      file: file, line: line)
    }
}

/// Asserts a non-zero exit.
func assertFailure(_ run: CommandRun, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertNotEqual(run.status, 0, "expected failure; stdout: \(run.stdout)", file: file, line: line)
}

/// The line of `text` starting with `prefix`.
func line(_ text: String, startingWith prefix: String) -> String? {
    text.split(separator: "\n").first { $0.hasPrefix(prefix) }.map(String.init)
}

/// A raw client that shows up at the broker as a consumer and/or producer.
final class FakeClient: Sendable {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let client: RemotingClient
    let brokerAddr: String
    let clientId: String

    init(brokerAddr: String, clientId: String) {
        client = RemotingClient(group: group, logger: Logger(label: "admin-test", factory: { _ in SwiftLogNoOpLogHandler() }))
        self.brokerAddr = brokerAddr
        self.clientId = clientId
    }

    func heartbeat(consumerGroup: String? = nil, topic: String = "", producerGroup: String? = nil) async throws {
        let consumers = consumerGroup.map {
            [ConsumerData(groupName: $0, subscriptionDataSet: [SubscriptionData(topic: topic, subString: "*")])]
        } ?? []
        let producers = producerGroup.map { [ProducerData(groupName: $0)] } ?? []
        let body = HeartbeatData(clientID: clientId, producerDataSet: producers, consumerDataSet: consumers).encode()
        let r = try await client.invokeSync(brokerAddr, .request(.heartBeat, body: body))
        XCTAssertEqual(r.responseCode, .success, r.remark ?? "")
    }

    func commitOffset(group: String, topic: String, queueId: Int32, offset: Int64) async throws {
        let r = try await client.invokeSync(brokerAddr, .request(.updateConsumerOffset, header: UpdateConsumerOffsetRequestHeader(
            consumerGroup: group, topic: topic, queueId: queueId, commitOffset: offset)))
        XCTAssertEqual(r.responseCode, .success, r.remark ?? "")
    }

    func shutdown() async {
        await client.shutdown()
        try? await group.shutdownGracefully()
    }
}
