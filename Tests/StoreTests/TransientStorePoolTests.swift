// TransientStorePoolTests: transientStorePoolEnable (store.md §3.12) on real files: appends go to pool
// buffers and become visible only once committed; every message reads back byte-identical across
// segments (including segments written through the mapping when the pool ran dry); buffers go back
// to the pool; a clean shutdown commits what was left.
import Foundation
import Testing
@testable import Store

@Suite struct TransientStorePoolTests {
    private func poolConfig(_ dir: String, buffers: Int64, neverCommitByItself: Bool = false) -> MessageStoreConfig {
        var c = smallConfig(dir, segmentBytes: 64 * 1024)
        c.transientStorePoolEnable = true
        c.transientStorePoolSize = buffers
        c.commitIntervalCommitLogMs = 5
        if neverCommitByItself {
            c.commitIntervalCommitLogMs = 600_000
            c.commitCommitLogThoroughIntervalMs = 600_000
            c.commitCommitLogLeastPages = 1_000
        }
        return c
    }

    private func readAll(_ store: MessageStore, queue: Int32, count: Int64) -> [DecodedRecord] {
        var next: Int64 = 0
        var got: [DecodedRecord] = []
        while next < count {
            let r = store.getMessage(topic: "TopicTest", queueId: queue, offset: next, maxMsgNums: 32)
            guard r.status == .found else { break }
            got += r.messages.compactMap(decode)
            next = r.nextBeginOffset
        }
        return got
    }

    @Test func messagesCrossSegmentsThroughPoolBuffersAndReadBackIdentical() async throws {
        let dir = TestDirs.make("pool")
        defer { TestDirs.remove(dir) }
        // Three buffers for about eight 64 KiB segments: the committer must hand buffers back for reuse,
        // and a segment prepared while none is free is written through its mapping.
        let store = try MessageStore(config: poolConfig(dir, buffers: 3))
        #expect(store.commitLog.pool?.availableBufferCount == 3)
        store.start()
        var sent: [(body: [UInt8], offset: Int64)] = []
        for i in 0..<400 {
            let body = bytes(200 + (i * 53) % 2000, seed: UInt8(i & 0xFF))
            let r = await store.putMessage(message(queue: 0, body: body, tags: "TagA"))
            #expect(r.status == .putOk)
            sent.append((body, try #require(r.append).physicalOffset))
        }
        #expect(eventually { store.dispatchBehindBytes == 0 && store.maxOffsetInQueue(topic: "TopicTest", queueId: 0) == 400 })
        let got = readAll(store, queue: 0, count: 400)
        #expect(got.count == 400)
        for (rec, exp) in zip(got, sent) {
            #expect(rec.body == exp.body)
            #expect(rec.physicalOffset == exp.offset)
        }
        let files = store.commitLog.queue.mappedFiles
        #expect(files.count >= 6)
        // Every full file has been committed to its end and gave its buffer back.
        #expect(eventually { files.dropLast().allSatisfy { $0.wrotePosition == $0.sizeBytes && !$0.hasWriteBuffer } })
        store.shutdown()

        // What the files hold is what was acknowledged: reopen without the pool.
        var plain = smallConfig(dir, segmentBytes: 64 * 1024)
        plain.transientStorePoolEnable = false
        let reopened = try MessageStore(config: plain)
        reopened.start()
        defer { reopened.shutdown() }
        #expect(reopened.recoveryReport.lastExitOK)
        let again = readAll(reopened, queue: 0, count: 400)
        #expect(again.map(\.body) == sent.map(\.body))
    }

    @Test func appendsStayInvisibleUntilCommittedAndShutdownCommitsTheRest() async throws {
        let dir = TestDirs.make("pool-visibility")
        defer { TestDirs.remove(dir) }
        let store = try MessageStore(config: poolConfig(dir, buffers: 2, neverCommitByItself: true))
        store.start()
        let first = await store.putMessage(message(queue: 1, body: bytes(300)))
        #expect(first.status == .putOk)
        // Acknowledged, but only in the pool's buffer: readers and dispatch see nothing yet.
        #expect(store.maxPhysicalOffset == 0)
        #expect(store.commitLog.uncommittedBytes > 0)
        #expect(store.lookMessage(physicalOffset: 0) == nil)
        let committed = try store.commitLog.commit(leastPages: 0)
        #expect(committed == store.maxPhysicalOffset)
        #expect(store.commitLog.uncommittedBytes == 0)
        #expect(eventually { store.maxOffsetInQueue(topic: "TopicTest", queueId: 1) == 1 })
        #expect(store.lookMessage(physicalOffset: 0) != nil)

        // Never committed while running: the clean shutdown commits and flushes them.
        for _ in 0..<20 { #expect(await store.putMessage(message(queue: 1, body: bytes(500))).status == .putOk) }
        #expect(store.maxOffsetInQueue(topic: "TopicTest", queueId: 1) == 1)
        store.shutdown()
        let reopened = try MessageStore(config: smallConfig(dir, segmentBytes: 64 * 1024))
        reopened.start()
        defer { reopened.shutdown() }
        #expect(reopened.recoveryReport.lastExitOK)
        #expect(reopened.maxOffsetInQueue(topic: "TopicTest", queueId: 1) == 21)
        #expect(readAll(reopened, queue: 1, count: 21).count == 21)
    }

    @Test func poolIsIgnoredUnderSyncFlush() async throws {
        let dir = TestDirs.make("pool-sync")
        defer { TestDirs.remove(dir) }
        var c = poolConfig(dir, buffers: 2)
        c.flushDiskType = .syncFlush
        #expect(!c.isTransientStorePoolEnabled)
        let store = try MessageStore(config: c)
        store.start()
        defer { store.shutdown() }
        #expect(store.commitLog.pool == nil)
        #expect(await store.putMessage(message(queue: 0, body: bytes(100))).status == .putOk)
        #expect(store.maxPhysicalOffset > 0)
    }
}
