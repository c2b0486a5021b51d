// SYNC_MASTER durability across kill -9 (issue 10, must-show 1): the NameServer, the master and the slave
// each on its own host (a network namespace with its own address, HostNetwork; loopback where namespaces
// cannot be made); a producer keeps 8 sends in flight to the SYNC_MASTER whose slave follows it across the
// network; the master is killed with SIGKILL in the middle of the load, 20 times in a row. Every message acknowledged SEND_OK is in the slave's CommitLog, intact; the
// slave's CommitLog equals the master's byte for byte up to the slave's end; the master restarts on its
// files and the slave catches up before the next round.

import ApusTestSupport
import Client
import Common
import Foundation
import Logging
import NIOPosix
import Remoting
import Synchronization
import XCTest

final class ReplicaDurabilityTests: XCTestCase {
    /// Bodies acknowledged SEND_OK, across rounds.
    final class Acknowledged: Sendable {
        let bodies = Mutex<Set<String>>([])
        /// Acknowledged in the current round.
        let inRound = Atomic<Int>(0)
    }

    func commitLog(_ store: URL, upTo end: Int64) -> [UInt8] {
        // One 64 MiB file in this test (the load never fills it).
        let file = store.appendingPathComponent("commitlog/" + String(repeating: "0", count: 20))
        guard let data = FileManager.default.contents(atPath: file.path) else { return [] }
        return Array(data.prefix(Int(end)))
    }

    func maxOffset(_ remoting: RemotingClient, _ addr: String) async -> Int64? {
        guard let r = try? await remoting.invokeSync(addr, .request(.getBrokerRuntimeInfo), timeoutMs: 2_000),
              r.responseCode == .success, let body = r.body, let table = try? KVTable.decode(body) else { return nil }
        return table.table["commitLogMaxOffset"].flatMap { Int64($0) }
    }

    func testEveryAcknowledgedMessageSurvivesTwentyKillsOfTheMaster() async throws {
        let cluster = try Cluster(extraConfig: ["brokerRole": "SYNC_MASTER", "registerNameServerPeriod": "2000"])
        let network = HostNetwork.make(hosts: 3)
        if let network { cluster.place(on: network) }
        addTeardownBlock {
            await cluster.stopAll()
            network?.remove()
        }
        print("ha-kill: \(network.map { "hosts \($0.hosts.map(\.address))" } ?? "loopback (no network namespaces here)")")
        try await cluster.startNamesrv()
        try await cluster.startBroker()
        try await cluster.startSlave()
        let topic = "DurableTopic"
        try await cluster.createTopic(topic, queues: 4)
        let remoting = RemotingClient(group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "test"))
        addTeardownBlock { await remoting.shutdown() }
        let acknowledged = Acknowledged()
        let rounds = Int(ProcessInfo.processInfo.environment["APUS_HA_KILL_ROUNDS"] ?? "") ?? 20
        for round in 0..<rounds {
            var config = cluster.clientConfig
            config.pollNameServerIntervalMs = 500
            let producer = Producer(group: "durable_pg_\(round)", config: config)
            try await producer.start()
            try await waitUntil("round \(round): the slave in sync") {
                (try? await producer.send(Message(topic: topic, body: "probe-\(round)")))?.sendStatus == .sendOK
            }
            // 8 senders; the master is killed once this round has 100 acknowledged messages in flight or done.
            acknowledged.inRound.store(0, ordering: .relaxed)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for sender in 0..<8 {
                    group.addTask {
                        var i = 0
                        while !Task.isCancelled {
                            let body = "r\(round)-s\(sender)-\(i)-" + String(repeating: "p", count: (i * 31) % 700)
                            i += 1
                            guard let r = try? await producer.send(Message(topic: topic, body: body)) else {
                                if Task.isCancelled { return }
                                try? await Task.sleep(for: .milliseconds(5))
                                continue
                            }
                            if r.sendStatus == .sendOK {
                                acknowledged.bodies.withLock { _ = $0.insert(body) }
                                acknowledged.inRound.add(1, ordering: .relaxed)
                            }
                        }
                    }
                }
                try await waitUntil("round \(round): load") { acknowledged.inRound.load(ordering: .relaxed) >= 100 }
                await cluster.broker?.kill9()
                group.cancelAll()
            }
            await producer.shutdown()
            // The slave holds every acknowledged message: read back from its CommitLog, bodies intact.
            guard let slaveEnd = await maxOffset(remoting, cluster.slaveAddr) else { return XCTFail("slave unreachable") }
            let slaveBytes = commitLog(cluster.slaveStoreDirectory, upTo: slaveEnd)
            let onSlave = Set(MessageDecoder.decodeAll(slaveBytes).map { String(decoding: $0.body, as: UTF8.self) })
            let missing = acknowledged.bodies.withLock { $0 }.subtracting(onSlave)
            XCTAssertTrue(missing.isEmpty, "round \(round): \(missing.count) acknowledged messages not on the slave, e.g. \(missing.prefix(3))")
            // Byte-identical to the master's files (the page cache keeps what the killed master wrote).
            XCTAssertEqual(slaveBytes, commitLog(cluster.storeDirectory, upTo: slaveEnd), "round \(round): the CommitLogs differ")
            // The master recovers on its files; the slave reconnects and catches up.
            try await cluster.startBroker(listenPort: cluster.brokerPort)
            guard let masterEnd = await maxOffset(remoting, cluster.brokerAddr) else { return XCTFail("master unreachable") }
            XCTAssertGreaterThanOrEqual(masterEnd, slaveEnd)
            try await waitUntil("round \(round): the slave catches up") {
                await self.maxOffset(remoting, cluster.slaveAddr) ?? 0 >= masterEnd
            }
        }
        let total = acknowledged.bodies.withLock { $0.count }
        print("ha-kill: \(rounds) rounds, \(total) acknowledged messages, all on the slave")
    }
}
