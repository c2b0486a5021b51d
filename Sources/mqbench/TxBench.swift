// mqbench tx: RocketMQ's benchmark TransactionProducer (admin.md §14.3) over the Swift TransactionProducer.
// Each body carries the batch id, a sequence id, the planned local result and 20 planned check answers, so
// the listener answers checks from the body and spots unexpected and duplicated checks. Prints the
// RocketMQ line every -ri ms; then, unlike RocketMQ's endless tool, it stops after -q messages (or
// --duration seconds), consumes the topic from where it stood before the run and checks that exactly the
// transactions planned to commit arrived, and prints a [Complete] and a [Summary] line.

import ArgumentParser
import Client
import Foundation
import Synchronization

/// What one body plans: its ids, the local transaction's answer and the answers to checks 1…20.
struct TxPlan: Sendable {
    static let checkResultsInMessage = 20
    static let headerBytes = 8 + 8 + 1 + checkResultsInMessage
    /// RocketMQ's LocalTransactionState ordinals, as the Java tool writes them.
    static let states: [LocalTransactionState] = [.commitMessage, .rollbackMessage, .unknow]

    let batchId: Int64
    let sequenceId: Int64
    let local: LocalTransactionState
    let checks: [LocalTransactionState]

    init?(body: [UInt8]) {
        guard body.count >= Self.headerBytes else { return nil }
        func int64(_ at: Int) -> Int64 { body[at..<(at + 8)].reduce(Int64(0)) { $0 << 8 | Int64($1) } }
        func state(_ at: Int) -> LocalTransactionState? { Int(body[at]) < Self.states.count ? Self.states[Int(body[at])] : nil }
        guard let local = state(16) else { return nil }
        var checks: [LocalTransactionState] = []
        for i in 0..<Self.checkResultsInMessage {
            guard let s = state(17 + i) else { return nil }
            checks.append(s)
        }
        batchId = int64(0)
        sequenceId = int64(8)
        self.local = local
        self.checks = checks
    }

    /// A random body of `size` bytes planned with the given rates (two draws per answer, as RocketMQ does).
    static func makeBody(size: Int, batchId: Int64, sequenceId: Int64, sendRollbackRate: Double, sendUnknownRate: Double,
                         checkRollbackRate: Double, checkUnknownRate: Double) -> [UInt8] {
        var body = (0..<size).map { _ in UInt8.random(in: 0...255) }
        func put(_ v: Int64, at: Int) { for k in 0..<8 { body[at + k] = UInt8(truncatingIfNeeded: v >> (56 - 8 * k)) } }
        func draw(_ rollback: Double, _ unknown: Double) -> UInt8 {
            if Double.random(in: 0..<1) < rollback { return 1 }
            if Double.random(in: 0..<1) < unknown { return 2 }
            return 0
        }
        put(batchId, at: 0)
        put(sequenceId, at: 8)
        body[16] = draw(sendRollbackRate, sendUnknownRate)
        for i in 0..<checkResultsInMessage { body[17 + i] = draw(checkRollbackRate, checkUnknownRate) }
        return body
    }

    /// Whether the transaction ends committed: the local answer, else the first decisive check answer among
    /// the broker's `checkMax` checks (all UNKNOW: the broker discards it).
    func endsCommitted(checkMax: Int) -> Bool {
        switch local {
        case .commitMessage: return true
        case .rollbackMessage: return false
        case .unknow:
            for s in checks.prefix(max(0, checkMax)) where s != .unknow { return s == .commitMessage }
            return false
        }
    }
}

/// Counters shared by the senders, the listener and the reporter.
final class TxStats: Sendable {
    let sendSuccess = Atomic<Int>(0)
    let sendFailed = Atomic<Int>(0)
    /// Time of every send, failed ones included (the Java tool's AVG RT divides this by successes).
    let sendTimeTotalUs = Atomic<Int>(0)
    /// Reset by each periodic line.
    let sendMaxRTUs = Atomic<Int>(0)
    let sendMaxRTAllUs = Atomic<Int>(0)
    let checkCount = Atomic<Int>(0)
    let unexpectedCheck = Atomic<Int>(0)
    let duplicatedCheck = Atomic<Int>(0)
    let localCommit = Atomic<Int>(0), localRollback = Atomic<Int>(0), localUnknown = Atomic<Int>(0)
    let checkCommit = Atomic<Int>(0), checkRollback = Atomic<Int>(0), checkUnknown = Atomic<Int>(0)
    /// Counter of the sequence ids written into bodies.
    let sequence = Atomic<Int64>(0)
    /// Sequence id → whether the transaction ends committed, for every SEND_OK transaction.
    let planned = Mutex<[Int64: Bool]>([:])

    func recordSend(us: Int, ok: Bool) {
        if ok { sendSuccess.wrappingAdd(1, ordering: .relaxed) } else { sendFailed.wrappingAdd(1, ordering: .relaxed) }
        sendTimeTotalUs.wrappingAdd(us, ordering: .relaxed)
        Self.raise(sendMaxRTUs, to: us)
        Self.raise(sendMaxRTAllUs, to: us)
    }

    static func raise(_ maximum: borrowing Atomic<Int>, to value: Int) {
        var cur = maximum.load(ordering: .relaxed)
        while value > cur {
            let (done, now) = maximum.compareExchange(expected: cur, desired: value, ordering: .relaxed)
            if done { break }
            cur = now
        }
    }

    func countLocal(_ s: LocalTransactionState) {
        switch s {
        case .commitMessage: localCommit.wrappingAdd(1, ordering: .relaxed)
        case .rollbackMessage: localRollback.wrappingAdd(1, ordering: .relaxed)
        case .unknow: localUnknown.wrappingAdd(1, ordering: .relaxed)
        }
    }

    func countCheckAnswer(_ s: LocalTransactionState) {
        switch s {
        case .commitMessage: checkCommit.wrappingAdd(1, ordering: .relaxed)
        case .rollbackMessage: checkRollback.wrappingAdd(1, ordering: .relaxed)
        case .unknow: checkUnknown.wrappingAdd(1, ordering: .relaxed)
        }
    }
}

/// Answers from the body's plan; counts checks, unexpected ones (the transaction had already ended) and
/// duplicated ones (the same check number twice for one message).
final class BenchTransactionListener: TransactionListener {
    let batchId: Int64
    let stats: TxStats
    /// Sequence id → bit per check number seen; bounded like the Java tool's 200 000-entry LRU map.
    private let checkLog = Mutex<(bits: [Int64: Int32], order: [Int64])>(([:], []))
    static let checkLogCapacity = 200_000

    init(batchId: Int64, stats: TxStats) {
        self.batchId = batchId
        self.stats = stats
    }

    func executeLocalTransaction(_ message: Message, arg: (any Sendable)?) async throws -> LocalTransactionState {
        let state = TxPlan(body: message.body)?.local ?? .rollbackMessage
        stats.countLocal(state)
        return state
    }

    func checkLocalTransaction(_ message: MessageExt) async throws -> LocalTransactionState {
        let answer = check(message)
        stats.countCheckAnswer(answer)
        return answer
    }

    private func check(_ message: MessageExt) -> LocalTransactionState {
        guard let plan = TxPlan(body: message.body), plan.batchId == batchId else { return .rollbackMessage }  // not this run's
        stats.checkCount.wrappingAdd(1, ordering: .relaxed)
        guard let parsed = message.properties[MessageConst.transactionCheckTimes].flatMap({ Int($0) }) else { return .rollbackMessage }
        let times = max(1, parsed)
        guard times <= TxPlan.checkResultsInMessage else { return .unknow }
        let duplicated = checkLog.withLock { log -> Bool in
            let bit = Int32(1) << (times - 1)
            let old = log.bits[plan.sequenceId]
            if old == nil {
                log.order.append(plan.sequenceId)
                if log.order.count > Self.checkLogCapacity { log.bits[log.order.removeFirst()] = nil }
            }
            log.bits[plan.sequenceId] = (old ?? 0) | bit
            return (old ?? 0) & bit != 0
        }
        if duplicated { stats.duplicatedCheck.wrappingAdd(1, ordering: .relaxed) }
        if plan.local != .unknow {
            print("\(Self.clock()) unexpected check: msgId=\(message.msgId),txId=\(message.transactionId ?? "null"),checkTimes=\(times),sendResult=\(plan.local.rawValue)")
            stats.unexpectedCheck.wrappingAdd(1, ordering: .relaxed)
            return plan.local
        }
        for s in plan.checks.prefix(times - 1) where s != .unknow {
            print("\(Self.clock()) unexpected check: msgId=\(message.msgId),txId=\(message.transactionId ?? "null"),checkTimes=\(times),sendResult,lastCheckResult=\(s.rawValue)")
            stats.unexpectedCheck.wrappingAdd(1, ordering: .relaxed)
            return s
        }
        return plan.checks[times - 1]
    }

    static func clock() -> String {
        let f = DateFormatter()
        f.dateFormat = "HH:mm:ss,SSS"
        return f.string(from: Date())
    }
}

struct TxBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tx", abstract: "transaction producer (RocketMQ's benchmark TransactionProducer)")
    @OptionGroup var common: Common
    @Option(name: [.customShort("w"), .long], help: "sender tasks") var threadCount = 32
    @Option(name: [.customShort("s"), .long], help: "body bytes (at least 37)") var messageSize = 2048
    @Option(name: .customLong("sr", withSingleDash: true), help: "send rollback rate") var sendRollbackRate = 0.0
    @Option(name: .customLong("su", withSingleDash: true), help: "send unknown rate") var sendUnknownRate = 0.0
    @Option(name: .customLong("cr", withSingleDash: true), help: "check rollback rate") var checkRollbackRate = 0.0
    @Option(name: .customLong("cu", withSingleDash: true), help: "check unknown rate") var checkUnknownRate = 0.0
    @Option(name: [.customShort("b"), .long], help: "test batch id (default: now in ms)") var batchId: Int64?
    @Option(name: [.customShort("i"), .long], help: "ms to sleep between sends") var sendInterval = 0
    @Option(name: [.customShort("q"), .long], help: "transactions in total (0 = until --duration seconds)") var messageQuantity = 0
    @Option(name: .customLong("duration"), help: "seconds to run when -q is 0") var duration = 20
    @Option(name: .customLong("verify"), help: "consume the topic afterwards and check the commits") var verify = true
    @Option(name: .customLong("verify-timeout"), help: "seconds to wait for checks and consumption") var verifyTimeout = 60
    @Option(name: .customLong("check-max"), help: "the broker's transactionCheckMax") var transactionCheckMax = 15

    func validate() throws {
        guard messageSize >= TxPlan.headerBytes else { throw ValidationError("messageSize must be at least \(TxPlan.headerBytes)") }
        guard threadCount > 0 else { throw ValidationError("threadCount must be positive") }
    }

    func run() async throws {
        let batch = batchId ?? Int64(Date().timeIntervalSince1970 * 1000)
        print("topic: \(common.topic), threadCount: \(threadCount), messageSize: \(messageSize), sendRollbackRate: \(sendRollbackRate), sendUnknownRate: \(sendUnknownRate), checkRollbackRate: \(checkRollbackRate), checkUnknownRate: \(checkUnknownRate), batchId: \(batch), sendInterval: \(sendInterval), messageQuantity: \(messageQuantity), reportInterval: \(common.reportInterval)")
        let stats = TxStats()
        let listener = BenchTransactionListener(batchId: batch, stats: stats)
        var options = ProducerOptions()
        options.defaultTopicQueueNums = 1000
        options.compressMsgBodyOverHowmuch = .max
        let producer = TransactionProducer(group: "benchmark_transaction_producer", config: common.config, options: options, listener: listener)
        try await producer.start()

        // Where the topic stood before the run, so verification reads only this run's messages.
        var startOffsets: [String: Int64] = [:]  // "<brokerName>#<queueId>" → max offset
        if verify, let queues = try? await producer.fetchPublishMessageQueues(common.topic) {
            for mq in queues { startOffsets["\(mq.brokerName)#\(mq.queueId)"] = (try? await producer.maxOffset(mq)) ?? 0 }
        }

        let startTime = Int64(Date().timeIntervalSince1970 * 1000)
        let begin = ContinuousClock.now
        let reporter = Task { await report(stats) }
        let perWorker = messageQuantity > 0 ? messageQuantity / threadCount : Int.max
        await withTaskGroup(of: Void.self) { group in
            for w in 0..<threadCount {
                group.addTask {
                    let quota = messageQuantity > 0 ? perWorker + (w == 0 ? messageQuantity % threadCount : 0) : Int.max
                    var n = 0
                    while n < quota {
                        if messageQuantity == 0 && ContinuousClock.now >= begin + .seconds(duration) { break }
                        n += 1
                        let seq = (startTime << 32) | stats.sequence.wrappingAdd(1, ordering: .relaxed).oldValue
                        let body = TxPlan.makeBody(size: messageSize, batchId: batch, sequenceId: seq,
                                                   sendRollbackRate: sendRollbackRate, sendUnknownRate: sendUnknownRate,
                                                   checkRollbackRate: checkRollbackRate, checkUnknownRate: checkUnknownRate)
                        let start = ContinuousClock.now
                        var ok = false
                        do {
                            let r = try await producer.sendMessageInTransaction(Message(topic: common.topic, body: body))
                            ok = r.sendStatus == .sendOK
                            if ok, let plan = TxPlan(body: body) {
                                stats.planned.withLock { $0[seq] = plan.endsCommitted(checkMax: transactionCheckMax) }
                            }
                        } catch {
                            ok = false
                        }
                        stats.recordSend(us: Self.micros(ContinuousClock.now - start), ok: ok)
                        if sendInterval > 0 { try? await Task.sleep(for: .milliseconds(sendInterval)) }
                    }
                }
            }
        }
        reporter.cancel()
        let secs = Self.seconds(ContinuousClock.now - begin)
        let ok = stats.sendSuccess.load(ordering: .relaxed), failed = stats.sendFailed.load(ordering: .relaxed)
        print("[Complete] Send Total: \(ok + failed) | Send TPS: \(Int(Double(ok) / max(secs, 0.001))) | Max RT(ms): \(stats.sendMaxRTAllUs.load(ordering: .relaxed) / 1000) | AVG RT(ms): \(String(format: "%3.1f", ok > 0 ? Double(stats.sendTimeTotalUs.load(ordering: .relaxed)) / Double(ok) / 1000 : 0)) | Send Failed: \(failed) | Check: \(stats.checkCount.load(ordering: .relaxed)) | UnexpectedCheck: \(stats.unexpectedCheck.load(ordering: .relaxed)) | DuplicatedCheck: \(stats.duplicatedCheck.load(ordering: .relaxed))")

        let plans = stats.planned.withLock { $0 }
        let expected = Set(plans.filter { $0.value }.keys)
        var outcome = VerifyOutcome()
        if verify {
            outcome = try await consumeAndVerify(batch: batch, plans: plans, expected: expected, startOffsets: startOffsets)
        }
        let failures = failed + outcome.missing + outcome.unexpected
        let l = (stats.localCommit.load(ordering: .relaxed), stats.localRollback.load(ordering: .relaxed), stats.localUnknown.load(ordering: .relaxed))
        let c = (stats.checkCommit.load(ordering: .relaxed), stats.checkRollback.load(ordering: .relaxed), stats.checkUnknown.load(ordering: .relaxed))
        print("[Summary] sent: \(ok) | send failed: \(failed) | local commit: \(l.0) | local rollback: \(l.1) | local unknown: \(l.2) | checks: \(stats.checkCount.load(ordering: .relaxed)) | check commit: \(c.0) | check rollback: \(c.1) | check unknown: \(c.2) | unexpected checks: \(stats.unexpectedCheck.load(ordering: .relaxed)) | duplicated checks: \(stats.duplicatedCheck.load(ordering: .relaxed)) | expected commits: \(expected.count) | consumed: \(verify ? String(outcome.consumed) : "not verified") | duplicates: \(outcome.duplicates) | missing: \(outcome.missing) | unexpected consumed: \(outcome.unexpected) | failures: \(failures)")
        await producer.shutdown()
        if failures > 0 { throw ExitCode(1) }
    }

    struct VerifyOutcome {
        var consumed = 0
        var duplicates = 0
        var missing = 0
        var unexpected = 0
    }

    /// Reads the topic from the pre-run offsets until every transaction planned to commit has arrived (or
    /// the timeout: UNKNOW ones wait for the broker's checks), counting what should not have arrived.
    func consumeAndVerify(batch: Int64, plans: [Int64: Bool], expected: Set<Int64>, startOffsets: [String: Int64])
        async throws -> VerifyOutcome
    {
        var opts = LitePullConsumerOptions()
        opts.autoCommit = false
        opts.pullBatchSize = 32
        let consumer = LitePullConsumer(group: "benchmark_tx_verify", config: common.config, options: opts)
        try await consumer.start()
        let queues = try await consumer.fetchMessageQueues(common.topic)
        try await consumer.assign(queues)
        for mq in queues {
            let from = startOffsets["\(mq.brokerName)#\(mq.queueId)"] ?? 0
            do { try await consumer.seek(mq, to: from) } catch { try? await consumer.seek(mq, to: 0) }
        }
        var seen = Set<Int64>()
        var outcome = VerifyOutcome()
        let deadline = ContinuousClock.now + .seconds(verifyTimeout)
        while ContinuousClock.now < deadline && !expected.isSubset(of: seen) {
            for m in await consumer.poll(timeoutMs: 200) {
                guard let plan = TxPlan(body: m.body), plan.batchId == batch else { continue }
                if !seen.insert(plan.sequenceId).inserted { outcome.duplicates += 1; continue }
                if plans[plan.sequenceId] == false {
                    outcome.unexpected += 1
                    print("unexpected consume: msgId=\(m.msgId) was planned to end rolled back")
                }
            }
        }
        outcome.consumed = seen.intersection(plans.keys).count
        outcome.missing = expected.subtracting(seen).count
        await consumer.shutdown()
        return outcome
    }

    /// The RocketMQ line every report interval: window figures, Max RT reset after each print.
    func report(_ stats: TxStats) async {
        var last = (t: ContinuousClock.now, ok: 0, failed: 0, time: 0, check: 0, unexpected: 0, dup: 0)
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(common.reportInterval))
            if Task.isCancelled { return }
            let t = ContinuousClock.now
            let ok = stats.sendSuccess.load(ordering: .relaxed), failed = stats.sendFailed.load(ordering: .relaxed)
            let time = stats.sendTimeTotalUs.load(ordering: .relaxed), check = stats.checkCount.load(ordering: .relaxed)
            let unexpected = stats.unexpectedCheck.load(ordering: .relaxed), dup = stats.duplicatedCheck.load(ordering: .relaxed)
            let ms = max(1, Int(Self.seconds(t - last.t) * 1000))
            let tps = (ok - last.ok) * 1000 / ms
            let avg = ok > last.ok ? Double(time - last.time) / Double(ok - last.ok) / 1000 : 0
            let maxRT = stats.sendMaxRTUs.exchange(0, ordering: .relaxed) / 1000
            print("Current Time: \(now()) | Send TPS: \(String(format: "%5d", tps)) | Max RT(ms): \(String(format: "%5d", maxRT)) | AVG RT(ms): \(String(format: "%3.1f", avg)) | Send Failed: \(failed - last.failed) | Check: \(check - last.check) | UnexpectedCheck: \(unexpected - last.unexpected) | DuplicatedCheck: \(dup - last.dup)")
            last = (t, ok, failed, time, check, unexpected, dup)
        }
    }

    static func micros(_ d: Duration) -> Int { Int(d.components.seconds * 1_000_000 + d.components.attoseconds / 1_000_000_000_000) }
    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
}
