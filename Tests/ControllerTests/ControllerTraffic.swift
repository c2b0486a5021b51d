// ControllerTraffic: client load for controller-mode tests with real processes — producers sending new bodies
// one after another into an AckLog (every SEND_OK with its store host), a push consumer recording every body it
// is given, the topic created and copied to every broker, and the single-writer check over the AckLog.

import ApusTestSupport
import Client
import Foundation
import Remoting
import Synchronization
import XCTest

/// The bodies a push consumer was given (each at least once).
final class ReceivedLog: Sendable {
    private let bodies = Mutex<Set<String>>([])
    func add(_ msgs: [MessageExt]) { bodies.withLock { for m in msgs { $0.insert(String(decoding: m.body, as: UTF8.self)) } } }
    var all: Set<String> { bodies.withLock { $0 } }
    /// Acknowledged bodies not received yet.
    func missing(_ acked: [AckLog.Ack]) -> [String] {
        let got = all
        return acked.map(\.body).filter { !got.contains($0) }
    }
}

/// Producers sending into an AckLog until stopped; a client config that reads routes every 500 ms.
final class ProducerLoad: Sendable {
    let log = AckLog()
    let producers: [Producer]
    private let loops: Mutex<[Task<Void, Never>]>

    static func clientConfig(_ namesrv: String) -> ClientConfig {
        // Routes every 500 ms (RocketMQ's pollNameServerInterval, 30 s by default, bounds how soon a client
        // finds a new master: a client knob, not the broker's).
        var config = ClientConfig(namesrvAddr: namesrv)
        config.pollNameServerIntervalMs = 500
        return config
    }

    init(namesrv: String, topic: String, count: Int, name: String) async throws {
        var options = ProducerOptions()
        options.sendMsgTimeoutMs = 3_000
        options.retryTimesWhenSendFailed = 0
        var made: [Producer] = []
        for p in 0..<count {
            let producer = Producer(group: "\(name)-producer-\(p)", config: Self.clientConfig(namesrv), options: options)
            try await producer.start()
            made.append(producer)
        }
        producers = made
        let log = self.log
        loops = Mutex(made.enumerated().map { p, producer in
            Task {
                var i = 0
                while !log.stopped.load(ordering: .relaxed) {
                    i += 1
                    let body = "\(name)-p\(p)-\(i)"
                    do {
                        let r = try await producer.send(Message(topic: topic, body: body))
                        if r.sendStatus == .sendOK {
                            log.add(.init(body: body, atMs: nowMs(), storeHost: OffsetMessageId.parse(r.offsetMsgId).map { "\($0.host)" } ?? ""))
                        } else {
                            log.failed(r.sendStatus.rawValue)
                        }
                    } catch {
                        log.failed(ControllerFailoverTests.reason(error))
                        try? await Task.sleep(for: .milliseconds(20))
                    }
                }
            }
        })
    }

    /// Producers stop sending and are shut down.
    func stop() async {
        log.stopped.store(true, ordering: .relaxed)
        for l in loops.withLock({ $0 }) { await l.value }
        for p in producers { await p.shutdown() }
    }
}

enum ControllerTraffic {
    /// A clustering push consumer of `topic` from its first offset that records every body into `received`.
    static func startConsumer(namesrv: String, topic: String, group: String, received: ReceivedLog) async throws -> PushConsumer {
        var options = PushConsumerOptions()
        options.consumeFromWhere = .firstOffset
        let c = PushConsumer(group: group, config: ProducerLoad.clientConfig(namesrv), options: options)
        try c.subscribe(topic)
        c.registerMessageListener { msgs, _ in
            received.add(msgs)
            return .consumeSuccess
        }
        try await c.start()
        return c
    }

    /// `topic` (4 queues) created through the NameServer and copied to every broker of `d`.
    static func createTopic(_ d: ControllerDeployment, _ wire: ControllerWire, _ topic: String) async throws {
        try await waitUntil("topic created on the master", timeout: .seconds(30)) {
            (try? await mqadmin("updateTopic", "-n", d.namesrvAddr, "-c", "TestCluster", "-t", topic, "-r", "4", "-w", "4"))?.status == 0
        }
        for b in d.brokers where b.process != nil {
            try await waitUntil("topic copied to \(b.address)", timeout: .seconds(30)) {
                guard let r = try? await wire.call(b.address, .getAllTopicConfig), let body = r.body else { return false }
                return (try? TopicConfigSerializeWrapper.decode(body))?.topicConfigTable[topic] != nil
            }
        }
    }

    /// The store hosts of the SEND_OKs in the order they arrived, runs collapsed: one writer at a time means no
    /// host appears in two runs unless it became master again.
    static func writerRuns(_ acks: [AckLog.Ack]) -> [String] {
        var runs: [String] = []
        for a in acks.sorted(by: { $0.atMs < $1.atMs }) where runs.last != a.storeHost { runs.append(a.storeHost) }
        return runs
    }

    /// Every replica's CommitLog equal to the master's up to the master's end (awaited); the master's bodies of `topic`.
    static func logsEqual(_ d: ControllerDeployment, _ wire: ControllerWire, master m: Int, slots: [Int], topic: String,
                          file: StaticString = #filePath, line: UInt = #line) async throws -> Set<String> {
        try await waitUntil("replicas caught up", timeout: .seconds(30)) {
            var offsets: [Int64] = []
            for n in slots { offsets.append(await ControllerFailoverTests.maxOffset(wire, d.brokers[n].address) ?? -1) }
            return Set(offsets).count == 1 && offsets[0] > 0
        }
        let end = await ControllerFailoverTests.maxOffset(wire, d.brokers[m].address) ?? 0
        let masterLog = try d.commitLogBytes(m, from: 0, count: end)
        for r in slots where r != m {
            XCTAssertTrue(try d.commitLogBytes(r, from: 0, count: end) == masterLog, "broker \(r)'s CommitLog differs from the master's",
                          file: file, line: line)
        }
        return Set(MessageDecoder.decodeAll(masterLog).filter { $0.topic == topic }.map { String(decoding: $0.body, as: UTF8.self) })
    }
}
