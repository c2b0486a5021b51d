// Lifecycle (issue 9, Must-show 4): a broker started and stopped in one process 20 times, serving a send
// and a pull each time, leaves no thread, no file descriptor and no task behind (store service threads,
// request executors, io_uring workers, channels, segment files, the lock file, background jobs).

import Common
import Foundation
import Logging
import NIOCore
import NIOPosix
import Remoting
import Store
import XCTest

@testable import Broker

final class BrokerLifecycleTests: XCTestCase {
    static func threadCount() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? -1 }
    static func fdCount() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1 }

    /// Waits (up to 10 s) until both counts are back at or below the baseline; returns the last reading.
    func settle(threads: Int, fds: Int) async -> (threads: Int, fds: Int) {
        let deadline = ContinuousClock.now + .seconds(10)
        var now = (Self.threadCount(), Self.fdCount())
        while ContinuousClock.now < deadline {
            now = (Self.threadCount(), Self.fdCount())
            if now.0 <= threads && now.1 <= fds { break }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return now
    }

    func runOnce(group: any EventLoopGroup, directory: String, round: Int) async throws {
        var logger = Logger(label: "lifecycle")
        logger.logLevel = .warning
        var bc = BrokerConfig()
        bc.brokerIP1 = "127.0.0.1"
        bc.listenPort = 0
        bc.namesrvAddr = ""
        var sc = MessageStoreConfig(storePathRootDir: directory)
        sc.mappedFileSizeCommitLogBytes = 4 << 20
        let tasksBefore = BackgroundTasks.liveCount
        let tStart = ContinuousClock.now
        let broker = try await BrokerController.start(brokerConfig: bc, storeConfig: sc, group: group, logger: logger)
        let client = RemotingClient(group: group, logger: logger)
        let address = broker.brokerConfig.brokerAddr
        let header = SendMessageRequestHeader(producerGroup: "PG", topic: "Life", queueId: 0, bornTimestamp: 1, properties: "")
        let sent = try await client.invokeSync(address, .request(.sendMessageV2, header: SendMessageRequestHeaderV2(header),
                                                                 body: ByteBuffer(bytes: Array("round \(round)".utf8))))
        XCTAssertEqual(sent.responseCode, .success, sent.remark ?? "")
        // Every round finds the messages of the rounds before (the store is reopened from the same files).
        let deadline = ContinuousClock.now + .seconds(5)
        var pulled: RemotingCommand
        repeat {
            pulled = try await client.invokeSync(address, .request(.pullMessage, header: PullMessageRequestHeader(
                consumerGroup: "G", topic: "Life", queueId: 0, queueOffset: Int64(round), maxMsgNums: 1, sysFlag: 4,
                commitOffset: 0, suspendTimeoutMillis: 0, subscription: "*", subVersion: 0, expressionType: nil)))
        } while pulled.responseCode != .success && ContinuousClock.now < deadline
        XCTAssertEqual(pulled.responseCode, .success)
        if ProcessInfo.processInfo.environment["APUS_LIFECYCLE_DEBUG"] != nil { print("start+send+pull took \(ContinuousClock.now - tStart)") }
        await client.shutdown()
        let t0 = ContinuousClock.now
        XCTAssertGreaterThan(BackgroundTasks.liveCount, tasksBefore, "the running broker's jobs are counted")
        await broker.shutdown()
        // Every background job (periodic jobs, registration, channel events) has ended when shutdown returns.
        XCTAssertEqual(BackgroundTasks.liveCount, tasksBefore, "tasks left behind by round \(round)")
        if ProcessInfo.processInfo.environment["APUS_LIFECYCLE_DEBUG"] != nil { print("shutdown took \(ContinuousClock.now - t0)") }
        weakController = broker
        weakStore = broker.store
    }
    weak var weakController: BrokerController?
    weak var weakStore: MessageStore?

    func testStartingAndStoppingTwentyTimesLeavesNoThreadDescriptorOrTask() async throws {
        let directory = NSTemporaryDirectory() + "apus-lifecycle-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        // One round first: process-wide singletons (logging, NIO's thread pool, Dispatch's workers) start once.
        try await runOnce(group: group, directory: directory, round: 0)
        try? await Task.sleep(for: .milliseconds(500))  // the warm-up round's io_uring workers wind down
        let baseline = (threads: Self.threadCount(), fds: Self.fdCount())
        var peakThreads = 0
        for round in 1...(Int(ProcessInfo.processInfo.environment["APUS_LIFECYCLE_ROUNDS"] ?? "") ?? 20) {
            try await runOnce(group: group, directory: directory, round: round)
            if ProcessInfo.processInfo.environment["APUS_LIFECYCLE_DEBUG"] != nil {
                try? await Task.sleep(for: .milliseconds(300))
                print("round \(round): controller alive \(weakController != nil), store alive \(weakStore != nil)")
            }
            peakThreads = max(peakThreads, Self.threadCount())
        }
        let after = await settle(threads: baseline.threads, fds: baseline.fds)
        print("lifecycle: baseline \(baseline.threads) threads / \(baseline.fds) fds, after 20 rounds \(after.threads) / \(after.fds)")
        if after.fds > baseline.fds {
            let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
            let targets = fds.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0) }
            print("open descriptors: \(Dictionary(grouping: targets) { $0.replacingOccurrences(of: #"[0-9]+"#, with: "N", options: .regularExpression) }.mapValues(\.count))")
        }
        if after.threads > baseline.threads {
            let tids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
            print("threads: \(tids.compactMap { try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8) })")
        }
        XCTAssertLessThanOrEqual(after.threads, baseline.threads, "threads left behind")
        XCTAssertLessThanOrEqual(after.fds, baseline.fds, "descriptors left behind")
        try await group.shutdownGracefully()
    }
}
