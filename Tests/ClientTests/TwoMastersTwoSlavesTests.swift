// conf/2m-2s-sync started with its documented command (conf/run-2m-2s.sh, `make run-2m-2s-sync`; issue 10,
// must-show 4): the quickstart producer's 1000 messages land on both masters, the quickstart consumer gets
// every one, and each slave holds its master's CommitLog.

import ApusTestSupport
import Client
import Foundation
import Logging
import NIOPosix
import Remoting
import XCTest

final class TwoMastersTwoSlavesTests: XCTestCase {
    func runtimeInfo(_ remoting: RemotingClient, _ addr: String) async -> [String: String]? {
        guard let r = try? await remoting.invokeSync(addr, .request(.getBrokerRuntimeInfo), timeoutMs: 2_000),
              r.responseCode == .success, let body = r.body else { return nil }
        return (try? KVTable.decode(body))?.table
    }

    func testTheSyncSetCarriesQuickstartTrafficAcrossBothMastersAndEachSlaveFollowsItsMaster() async throws {
        let run = FileManager.default.temporaryDirectory.appendingPathComponent("apus-2m2s-\(UUID().uuidString)")
        let bin = try findBinary("mqbroker", env: "APUS_MQBROKER").deletingLastPathComponent()
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        // Ports below Linux's ephemeral range, so no client connection holds one of them.
        let base = 20_000 + Int.random(in: 0..<190) * 50
        // The test runner ignores SIGTERM, and a shell cannot trap a signal ignored when it started: reset it, so
        // the script's trap stops its five processes as it does for an operator.
        let set = ChildProcess(binary: URL(fileURLWithPath: "/usr/bin/env"),
                               arguments: ["--default-signal=TERM,INT", "/bin/bash", repo.appendingPathComponent("conf/run-2m-2s.sh").path,
                                           "sync", bin.path, run.path],
                               environment: ["BASE_PORT": String(base),
                                             // 64 MiB segments: the defaults preallocate ~10 GB for four brokers.
                                             "EXTRA_BROKER_CONF": "mappedFileSizeCommitLog=67108864"])
        addTeardownBlock {
            await set.stop()
            try? FileManager.default.removeItem(at: run)
        }
        try await set.start { $0.contains("Ctrl-C stops all") ? true : nil }
        let namesrv = "127.0.0.1:\(base + 50)"
        let brokers = (a: "127.0.0.1:\(base)", aSlave: "127.0.0.1:\(base + 10)", b: "127.0.0.1:\(base + 20)", bSlave: "127.0.0.1:\(base + 30)")
        let remoting = RemotingClient(group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "2m2s"))
        addTeardownBlock { await remoting.shutdown() }
        for addr in [brokers.a, brokers.aSlave, brokers.b, brokers.bSlave] {
            try await waitUntil("\(addr) serving") { await self.runtimeInfo(remoting, addr) != nil }
        }
        // Each master has its slave in sync (mqadmin haStatus shows it), so SYNC_MASTER sends get SEND_OK.
        let admin = try findBinary("mqadmin", env: "APUS_MQADMIN")
        for master in [brokers.a, brokers.b] {
            try await waitUntil("\(master)'s slave in sync") {
                guard let run = try? await runToCompletion(admin, ["haStatus", "-n", namesrv, "-b", master]) else { return false }
                return run.stdout.contains("#InSyncSlaveNum\t1") && run.stdout.contains(" OK ")
            }
        }
        let env = ["NAMESRV_ADDR": namesrv]
        let producer = ChildProcess(binary: try findBinary("quickstart-producer", env: "APUS_QUICKSTART_PRODUCER"),
                                    arguments: [], environment: env)
        try await producer.start(timeout: .seconds(60)) { $0.contains("SendResult [") ? true : nil }
        try await waitUntil("1000 sends", timeout: .seconds(120)) { !producer.process.isRunning }
        let sendOK = producer.output.value.split(separator: "\n").filter { $0.contains("sendStatus=SEND_OK") }
        XCTAssertEqual(sendOK.count, 1000, producer.output.value.suffix(2000).description)
        // Both masters took a share (the route spreads TopicTest's queues over broker-a and broker-b).
        XCTAssertTrue(sendOK.contains { $0.contains("brokerName=broker-a") }, "nothing went to broker-a")
        XCTAssertTrue(sendOK.contains { $0.contains("brokerName=broker-b") }, "nothing went to broker-b")

        let consumer = ChildProcess(binary: try findBinary("quickstart-consumer", env: "APUS_QUICKSTART_CONSUMER"),
                                    arguments: [], environment: env)
        try await consumer.start { $0.contains("Consumer Started.") ? true : nil }
        try await waitUntil("every message consumed", timeout: .seconds(60)) {
            // Distinct message ids (a redelivery prints the same id again).
            Set(consumer.output.value.split(separator: "\n").flatMap { line in
                line.components(separatedBy: "msgId=").dropFirst().map { $0.prefix { $0 != "," } }
            }).count >= 1000
        }
        await consumer.stop()
        // Each slave holds its master's CommitLog (SYNC_MASTER: it had every message before SEND_OK).
        for (master, slave) in [(brokers.a, brokers.aSlave), (brokers.b, brokers.bSlave)] {
            let m = await runtimeInfo(remoting, master)?["commitLogMaxOffset"].flatMap { Int64($0) } ?? -1
            let s = await runtimeInfo(remoting, slave)?["commitLogMaxOffset"].flatMap { Int64($0) } ?? -2
            XCTAssertGreaterThan(m, 0)
            XCTAssertEqual(s, m, "slave \(slave) of \(master)")
            let run = try await runToCompletion(admin, ["haStatus", "-n", namesrv, "-b", slave])
            XCTAssertTrue(run.stdout.contains("#MasterAddr\t127.0.0.1:"), run.stdout)
            XCTAssertTrue(run.stdout.contains("#MaxOffset\t\(m)"), run.stdout)
            // brokerStatus shows the replication too: the master's slave with its acknowledged offset and lag.
            let status = try await runToCompletion(admin, ["brokerStatus", "-n", namesrv, "-b", master])
            XCTAssertTrue(status.stdout.contains("haInSyncSlaveNum"), status.stdout)
            XCTAssertTrue(status.stdout.contains("ackOffset=\(m) behindBytes=0 inSync=true"), status.stdout)
        }
    }
}
