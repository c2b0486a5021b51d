// mqbench: RocketMQ's benchmark tools over the Swift client (admin.md §14). `producer` keeps -w sends in
// flight and prints "Send TPS | Max RT(ms) | Average RT(ms) | Send Failed | Response Failed" per report
// interval, then a summary with p50/p99/p99.9 latency; `consumer` prints consume TPS and B2C/S2C latency;
// `tx` (TxBench.swift) is the transaction producer.

import ArgumentParser
import Client
import Foundation
import Histogram
import Synchronization

/// Counters and latency samples (microseconds) shared by senders and the reporter.
final class Stats: Sendable {
    let ok = Atomic<Int>(0)
    let sendFailed = Atomic<Int>(0)
    let responseFailed = Atomic<Int>(0)
    let rtSumUs = Atomic<Int>(0)
    let rtMaxUs = Atomic<Int>(0)
    /// Acknowledged, but not SEND_OK (FLUSH_DISK_TIMEOUT under SYNC_FLUSH, slave statuses): the broker stored
    /// the message without the durability the producer asked for.
    let notSendOK = Atomic<Int>(0)
    /// Latencies in microseconds, 1 µs to 60 s at three significant digits (HdrHistogram).
    private let histogram = Mutex(Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three))

    func record(us: Int) {
        ok.wrappingAdd(1, ordering: .relaxed)
        rtSumUs.wrappingAdd(us, ordering: .relaxed)
        var cur = rtMaxUs.load(ordering: .relaxed)
        while us > cur {
            let (done, now) = rtMaxUs.compareExchange(expected: cur, desired: us, ordering: .relaxed)
            if done { break }
            cur = now
        }
        histogram.withLock { _ = $0.record(UInt64(max(1, min(us, 60_000_000)))) }
    }

    func percentiles() -> (p50: Double, p99: Double, p999: Double, count: Int) {
        histogram.withLock { h in
            guard h.totalCount > 0 else { return (0, 0, 0, 0) }
            func at(_ p: Double) -> Double { Double(h.valueAtPercentile(p)) / 1000 }
            return (at(50), at(99), at(99.9), Int(h.totalCount))
        }
    }
}

/// The producer bench's in-flight window: `claim` before each send (false once the quantity or the time is
/// used up), `release` when a sender stops; the last release calls `onFinished`.
final class SendWindow: @unchecked Sendable {
    private let lock = NSLock()
    private var remaining: Int?
    private var senders = 0
    private let stopAt: ContinuousClock.Instant
    // Set once before the first send.
    var onFinished: @Sendable () -> Void = {}

    init(total: Int?, stopAt: ContinuousClock.Instant) {
        remaining = total
        self.stopAt = stopAt
    }

    func open(_ n: Int) { lock.withLock { senders = n } }

    func claim() -> Bool {
        lock.withLock {
            if let r = remaining {
                guard r > 0 else { return false }
                remaining = r - 1
                return true
            }
            return ContinuousClock.now < stopAt
        }
    }

    func release() {
        let last = lock.withLock { () -> Bool in
            senders -= 1
            return senders == 0
        }
        if last { onFinished() }
    }
}

func now() -> String {
    let f = DateFormatter()
    f.dateFormat = "yyyy-MM-dd HH:mm:ss,SSS"
    return f.string(from: Date())
}

@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mqbench", abstract: "RocketMQ-style benchmark over the Swift client",
                                                    subcommands: [ProducerBench.self, ConsumerBench.self, TxBench.self])
}

struct Common: ParsableArguments {
    @Option(name: [.customShort("n"), .long], help: "name server address") var namesrvAddr = ProcessInfo.processInfo.environment["NAMESRV_ADDR"] ?? "127.0.0.1:9876"
    @Option(name: [.customShort("t"), .long], help: "topic") var topic = "BenchmarkTest"
    @Option(name: .customLong("ri", withSingleDash: true), help: "report interval ms") var reportInterval = 10_000
    @Option(name: .long, help: "header serialisation: ROCKETMQ or JSON") var serialize = "ROCKETMQ"

    var config: ClientConfig {
        var c = ClientConfig(namesrvAddr: namesrvAddr)
        c.serializeType = serialize.uppercased() == "JSON" ? .json : .rocketmq
        return c
    }
}

struct ProducerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "producer")
    @OptionGroup var common: Common
    @Option(name: [.customShort("w"), .long], help: "sends in flight") var threadCount = 64
    @Option(name: [.customShort("s"), .long], help: "body bytes") var messageSize = 128
    @Option(name: [.customShort("k"), .long], help: "set a key") var keyEnable = false
    @Option(name: [.customShort("l"), .long], help: "tag count") var tagCount = 0
    @Option(name: [.customShort("q"), .long], help: "messages in total (0 = until -d seconds)") var messageQuantity = 0
    @Option(name: .customLong("duration"), help: "seconds to run when -q is 0") var duration = 20
    @Option(name: [.customShort("d"), .long], help: "delay") var delayEnable = false
    @Option(name: [.customShort("e"), .long], help: "delay level") var delayLevel = 1
    @Option(name: [.customShort("b"), .long], help: "messages per batch (1 = no batch)") var batchSize = 1
    @Option(name: [.customShort("c"), .long], help: "compress over 4 KiB") var compressEnable = false

    func run() async throws {
        print("topic: \(common.topic), threadCount: \(threadCount), messageSize: \(messageSize), keyEnable: \(keyEnable), propertySize: 0, tagCount: \(tagCount), traceEnable: false, aclEnable: false, messageQuantity: \(messageQuantity), delayEnable: \(delayEnable), delayLevel: \(delayLevel), asyncEnable: true")
        print(" compressEnable: \(compressEnable), reportInterval: \(common.reportInterval)")
        var opts = ProducerOptions()
        if !compressEnable { opts.compressMsgBodyOverHowmuch = .max }
        let producer = Producer(group: "benchmark_producer", config: common.config, options: opts)
        try await producer.start()
        let chars = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)
        let body = (0..<messageSize).map { _ in chars.randomElement() ?? 65 }
        let stats = Stats()
        let begin = ContinuousClock.now
        let stopAt = begin + .seconds(duration)
        let perWorker = messageQuantity > 0 ? messageQuantity / threadCount : Int.max
        let reporter = Task {
            var last = (t: ContinuousClock.now, ok: 0, sum: 0)
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(common.reportInterval))
                if Task.isCancelled { break }  // the run ended: the summary follows, not a partial interval
                let t = ContinuousClock.now, ok = stats.ok.load(ordering: .relaxed), sum = stats.rtSumUs.load(ordering: .relaxed)
                let ms = Double((t - last.t).components.attoseconds / 1_000_000_000_000_000 + (t - last.t).components.seconds * 1000)
                let tps = ms > 0 ? Int(Double(ok - last.ok) / ms * 1000) : 0
                let avg = ok > last.ok ? Double(sum - last.sum) / Double(ok - last.ok) / 1000 : 0
                print("Current Time: \(now()) | Send TPS: \(tps) | Max RT(ms): \(stats.rtMaxUs.load(ordering: .relaxed) / 1000) | Average RT(ms): \(String(format: "%7.3f", avg)) | Send Failed: \(stats.sendFailed.load(ordering: .relaxed)) | Response Failed: \(stats.responseFailed.load(ordering: .relaxed))")
                last = (t, ok, sum)
            }
        }
        // Options copied out once: a property-wrapper read per message cost the sender ~2% of its CPU.
        let topic = common.topic, keyEnable = keyEnable, tagCount = tagCount, delayEnable = delayEnable
        let delayLevel = delayLevel
        @Sendable func makeMessage() -> Message {
            var m = Message(topic: topic, body: body)
            if keyEnable { m.keys = [String(Int(Date().timeIntervalSince1970))] }
            if tagCount > 0 { m.tags = "tag\(Int(Date().timeIntervalSince1970 * 1000) % tagCount)" }
            if delayEnable { m.delayTimeLevel = delayLevel }
            return m
        }
        @Sendable func count(_ error: MQClientError) {
            if case .broker = error { stats.responseFailed.wrappingAdd(1, ordering: .relaxed) } else {
                stats.sendFailed.wrappingAdd(1, ordering: .relaxed)
            }
        }
        if batchSize > 1 {
            await withTaskGroup(of: Void.self) { group in
                for w in 0..<threadCount {
                    group.addTask {
                        var n = 0
                        while n < perWorker + (w == 0 && messageQuantity > 0 ? messageQuantity % threadCount : 0) {
                            if messageQuantity == 0 && ContinuousClock.now >= stopAt { break }
                            let start = ContinuousClock.now
                            do {
                                let r = try await producer.send([Message](repeating: makeMessage(), count: batchSize))
                                if r.sendStatus != .sendOK { stats.notSendOK.wrappingAdd(1, ordering: .relaxed) }
                                let d = ContinuousClock.now - start
                                stats.record(us: Int(d.components.seconds * 1_000_000 + d.components.attoseconds / 1_000_000_000_000))
                            } catch {
                                if let e = error as? MQClientError { count(e) } else { stats.sendFailed.wrappingAdd(1, ordering: .relaxed) }
                            }
                            n += 1
                        }
                    }
                }
            }
        } else {
            // Async sends as RocketMQ's benchmark does them (-q): -w sends in flight, each completion (on the
            // client's event loop) records its latency and starts the next send, so no task switch sits
            // between one answer and the next request.
            let window = SendWindow(total: messageQuantity > 0 ? messageQuantity : nil, stopAt: stopAt)
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                window.onFinished = { done.resume() }
                @Sendable func sendNext() {
                    guard window.claim() else { return window.release() }
                    let start = ContinuousClock.now
                    producer.send(makeMessage()) { result in
                        switch result {
                        case .success(let r):
                            if r.sendStatus != .sendOK { stats.notSendOK.wrappingAdd(1, ordering: .relaxed) }
                            let d = ContinuousClock.now - start
                            stats.record(us: Int(d.components.seconds * 1_000_000 + d.components.attoseconds / 1_000_000_000_000))
                        case .failure(let error):
                            count(error)
                        }
                        sendNext()
                    }
                }
                window.open(threadCount)
                for _ in 0..<threadCount { sendNext() }
            }
        }
        reporter.cancel()
        let elapsed = ContinuousClock.now - begin
        _ = await reporter.value
        let secs = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let ok = stats.ok.load(ordering: .relaxed)
        let p = stats.percentiles()
        let msgs = ok * max(1, batchSize)
        print("[Complete] Send Total: \(ok + stats.sendFailed.load(ordering: .relaxed)) | Send TPS: \(Int(Double(ok) / secs)) | Max RT(ms): \(stats.rtMaxUs.load(ordering: .relaxed) / 1000) | Average RT(ms): \(String(format: "%7.3f", ok > 0 ? Double(stats.rtSumUs.load(ordering: .relaxed)) / Double(ok) / 1000 : 0)) | Send Failed: \(stats.sendFailed.load(ordering: .relaxed)) | Response Failed: \(stats.responseFailed.load(ordering: .relaxed))")
        print(String(format: "[Summary] msgs/s: %.0f | p50(ms): %.3f | p99(ms): %.3f | p99.9(ms): %.3f | total msgs: %d | seconds: %.1f | not SEND_OK: %d",
                     Double(msgs) / secs, p.p50, p.p99, p.p999, msgs, secs, stats.notSendOK.load(ordering: .relaxed)))
        await producer.shutdown()
    }
}

struct ConsumerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "consumer")
    @OptionGroup var common: Common
    @Option(name: [.customShort("w"), .long], help: "consume workers") var threadCount = 20
    @Option(name: [.customShort("g"), .long], help: "group") var group = "benchmark_consumer"
    @Option(name: .customLong("expect"), help: "stop after this many messages (0 = run until -duration)") var expect = 0
    @Option(name: .customLong("duration"), help: "seconds to run") var duration = 30

    func run() async throws {
        print("topic: \(common.topic), threadCount \(threadCount), group: \(group), suffix: false, filterType: null, expression: null, msgTraceEnable: false, aclEnable: false, reportInterval: \(common.reportInterval)")
        var opts = PushConsumerOptions()
        opts.consumeThreadCount = threadCount
        opts.consumeFromWhere = .firstOffset
        let consumer = PushConsumer(group: group, config: common.config, options: opts)
        try consumer.subscribe(common.topic, "*")
        let stats = Stats()
        let s2c = Atomic<Int>(0)
        // First and last delivery (ns since `begin`): the backlog rate runs from the first message to the last,
        // as a peer's benchmark times it, not from start-up.
        let begin = ContinuousClock.now
        let firstNs = Atomic<Int>(0), lastNs = Atomic<Int>(0)
        consumer.registerMessageListener { msgs, _ in
            let sinceBegin = ContinuousClock.now - begin
            let ns = Int(sinceBegin.components.seconds) * 1_000_000_000 + Int(sinceBegin.components.attoseconds / 1_000_000_000)
            _ = firstNs.compareExchange(expected: 0, desired: ns, ordering: .relaxed)
            lastNs.max(ns, ordering: .relaxed)
            let nowMs = Int(Date().timeIntervalSince1970 * 1000)
            if let m = msgs.first {
                stats.record(us: max(0, nowMs - Int(m.bornTimestamp)) * 1000)
                s2c.wrappingAdd(max(0, nowMs - Int(m.storeTimestamp)), ordering: .relaxed)
            }
            return .consumeSuccess
        }
        try await consumer.start()
        print("Consumer Started.")
        var last = (t: begin, ok: 0, sum: 0, s2c: 0)
        var nextReport = begin + .milliseconds(common.reportInterval)
        while ContinuousClock.now < begin + .seconds(duration) && (expect == 0 || stats.ok.load(ordering: .relaxed) < expect) {
            try await Task.sleep(for: .milliseconds(50))
            if ContinuousClock.now >= nextReport {
                nextReport = nextReport + .milliseconds(common.reportInterval)
                let t = ContinuousClock.now, ok = stats.ok.load(ordering: .relaxed), sum = stats.rtSumUs.load(ordering: .relaxed), sc = s2c.load(ordering: .relaxed)
                let ms = Double((t - last.t).components.seconds * 1000) + Double((t - last.t).components.attoseconds) / 1e15
                let n = max(1, ok - last.ok)
                print("Current Time: \(now()) | Consume TPS: \(Int(Double(ok - last.ok) / ms * 1000)) | AVG(B2C) RT(ms): \(String(format: "%7.3f", Double(sum - last.sum) / 1000 / Double(n))) | AVG(S2C) RT(ms): \(String(format: "%7.3f", Double(sc - last.s2c) / Double(n))) | MAX(B2C) RT(ms): \(stats.rtMaxUs.load(ordering: .relaxed) / 1000) | MAX(S2C) RT(ms): 0 | Consume Fail: 0")
                last = (t, ok, sum, sc)
            }
        }
        let elapsed = ContinuousClock.now - begin
        let secs = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let p = stats.percentiles()
        let activeSecs = Double(lastNs.load(ordering: .relaxed) - firstNs.load(ordering: .relaxed)) / 1e9
        print(String(format: "[Summary] consumed: %d | msgs/s: %.0f | B2C p50(ms): %.3f | p99(ms): %.3f | p99.9(ms): %.3f | seconds: %.1f | first to last message: %.2f s, %.0f msgs/s",
                     p.count, Double(p.count) / secs, p.p50, p.p99, p.p999, secs, activeSecs, activeSecs > 0 ? Double(p.count) / activeSecs : 0))
        await consumer.shutdown()
    }
}
