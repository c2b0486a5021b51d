// CrashSafetyTests: a child process appends under SYNC_FLUSH and is killed with SIGKILL at random
// moments, dozens of times. After each kill the store reopens (abnormal recovery) and every
// acknowledged message must be present and intact at its acknowledged offsets, every visible message
// must be a valid one, and appends continue at the right offsets. Variants write garbage over the tail
// and make a ConsumeQueue longer than the log before reopening, and run the child with a TransientStorePool.
import Common
import CStore
import Foundation
import Glibc
import ApusTestSupport
import Testing
@testable import Store

@Suite(.serialized) struct CrashSafetyTests {
    enum Damage { case none, garbageTail, longConsumeQueue }
    static let segmentBytes: Int64 = 128 * 1024

    struct Ack { let n: Int; let queue: Int32; let queueOffset: Int64; let physicalOffset: Int64; let bodyBytes: Int }

    func config(_ dir: String) -> MessageStoreConfig {
        var c = MessageStoreConfig(storePathRootDir: dir)
        c.flushDiskType = .syncFlush
        c.mappedFileSizeCommitLogBytes = Self.segmentBytes
        c.mappedFileSizeConsumeQueueBytes = 20 * 64
        c.maxHashSlotNum = 64
        c.maxIndexNum = 256
        return c
    }

    static func expectedBody(_ n: Int, seed: UInt64) -> [UInt8] { StoreCrashBody.make(n, seed: seed) }

    func runAndKill(_ dir: String, seed: UInt64, acksBeforeKill: Int, pool: Bool = false) throws -> [Ack] {
        let child = try ChildProcess(productDirectory() + "/apus-store-crasher",
                                     ["append", dir, String(Self.segmentBytes), String(seed), "8"] + (pool ? ["pool"] : []))
        var acks = 0
        _ = child.waitForLine { line in
            if line.hasPrefix("ACK") { acks += 1 }
            return acks >= acksBeforeKill || line.hasPrefix("ERROR")
        }
        child.kill()
        #expect(!child.lines.contains { $0.hasPrefix("ERROR") || $0.hasPrefix("FAIL") }, "\(child.lines.filter { !$0.hasPrefix("ACK") })")
        return child.lines.compactMap { line in
            let p = line.split(separator: " ")
            guard p.count == 6, p[0] == "ACK", let n = Int(p[1]), let q = Int32(p[2]), let qo = Int64(p[3]),
                  let po = Int64(p[4]), let b = Int(p[5]) else { return nil }
            return Ack(n: n, queue: q, queueOffset: qo, physicalOffset: po, bodyBytes: b)
        }
    }

    func damage(_ dir: String, _ kind: Damage, ackedEnd: Int64) {
        switch kind {
        case .none: return
        case .garbageTail:
            // Garbage from the end of the last acknowledged record onwards, within its segment.
            let start = ackedEnd - ackedEnd % Self.segmentBytes
            let path = dir + "/commitlog/" + MappedFile.fileName(forOffset: start)
            let pos = ackedEnd % Self.segmentBytes
            let n = Int(min(4096, Self.segmentBytes - pos))
            guard n > 0, let fd = Optional(open(path, O_RDWR)), fd >= 0 else { return }
            let junk = (0..<n).map { _ in UInt8.random(in: 1...255) }
            _ = pwrite(fd, junk, n, off_t(pos))
            close(fd)
        case .longConsumeQueue:
            let qdir = dir + "/consumequeue/CrashTopic/0"
            guard let last = listDirectory(qdir).sorted().last else { return }
            let path = qdir + "/" + last
            guard let size = fileSize(path) else { return }
            let fd = open(path, O_RDWR)
            var units: [UInt8] = []
            for i in 0..<3 {
                var u = [UInt8](repeating: 0, count: 20)
                apus_cq_entry_encode(&u, ackedEnd + 1_000_000 + Int64(i) * 64, 64, 0)
                units += u
            }
            // Find the end of the valid units and write past it (inside the file).
            var buf = [UInt8](repeating: 0, count: Int(size))
            _ = pread(fd, &buf, buf.count, 0)
            var end = 0
            var e = apus_cq_entry()
            while end + 20 <= buf.count {
                apus_cq_entry_decode(Array(buf[end..<end + 20]), &e)
                if e.size <= 0 { break }
                end += 20
            }
            if end + 60 <= buf.count { _ = pwrite(fd, units, 60, off_t(end)) }
            close(fd)
        }
    }

    /// `acksAreDurable`: SYNC_FLUSH acknowledgements must survive; under ASYNC_FLUSH with the pool an
    /// acknowledged message may still have been in a write buffer, so only what is visible is checked.
    func verify(_ dir: String, acks: [Ack], seed: UInt64, expectedTotal: inout [Int32: Int64], acksAreDurable: Bool = true) async throws {
        let store = try MessageStore(config: config(dir))
        store.start(cleanFirstDelayMs: 3_600_000)
        defer { store.shutdown() }
        #expect(!store.recoveryReport.lastExitOK)
        for ack in acks where acksAreDurable {
            let r = store.getMessage(topic: "CrashTopic", queueId: ack.queue, offset: ack.queueOffset, maxMsgNums: 1)
            guard r.status == .found, let rec = r.messages.first.flatMap(decode) else {
                Issue.record("acknowledged message \(ack.n) missing at queue \(ack.queue) offset \(ack.queueOffset): \(r.status)")
                continue
            }
            #expect(rec.physicalOffset == ack.physicalOffset)
            #expect(rec.body == Self.expectedBody(ack.n, seed: seed), "message \(ack.n) corrupted")
            #expect(rec.properties["KEYS"] == "k\(ack.n)")
        }
        // Every visible message is whole and self-consistent, queue offsets dense from 0.
        for q in Int32(0)..<4 {
            let maxOffset = store.maxOffsetInQueue(topic: "CrashTopic", queueId: q)
            #expect(maxOffset >= (expectedTotal[q] ?? 0), "queue \(q) lost acknowledged messages")
            var next: Int64 = 0
            while next < maxOffset {
                let r = store.getMessage(topic: "CrashTopic", queueId: q, offset: next, maxMsgNums: 32)
                #expect(r.status == .found)
                if r.status != .found { break }
                for (rec, off) in zip(r.messages.compactMap(decode), r.queueOffsets) {
                    #expect(rec.queueOffset == off)
                    let header = String(decoding: rec.body.prefix(while: { $0 != UInt8(ascii: ";") }), as: UTF8.self)
                    let n = Int(header.dropFirst(2)) ?? -1
                    #expect(rec.body == Self.expectedBody(n, seed: seed), "visible message \(n) is not intact")
                }
                next = r.nextBeginOffset
            }
            expectedTotal[q] = maxOffset
        }
        // Appends continue at the right offsets.
        let maxPhysical = store.maxPhysicalOffset
        let q0 = store.maxOffsetInQueue(topic: "CrashTopic", queueId: 0)
        let r = await store.putMessage(MessageToStore(topic: "CrashTopic", queueId: 0, body: Self.expectedBody(Int(maxPhysical), seed: seed),
                                                      properties: MessageProperties.encode([("KEYS", "k\(maxPhysical)")])))
        #expect(r.status == .putOk)
        #expect(r.append?.queueOffset == q0)
        let a = try #require(r.append)
        // The new record starts at the recovered end, or at the next segment if it did not fit.
        let nextSegment: Int64 = maxPhysical - maxPhysical % Self.segmentBytes + Self.segmentBytes
        let atTail: Bool = a.physicalOffset == maxPhysical
        let atNextSegment: Bool = a.physicalOffset == nextSegment
        #expect(atTail || atNextSegment)
        expectedTotal[0] = q0 + 1
    }

    func crashLoop(_ name: String, iterations: Int, damage kind: Damage, pool: Bool = false) async throws {
        let dir = TestDirs.make(name)
        defer { TestDirs.remove(dir) }
        let seed = UInt64.random(in: 1...UInt64.max)
        var totals: [Int32: Int64] = [:]
        var acked = 0
        for i in 0..<iterations {
            let acks = try runAndKill(dir, seed: seed, acksBeforeKill: Int.random(in: 1...(i % 3 == 0 ? 20 : 400)), pool: pool)
            acked += acks.count
            // Garbage goes strictly after the last acknowledged record: compute its end (store.md §3.2).
            let last = acks.max { $0.physicalOffset < $1.physicalOffset }
            let lastEnd: Int64 = last.map { ack in
                let props = MessageProperties.encode([("KEYS", "k\(ack.n)"), ("WAIT", "true")]).utf8.count
                return ack.physicalOffset + Int64(91 + ack.bodyBytes + "CrashTopic".utf8.count + props)
            } ?? 0
            damage(dir, kind, ackedEnd: lastEnd)
            try await verify(dir, acks: acks, seed: seed, expectedTotal: &totals, acksAreDurable: !pool)
        }
        #expect(acked > iterations)
    }

    @Test func acknowledgedMessagesSurviveSigkill() async throws {
        try await crashLoop("crash", iterations: 30, damage: .none)
    }

    @Test func acknowledgedMessagesSurviveSigkillWithGarbageOverTheTail() async throws {
        try await crashLoop("crashgarbage", iterations: 12, damage: .garbageTail)
    }

    @Test func acknowledgedMessagesSurviveSigkillWithConsumeQueueLongerThanLog() async throws {
        try await crashLoop("crashcq", iterations: 12, damage: .longConsumeQueue)
    }

    /// TransientStorePool (ASYNC_FLUSH): a kill may lose what was still in a write buffer, but recovery must
    /// find a clean prefix: everything visible intact, queue offsets dense, nothing verified earlier lost.
    @Test func storeWithTransientStorePoolRecoversAfterSigkill() async throws {
        try await crashLoop("crashpool", iterations: 12, damage: .none, pool: true)
    }
}
