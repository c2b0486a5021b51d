// Controller-mode failover against real processes (issue 11, must-show 1 and 3). A three-member etcd, two
// mqcontrollers, a NameServer and three brokers of one name (SYNC_MASTER, inSyncReplicas=2,
// minInSyncReplicas=2, allAckInSyncStateSet=true), on network-namespace hosts where this process may make
// them, else on loopback. Producers send and a push consumer (the Swift client, in this process) consumes all
// along; the master is killed with SIGKILL APUS_CONTROLLER_KILLS times (default 3) and restarted each time: a
// replica of the SyncStateSet is elected (no unclean election), producers resume, no SEND_OK message is lost,
// every replica's CommitLog equals the master's up to its end (the old master truncated what it alone held),
// and the consumer receives every acknowledged message at least once (awaited up to 60 s after the last
// kill). The time from the kill to the first SEND_OK from the new master is printed.

import ApusTestSupport
import Client
import Foundation
import NIOCore
import Remoting
import Synchronization
import XCTest

/// Every SEND_OK a producer received: body, when, and the store host that answered.
final class AckLog: Sendable {
    struct Ack: Sendable {
        let body: String
        let atMs: Int64
        let storeHost: String
    }
    private let acks = Mutex<[Ack]>([])
    private let failures = Mutex<[String: Int]>([:])
    /// Producers stop once set.
    let stopped = Atomic<Bool>(false)

    func add(_ a: Ack) { acks.withLock { $0.append(a) } }
    func failed(_ what: String) { failures.withLock { $0[what, default: 0] += 1 } }
    var all: [Ack] { acks.withLock { $0 } }
    var count: Int { acks.withLock { $0.count } }
    var failureCounts: [String: Int] { failures.withLock { $0 } }
    /// The first acknowledgement after `ms` from a store other than `excluding`.
    func first(after ms: Int64, excluding host: String) -> Ack? {
        acks.withLock { $0.first { $0.atMs >= ms && $0.storeHost != host } }
    }
}

func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

final class ControllerFailoverTests: XCTestCase {
    static let brokerKeys: [String: String] = [
        "brokerRole": "SYNC_MASTER", "inSyncReplicas": "2", "minInSyncReplicas": "2", "allAckInSyncStateSet": "true",
        "brokerHeartbeatInterval": "200", "controllerHeartBeatTimeoutMills": "1500", "syncBrokerMetadataPeriod": "200",
        "haMaxTimeSlaveNotCatchup": "2000", "haSendHeartbeatInterval": "300", "slaveTimeout": "2000",
        "haHousekeepingInterval": "6000",
    ]

    /// An error's reason without the per-attempt cost that makes each text unique.
    static func reason(_ error: any Error) -> String {
        let text = "\(error)"
        if let r = text.range(of: "last error: ") { return String(text[r.upperBound...].prefix(90)) }
        return String(text.prefix(70))
    }

    struct SetState {
        let master: Int64?
        let masterAddress: String?
        let epoch: Int32
        let syncStateSet: Set<Int64>
    }

    static func state(_ wire: ControllerWire, _ d: ControllerDeployment) async -> SetState? {
        for addr in d.controllerAddrs {
            guard let r = try? await wire.call(addr, .controllerGetReplicaInfo, GetReplicaInfoRequestHeader(brokerName: "broker-a")),
                  r.responseCode == .success, let h = try? r.decodeHeader(GetReplicaInfoResponseHeader.self) else { continue }
            let set = r.body.flatMap { try? SyncStateSet.decode($0) }
            return SetState(master: h.masterBrokerId, masterAddress: h.masterAddress, epoch: h.masterEpoch ?? 0,
                            syncStateSet: set?.syncStateSet ?? [])
        }
        return nil
    }

    static func maxOffset(_ wire: ControllerWire, _ addr: String) async -> Int64? {
        guard let r = try? await wire.call(addr, .getBrokerRuntimeInfo), let body = r.body,
              let table = try? KVTable.decode(body).table else { return nil }
        return table["commitLogMaxOffset"].flatMap { Int64($0) }
    }

    func testKilledMastersAreReplacedFromTheSyncStateSetAndNoAcknowledgedMessageIsLost() async throws {
        let kills = Int(ProcessInfo.processInfo.environment["APUS_CONTROLLER_KILLS"] ?? "") ?? 3
        // Hosts 0-2: etcd members (controllers on 0 and 1, the NameServer on 2); 3-5: brokers.
        let d = try ControllerDeployment(hostCount: 6, useNetwork: true)
        print("controller failover: \(d.network == nil ? "loopback (no network namespaces)" : "network-namespace hosts"), \(kills) kills")
        try await d.startEtcd(hostIndexes: [0, 1, 2])
        try await d.startController(hostIndex: 0)
        try await d.startController(hostIndex: 1)
        try await d.startNamesrv(hostIndex: 2)
        for h in 3...5 { _ = d.addBroker(hostIndex: h) }
        for n in 0..<3 { try await d.startBroker(n, extra: Self.brokerKeys) }
        let wire = ControllerWire()

        try await waitUntil("a master and a SyncStateSet of three", timeout: .seconds(60)) {
            (await Self.state(wire, d))?.syncStateSet.count == 3
        }
        let topic = "FailoverTopic"
        try await waitUntil("topic created on the master", timeout: .seconds(30)) {
            (try? await mqadmin("updateTopic", "-n", d.namesrvAddr, "-c", "TestCluster", "-t", topic, "-r", "4", "-w", "4"))?.status == 0
        }

        for b in d.brokers {
            try await waitUntil("topic copied to \(b.address)", timeout: .seconds(30)) {
                guard let r = try? await wire.call(b.address, .getAllTopicConfig), let body = r.body else { return false }
                return (try? TopicConfigSerializeWrapper.decode(body))?.topicConfigTable[topic] != nil
            }
        }

        // Two producers, each sending one message after another with new bodies.
        var options = ProducerOptions()
        options.sendMsgTimeoutMs = 3_000
        options.retryTimesWhenSendFailed = 0
        let log = AckLog()
        var producers: [Producer] = []
        for p in 0..<2 {
            // Routes are read every 500 ms (RocketMQ's pollNameServerInterval, 30 s by default, bounds how soon a
            // producer finds a new master: a client knob, not the broker's).
            var config = ClientConfig(namesrvAddr: d.namesrvAddr)
            config.pollNameServerIntervalMs = 500
            let producer = Producer(group: "failover-producer-\(p)", config: config, options: options)
            try await producer.start()
            producers.append(producer)
        }
        let loops = producers.enumerated().map { p, producer in
            Task {
                var i = 0
                while !log.stopped.load(ordering: .relaxed) {
                    i += 1
                    let body = "p\(p)-\(i)"
                    do {
                        let r = try await producer.send(Message(topic: topic, body: body))
                        if r.sendStatus == .sendOK {
                            log.add(.init(body: body, atMs: nowMs(), storeHost: OffsetMessageId.parse(r.offsetMsgId).map { "\($0.host)" } ?? ""))
                        } else {
                            log.failed(r.sendStatus.rawValue)
                        }
                    } catch {
                        log.failed(Self.reason(error))
                        try? await Task.sleep(for: .milliseconds(20))
                    }
                }
            }
        }

        // A push consumer through all the kills, from the topic's first offset, recording bodies.
        let received = ReceivedLog()
        let consumer = try await ControllerTraffic.startConsumer(namesrv: d.namesrvAddr, topic: topic,
                                                                 group: "failover-consumer", received: received)

        var failoverMs: [Int64] = []
        for round in 0..<kills {
            try await waitUntil("SyncStateSet of all three before kill \(round + 1)", timeout: .seconds(60)) {
                (await Self.state(wire, d))?.syncStateSet.count == 3
            }
            let before = log.count
            try await waitUntil("producers acknowledged before kill \(round + 1)", timeout: .seconds(30)) { log.count >= before + 20 }
            guard let s = await Self.state(wire, d), let oldMaster = s.master, let addr = s.masterAddress,
                  let slot = d.brokerIndex(address: addr) else { return XCTFail("no master to kill") }
            let killedAt = nowMs()
            await d.kill9Broker(slot)
            try await waitUntil("a replica elected after kill \(round + 1)", timeout: .seconds(30)) {
                guard let now = await Self.state(wire, d) else { return false }
                return now.master != nil && now.master != oldMaster && now.epoch > s.epoch
            }
            let oldHost = d.brokers[slot].address
            try await waitUntil("a SEND_OK from the new master after kill \(round + 1)", timeout: .seconds(60)) {
                log.first(after: killedAt, excluding: oldHost) != nil
            }
            if let first = log.first(after: killedAt, excluding: oldHost) {
                failoverMs.append(first.atMs - killedAt)
                // The consumer follows the new master: it is given that message while the loop goes on.
                try await waitUntil("the consumer given the new master's first SEND_OK after kill \(round + 1)", timeout: .seconds(30)) {
                    received.all.contains(first.body)
                }
            }
            try await d.startBroker(slot, extra: Self.brokerKeys)
        }

        // Everyone back in the SyncStateSet; producers stop; every replica holds the master's log.
        try await waitUntil("SyncStateSet of all three at the end", timeout: .seconds(60)) {
            (await Self.state(wire, d))?.syncStateSet.count == 3
        }
        log.stopped.store(true, ordering: .relaxed)
        for l in loops { await l.value }
        for p in producers { await p.shutdown() }
        guard let final = await Self.state(wire, d), let masterAddr = final.masterAddress, let m = d.brokerIndex(address: masterAddr)
        else { return XCTFail("no master at the end") }
        try await waitUntil("replicas caught up", timeout: .seconds(30)) {
            var offsets: [Int64] = []
            for b in d.brokers { offsets.append(await Self.maxOffset(wire, b.address) ?? -1) }
            return Set(offsets).count == 1 && offsets[0] > 0
        }
        let end = await Self.maxOffset(wire, masterAddr) ?? 0
        let masterLog = try d.commitLogBytes(m, from: 0, count: end)
        for r in 0..<3 where r != m {
            let replicaLog = try d.commitLogBytes(r, from: 0, count: end)
            XCTAssertTrue(replicaLog == masterLog, "replica \(r)'s CommitLog differs from the master's")
        }
        let stored = Set(MessageDecoder.decodeAll(masterLog).filter { $0.topic == topic }.map { String(decoding: $0.body, as: UTF8.self) })
        let acked = log.all
        let lost = acked.filter { !stored.contains($0.body) }
        XCTAssertTrue(lost.isEmpty, "\(lost.count) of \(acked.count) acknowledged messages lost, e.g. \(lost.prefix(5).map(\.body))")

        // The consumer receives every acknowledged message at least once.
        let consumeDeadline = ContinuousClock.now + .seconds(60)
        while !received.missing(acked).isEmpty && ContinuousClock.now < consumeDeadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        let unconsumed = received.missing(acked)
        XCTAssertTrue(unconsumed.isEmpty, "\(unconsumed.count) of \(acked.count) acknowledged messages never consumed, e.g. \(unconsumed.prefix(5))")
        await consumer.shutdown()

        let sorted = failoverMs.sorted()
        let median = sorted.isEmpty ? 0 : sorted[sorted.count / 2]
        let truncations = d.allBrokerOutput.components(separatedBy: "CommitLog truncated from").count - 1
        print("controller failover: \(kills) kills, \(acked.count) messages acknowledged, none lost, \(received.all.count) distinct consumed, \(truncations) returning masters truncated; kill to first SEND_OK on the new master: median \(median) ms, max \(sorted.last ?? 0) ms (all: \(failoverMs)); refused sends: \(log.failureCounts)")
        XCTAssertEqual(failoverMs.count, kills)

        await wire.shutdown()
        await d.stopAll()
    }
}
