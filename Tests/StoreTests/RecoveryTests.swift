// RecoveryTests: restarts after clean and abnormal exits on real files: torn and garbage tails are cut,
// ConsumeQueues longer than the log are cut, and damaged stores (missing or truncated segments) are
// refused with a clear error and left untouched.
import CStore
import Foundation
import Glibc
import Testing
@testable import Store

@Suite struct RecoveryTests {
    /// Puts `count` messages across queues 0...3 and shuts down cleanly. Returns the bodies by index.
    func fill(_ dir: String, count: Int, segmentBytes: Int64 = 64 * 1024) async throws -> [[UInt8]] {
        let store = try MessageStore(config: smallConfig(dir, segmentBytes: segmentBytes))
        store.start()
        var bodies: [[UInt8]] = []
        for i in 0..<count {
            let body = bytes(50 + (i * 13) % 900, seed: UInt8(i & 0xFF))
            let r = await store.putMessage(message(queue: Int32(i % 4), body: body, keys: "k\(i)"))
            #expect(r.status == .putOk, "\(r.remark ?? "")")
            bodies.append(body)
        }
        #expect(eventually { store.dispatchBehindBytes == 0 })
        store.shutdown()
        return bodies
    }

    func readAll(_ store: MessageStore) -> [Int32: [DecodedRecord]] {
        var out: [Int32: [DecodedRecord]] = [:]
        for q in Int32(0)..<4 {
            var next: Int64 = 0
            while true {
                let r = store.getMessage(topic: "TopicTest", queueId: q, offset: next, maxMsgNums: 32)
                if r.status != .found { break }
                out[q, default: []] += r.messages.compactMap(decode)
                next = r.nextBeginOffset
            }
        }
        return out
    }

    func lastFile(_ dir: String) -> String {
        dir + "/commitlog/" + listDirectory(dir + "/commitlog").sorted().last!
    }

    @Test func cleanRestartKeepsEverythingAndContinuesOffsets() async throws {
        let dir = TestDirs.make("clean")
        defer { TestDirs.remove(dir) }
        let bodies = try await fill(dir, count: 120)
        let store = try MessageStore(config: smallConfig(dir))
        #expect(store.recoveryReport.lastExitOK)
        store.start()
        defer { store.shutdown() }
        let all = readAll(store)
        #expect(all.values.map(\.count).reduce(0, +) == 120)
        #expect(all[1]!.map(\.body) == stride(from: 1, to: 120, by: 4).map { bodies[$0] })
        let maxBefore = store.maxPhysicalOffset
        let r = await store.putMessage(message(queue: 2, body: [9]))
        #expect(r.append?.queueOffset == 30)
        #expect(r.append?.physicalOffset == maxBefore)
    }

    @Test func abnormalRestartCutsTornTailAndAppendsWhereItEnds() async throws {
        let dir = TestDirs.make("torn")
        defer { TestDirs.remove(dir) }
        _ = try await fill(dir, count: 40)
        var end: Int64 = 0
        do {
            let s = try MessageStore(config: smallConfig(dir))
            end = s.maxPhysicalOffset
            s.start()
            s.shutdown()
        }
        // A torn record: the first 60 bytes of a valid record copied after the tail, abort file left.
        let path = lastFile(dir)
        let fd = open(path, O_RDWR)
        var head = [UInt8](repeating: 0, count: 60)
        _ = pread(fd, &head, 60, 0)
        let pos = end % (64 * 1024)
        _ = pwrite(fd, head, 60, off_t(pos))
        close(fd)
        AbortFile.create(dir + "/abort")
        let store = try MessageStore(config: smallConfig(dir))
        #expect(!store.recoveryReport.lastExitOK)
        #expect(store.recoveryReport.processOffset == end)
        #expect(store.maxPhysicalOffset == end)
        store.start()
        defer { store.shutdown() }
        #expect(readAll(store).values.map(\.count).reduce(0, +) == 40)
        let r = await store.putMessage(message(queue: 0, body: [1, 2]))
        #expect(r.append?.physicalOffset == end)
        #expect(r.append?.queueOffset == 10)
    }

    @Test func garbageOverTheTailIsCut() async throws {
        let dir = TestDirs.make("garbage")
        defer { TestDirs.remove(dir) }
        _ = try await fill(dir, count: 33)
        let end = try MessageStore(config: smallConfig(dir)).maxPhysicalOffset
        let fd = open(lastFile(dir), O_RDWR)
        var junk = (0..<3000).map { _ in UInt8.random(in: 0...255) }
        junk[4] = 0xDA; junk[5] = 0xA3; junk[6] = 0x20; junk[7] = 0xA7 // looks like a v1 magic
        _ = pwrite(fd, junk, junk.count, off_t(end % (64 * 1024)))
        close(fd)
        AbortFile.create(dir + "/abort")
        let store = try MessageStore(config: smallConfig(dir))
        #expect(store.maxPhysicalOffset == end)
        store.start()
        defer { store.shutdown() }
        #expect(readAll(store).values.map(\.count).reduce(0, +) == 33)
    }

    /// Valid records behind garbage are cut with it, and must not come back: a later crash that leaves the
    /// log ending exactly where such a record starts (here: message 10 put again, same size) would make
    /// the scan take the stale records as new. The cut erases the bytes it throws away.
    @Test func recordsCutBehindGarbageDoNotComeBackAfterTheNextCrash() async throws {
        let dir = TestDirs.make("stale")
        defer { TestDirs.remove(dir) }
        let bodies = try await fill(dir, count: 20)
        var records: [DecodedRecord] = []
        var end: Int64 = 0
        do {
            let s = try MessageStore(config: smallConfig(dir))
            records = readAll(s).values.flatMap { $0 }.sorted { $0.physicalOffset < $1.physicalOffset }
            end = s.maxPhysicalOffset
        }
        try #require(records.count == 20)
        let cutAt = records[10].physicalOffset
        let n = Int(String(records[10].properties["KEYS"]?.dropFirst() ?? "")) ?? -1
        try #require(bodies.indices.contains(n))
        // A bad header over message 10: messages 10...19 stay valid bytes, but behind garbage.
        let fd = open(lastFile(dir), O_RDWR)
        _ = pwrite(fd, [UInt8](repeating: 0xEE, count: 8), 8, off_t(cutAt % (64 * 1024)))
        close(fd)
        AbortFile.create(dir + "/abort")
        do {
            let store = try MessageStore(config: smallConfig(dir))
            #expect(store.maxPhysicalOffset == cutAt)
            #expect(store.recoveryReport.truncatedBytes == end - cutAt)
            store.start()
            #expect(readAll(store).values.map(\.count).reduce(0, +) == 10)
            // The same message again: the record after it would start where stale message 11 starts.
            let r = await store.putMessage(message(queue: Int32(n % 4), body: bodies[n], keys: "k\(n)"))
            #expect(r.append?.physicalOffset == cutAt)
            #expect(r.append.map { cutAt + Int64($0.wroteBytes) } == records[11].physicalOffset)
            store.shutdown()
        }
        AbortFile.create(dir + "/abort")
        let store = try MessageStore(config: smallConfig(dir))
        #expect(store.maxPhysicalOffset == records[11].physicalOffset, "stale records behind the old cut came back")
        store.start()
        defer { store.shutdown() }
        #expect(readAll(store).values.map(\.count).reduce(0, +) == 11)
    }

    @Test func consumeQueueLongerThanTheLogIsCut() async throws {
        let dir = TestDirs.make("cqlong")
        defer { TestDirs.remove(dir) }
        _ = try await fill(dir, count: 20)
        let cqDir = dir + "/consumequeue/TopicTest/0"
        let cqFile = cqDir + "/" + listDirectory(cqDir).sorted().last!
        let fd = open(cqFile, O_RDWR)
        var units: [UInt8] = []
        for i in 0..<5 {
            var u = [UInt8](repeating: 0, count: 20)
            apus_cq_entry_encode(&u, 10_000_000 + Int64(i) * 100, 100, 0)
            units += u
        }
        _ = pwrite(fd, units, units.count, off_t(5 * 20))
        close(fd)
        AbortFile.create(dir + "/abort")
        let store = try MessageStore(config: smallConfig(dir))
        #expect(store.maxOffsetInQueue(topic: "TopicTest", queueId: 0) == 5)
        store.start()
        defer { store.shutdown() }
        #expect(readAll(store)[0]?.count == 5)
        #expect(await store.putMessage(message(queue: 0, body: [7])).append?.queueOffset == 5)
    }

    @Test func corruptBodyInTheTailStopsRecoveryThere() async throws {
        let dir = TestDirs.make("crc")
        defer { TestDirs.remove(dir) }
        _ = try await fill(dir, count: 12)
        let store0 = try MessageStore(config: smallConfig(dir))
        let tenth = store0.commitLogOffset(topic: "TopicTest", queueId: 1, queueOffset: 2)! // message 9
        store0.start()
        store0.shutdown()
        let fd = open(lastFile(dir), O_RDWR)
        var b: UInt8 = 0
        let bodyPos = off_t(tenth % (64 * 1024) + 90)
        _ = pread(fd, &b, 1, bodyPos)
        b ^= 0xFF
        _ = pwrite(fd, &b, 1, bodyPos)
        close(fd)
        AbortFile.create(dir + "/abort")
        let store = try MessageStore(config: smallConfig(dir))
        #expect(store.maxPhysicalOffset == tenth)
        #expect(store.maxOffsetInQueue(topic: "TopicTest", queueId: 1) == 2)
        store.start()
        store.shutdown()
    }

    @Test func missingSegmentInTheMiddleIsRefusedAndNothingChanges() async throws {
        let dir = TestDirs.make("missing")
        defer { TestDirs.remove(dir) }
        _ = try await fill(dir, count: 300, segmentBytes: 32 * 1024)
        let names = listDirectory(dir + "/commitlog").sorted()
        #expect(names.count >= 4)
        let middle = dir + "/commitlog/" + names[1]
        rename(middle, dir + "/aside")
        let before = listDirectory(dir + "/commitlog").sorted().map { ($0, fileSize(dir + "/commitlog/" + $0)) }
        #expect(throws: StoreError.self) { try MessageStore(config: smallConfig(dir, segmentBytes: 32 * 1024)) }
        do {
            _ = try MessageStore(config: smallConfig(dir, segmentBytes: 32 * 1024))
        } catch let e as StoreError {
            #expect(e.code == .missingSegment)
            #expect(e.message.contains(names[1]))
        }
        let after = listDirectory(dir + "/commitlog").sorted().map { ($0, fileSize(dir + "/commitlog/" + $0)) }
        #expect(before.map(\.0) == after.map(\.0))
        #expect(before.map(\.1) == after.map(\.1))
        rename(dir + "/aside", middle)
        let store = try MessageStore(config: smallConfig(dir, segmentBytes: 32 * 1024))
        store.start()
        defer { store.shutdown() }
        #expect(readAll(store).values.map(\.count).reduce(0, +) == 300)
    }

    @Test func truncatedOrForeignSegmentFilesAreRefused() async throws {
        let dir = TestDirs.make("trunc")
        defer { TestDirs.remove(dir) }
        _ = try await fill(dir, count: 10)
        let path = lastFile(dir)
        truncate(path, 1000)
        do {
            _ = try MessageStore(config: smallConfig(dir))
            Issue.record("a truncated segment was accepted")
        } catch let e as StoreError {
            #expect(e.code == .fileSizeMismatch)
            #expect(e.message.contains("expected 65536"))
        }
        #expect(fileSize(path) == 1000)
        truncate(path, 65536)
        _ = FileManager.default.createFile(atPath: dir + "/commitlog/notes.txt", contents: Data("x".utf8))
        #expect(throws: StoreError.self) { try MessageStore(config: smallConfig(dir)) }
    }

    @Test func secondProcessOnTheSameStoreFailsAtOnce() async throws {
        let dir = TestDirs.make("lock")
        defer { TestDirs.remove(dir) }
        let child = try ChildProcess(productDirectory() + "/apus-store-crasher", ["hold", dir])
        defer { child.kill() }
        #expect(child.waitForLine { $0 == "READY" } != nil)
        do {
            _ = try MessageStore(config: smallConfig(dir))
            Issue.record("a second store opened a locked directory")
        } catch let e as StoreError {
            #expect(e.code == .lockHeld)
            #expect(e.message.contains("Lock failed, MQ already started"))
            #expect(e.message.contains("pid \(child.pid)"))
        }
    }

    @Test func retentionDeletesOldFilesButNeverTheActiveOne() async throws {
        let dir = TestDirs.make("retention")
        defer { TestDirs.remove(dir) }
        var config = smallConfig(dir, segmentBytes: 32 * 1024)
        let later = currentTimeMs() + 2 * 3_600_000
        var t = time_t(later / 1000)
        var tmv = tm()
        localtime_r(&t, &tmv)
        config.deleteWhen = String(format: "%02d", Int(tmv.tm_hour))
        config.fileReservedTimeHours = 1
        config.diskMaxUsedSpaceRatioPercent = 95
        config.diskSpaceCleanForciblyRatioPercent = 85
        config.diskSpaceWarningLevelRatioPercent = 90
        let store = try MessageStore(config: config)
        store.start(cleanFirstDelayMs: 3_600_000)
        defer { store.shutdown() }
        for i in 0..<300 { _ = await store.putMessage(message(queue: 0, body: bytes(400), keys: "k\(i)")) }
        #expect(eventually { store.dispatchBehindBytes == 0 })
        let filesBefore = store.commitLog.queue.mappedFiles.count
        #expect(filesBefore >= 4)
        // Not yet expired at the start of the epoch's clock: nothing goes.
        #expect(store.runCleanPass(nowMs: 0, diskUsedRatio: 0.5) == 0)
        // Two hours later (at the configured deleteWhen hour) everything but the active file has expired;
        // each pass deletes at most deleteFileBatchMax files.
        while store.runCleanPass(nowMs: later, diskUsedRatio: 0.5) > 0 {}
        #expect(store.commitLog.queue.mappedFiles.count == 1)
        let min = store.minOffsetInQueue(topic: "TopicTest", queueId: 0)
        #expect(min > 0)
        let r = store.getMessage(topic: "TopicTest", queueId: 0, offset: 0, maxMsgNums: 1)
        #expect(r.status == .offsetTooSmall)
        #expect(r.nextBeginOffset == min)
        #expect(store.getMessage(topic: "TopicTest", queueId: 0, offset: min, maxMsgNums: 1).status == .found)
        // ConsumeQueue files whose units all point below the new min were deleted too (50 units a file).
        let cqFilesLeft: Int = listDirectory(dir + "/consumequeue/TopicTest/0").count
        #expect(cqFilesLeft < 6)
    }
}
