// MessageStoreTests: put and read back through the whole store on real files: bytes, offsets,
// segment roll-over with the BLANK filler, tags filtering, lookups by offset, key and time, batches,
// rejected input.
import Common
import CStore
import Foundation
import Testing
@testable import Store

@Suite struct MessageStoreTests {
    @Test func putMessagesReadBackByteIdenticalWithQueueOffsets() async throws {
        let dir = TestDirs.make("putget")
        defer { TestDirs.remove(dir) }
        let store = try MessageStore(config: smallConfig(dir))
        store.start()
        defer { store.shutdown() }
        var sent: [(queue: Int32, body: [UInt8], offset: Int64)] = []
        for i in 0..<200 {
            let q = Int32(i % 4)
            let body = bytes(1 + (i * 37) % 2000, seed: UInt8(i & 0xFF))
            let r = await store.putMessage(message(queue: q, body: body, tags: "TagA"))
            #expect(r.status == .putOk)
            let a = try #require(r.append)
            #expect(a.queueOffset == Int64(i / 4))
            #expect(a.messageId.count == 32)
            sent.append((q, body, a.physicalOffset))
        }
        #expect(eventually { store.dispatchBehindBytes == 0 })
        for q in Int32(0)..<4 {
            #expect(store.maxOffsetInQueue(topic: "TopicTest", queueId: q) == 50)
            var next: Int64 = 0
            var got: [DecodedRecord] = []
            while next < 50 {
                let r = store.getMessage(topic: "TopicTest", queueId: q, offset: next, maxMsgNums: 32)
                #expect(r.status == .found)
                got += r.messages.compactMap(decode)
                #expect(r.queueOffsets.first == next)
                next = r.nextBeginOffset
            }
            let expected = sent.filter { $0.queue == q }
            #expect(got.count == expected.count)
            for (i, (rec, exp)) in zip(got, expected).enumerated() {
                #expect(rec.body == exp.body)
                #expect(rec.queueOffset == Int64(i))
                #expect(rec.physicalOffset == exp.offset)
                #expect(rec.properties["TAGS"] == "TagA")
                #expect(rec.topic == "TopicTest")
            }
            #expect(store.getMessage(topic: "TopicTest", queueId: q, offset: 50, maxMsgNums: 32).status == .offsetOverflowOne)
            #expect(store.getMessage(topic: "TopicTest", queueId: q, offset: 51, maxMsgNums: 32).status == .offsetOverflowBadly)
        }
        #expect(store.getMessage(topic: "Nope", queueId: 0, offset: 0, maxMsgNums: 1).status == .noMatchedLogicQueue)
        // Messages crossed several 64 KiB segments; every full segment ends with a BLANK filler.
        let files = store.commitLog.queue.mappedFiles
        #expect(files.count > 3)
        for f in files.dropLast() {
            var pos: Int64 = 0
            var info = apus_record_info()
            while apus_record_check(f.base + Int(pos), Int(f.sizeBytes - pos), 1, &info) == APUS_RECORD_MESSAGE {
                pos += Int64(info.total_size)
            }
            #expect(apus_record_check(f.base + Int(pos), Int(f.sizeBytes - pos), 1, &info) == APUS_RECORD_BLANK)
            #expect(Int64(info.total_size) == f.sizeBytes - pos)
        }
    }

    @Test func concurrentWritersRollingTinySegmentsNeverFail() async throws {
        let dir = TestDirs.make("roll")
        defer { TestDirs.remove(dir) }
        let store = try MessageStore(config: smallConfig(dir, segmentBytes: 8 * 1024))
        store.start()
        defer { store.shutdown() }
        await withTaskGroup(of: Int.self) { group in
            for w in 0..<4 {
                group.addTask {
                    var failures = 0
                    for _ in 0..<500 where await store.putMessage(message(queue: Int32(w), body: bytes(600))).status != .putOk {
                        failures += 1
                    }
                    return failures
                }
            }
            for await failures in group { #expect(failures == 0) }
        }
        #expect(store.commitLog.queue.mappedFiles.count > 150)
        #expect(eventually { store.dispatchBehindBytes == 0 })
        #expect((0..<4).map { store.maxOffsetInQueue(topic: "TopicTest", queueId: Int32($0)) } == [500, 500, 500, 500])
    }

    @Test func tagFilterKeepsOnlyMatchingHashes() async throws {
        let dir = TestDirs.make("tags")
        defer { TestDirs.remove(dir) }
        let store = try MessageStore(config: smallConfig(dir))
        store.start()
        defer { store.shutdown() }
        for i in 0..<30 {
            _ = await store.putMessage(message(body: bytes(10), tags: i % 3 == 0 ? "TagA" : "TagB"))
        }
        #expect(eventually { store.dispatchBehindBytes == 0 })
        let tagA = Int32(2_598_919) // Java "TagA".hashCode()
        let r = store.getMessage(topic: "TopicTest", queueId: 0, offset: 0, maxMsgNums: 32, tagsCodes: [tagA])
        #expect(r.status == .found)
        #expect(r.messages.count == 10)
        #expect(r.messages.compactMap(decode).allSatisfy { $0.properties["TAGS"] == "TagA" })
        #expect(r.nextBeginOffset == 30)
        let none = store.getMessage(topic: "TopicTest", queueId: 0, offset: 0, maxMsgNums: 32, tagsCodes: [42])
        #expect(none.status == .noMatchedMessage)
        #expect(none.nextBeginOffset == 30)
    }

    @Test func lookupsByOffsetKeyAndTime() async throws {
        let dir = TestDirs.make("lookup")
        defer { TestDirs.remove(dir) }
        let store = try MessageStore(config: smallConfig(dir))
        store.start()
        defer { store.shutdown() }
        var offsets: [Int64] = []
        var times: [Int64] = []
        for i in 0..<100 {
            let r = await store.putMessage(message(body: bytes(100), keys: "order\(i % 10) extra\(i)", uniq: "U\(i)"))
            offsets.append(r.append!.physicalOffset)
            times.append(r.append!.storeTimestampMs)
        }
        #expect(eventually { store.dispatchBehindBytes == 0 })
        let viewed = try #require(store.lookMessage(physicalOffset: offsets[42]).flatMap(decode))
        #expect(viewed.properties["UNIQ_KEY"] == "U42")
        #expect(store.lookMessage(physicalOffset: offsets[42] + 1) == nil)
        let id = OffsetMessageId.make(host: .loopback, physicalOffset: offsets[7])
        #expect(OffsetMessageId.parse(id)?.physicalOffset == offsets[7])
        let q = store.queryMessage(topic: "TopicTest", key: "order3", maxNum: 64, beginMs: 0, endMs: Int64.max)
        #expect(Set(q.messages.compactMap(decode).compactMap { $0.properties["UNIQ_KEY"] }) == Set((0..<10).map { "U\($0 * 10 + 3)" }))
        let u = store.queryMessage(topic: "TopicTest", key: "U77", maxNum: 64, beginMs: 0, endMs: Int64.max)
        #expect(u.messages.compactMap(decode).map { $0.physicalOffset } == [offsets[77]])
        #expect(store.queryMessage(topic: "Other", key: "U77", maxNum: 64, beginMs: 0, endMs: Int64.max).messages.isEmpty)
        // Index rolled over several 64-entry files and still answers.
        #expect(listDirectory(dir + "/index").count > 1)
        #expect(store.offsetInQueue(topic: "TopicTest", queueId: 0, timestampMs: times[60]) <= 60)
        #expect(store.offsetInQueue(topic: "TopicTest", queueId: 0, timestampMs: 0) == 0)
        #expect(store.offsetInQueue(topic: "TopicTest", queueId: 0, timestampMs: Int64.max) == 100)
        #expect(store.offsetInQueue(topic: "TopicTest", queueId: 0, timestampMs: Int64.max, boundary: .upper) == 99)
        #expect(store.earliestMessageTime(topic: "TopicTest", queueId: 0) == times[0])
    }

    @Test func batchBecomesConsecutiveRecordsWithOneStoreTime() async throws {
        let dir = TestDirs.make("batch")
        defer { TestDirs.remove(dir) }
        let store = try MessageStore(config: smallConfig(dir))
        store.start()
        defer { store.shutdown() }
        _ = await store.putMessage(message(queue: 1, body: [1]))
        var body: [UInt8] = []
        for (i, b) in [Array("A".utf8), Array("BC".utf8), bytes(500)].enumerated() {
            let props = Array(MessageProperties.encode([("UNIQ_KEY", "ID\(i)")]).utf8)
            let total = 20 + b.count + 2 + props.count
            for v in [UInt32(total), 0, 0, UInt32(i), UInt32(b.count)] { body += withUnsafeBytes(of: v.bigEndian) { Array($0) } }
            body += b
            body += withUnsafeBytes(of: UInt16(props.count).bigEndian) { Array($0) }
            body += props
        }
        let r = await store.putMessages(MessageBatchToStore(topic: "TopicTest", queueId: 1, body: body))
        #expect(r.status == .putOk)
        let a = try #require(r.append)
        #expect(a.queueOffset == 1)
        #expect(a.messageCount == 3)
        #expect(a.messageId.split(separator: ",").count == 3)
        #expect(eventually { store.dispatchBehindBytes == 0 })
        let got = store.getMessage(topic: "TopicTest", queueId: 1, offset: 1, maxMsgNums: 32).messages.compactMap(decode)
        #expect(got.map { $0.properties["UNIQ_KEY"] } == ["ID0", "ID1", "ID2"])
        #expect(got.map { $0.queueOffset } == [1, 2, 3])
        #expect(Set(got.map { $0.storeTimestampMs }).count == 1)
        #expect(got[1].body == Array("BC".utf8))
        let bad = await store.putMessages(MessageBatchToStore(topic: "TopicTest", queueId: 1, body: Array(body.dropLast(3))))
        #expect(bad.status == .messageIllegal)
        #expect(store.maxOffsetInQueue(topic: "TopicTest", queueId: 1) == 4)
    }

    @Test func illegalMessagesAreRejectedAndChangeNothing() async throws {
        let dir = TestDirs.make("illegal")
        defer { TestDirs.remove(dir) }
        var config = smallConfig(dir)
        config.maxMessageSizeBytes = 4096
        let store = try MessageStore(config: config)
        store.start()
        defer { store.shutdown() }
        let before = store.maxPhysicalOffset
        #expect(await store.putMessage(message(body: bytes(4097))).status == .messageIllegal)
        let longProps = MessageToStore(topic: "T", queueId: 0, body: [1], properties: String(repeating: "x", count: 40_000))
        #expect(await store.putMessage(longProps).status == .propertiesSizeExceeded)
        #expect(await store.putMessage(MessageToStore(topic: "", queueId: 0, body: [1])).status == .messageIllegal)
        #expect(store.maxPhysicalOffset == before)
        #expect(await store.putMessage(message(body: bytes(4096))).status == .putOk)
    }

    @Test func longTopicIsStoredWithV2Magic() async throws {
        let dir = TestDirs.make("v2")
        defer { TestDirs.remove(dir) }
        let store = try MessageStore(config: smallConfig(dir))
        store.start()
        defer { store.shutdown() }
        let topic = "%RETRY%" + String(repeating: "g", count: 150)
        let r = await store.putMessage(message(topic, body: [1, 2, 3]))
        let rec = try #require(store.lookMessage(physicalOffset: r.append!.physicalOffset))
        #expect(rec.bytes.load(fromByteOffset: 4, as: UInt32.self).bigEndian == 0xDAA3_20AB)
        #expect(decode(rec)?.topic == topic)
    }

    @Test func syncFlushAcknowledgesOnlyDurableBytesAndGroupsCommits() async throws {
        let dir = TestDirs.make("sync")
        defer { TestDirs.remove(dir) }
        let store = try MessageStore(config: smallConfig(dir, flush: .syncFlush))
        store.start()
        defer { store.shutdown() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<64 {
                group.addTask {
                    for j in 0..<10 {
                        let r = await store.putMessage(message(queue: Int32(i % 4), body: bytes(200 + j)))
                        #expect(r.status == .putOk)
                        let end = r.append!.physicalOffset + Int64(r.append!.wroteBytes)
                        #expect(store.flushedPhysicalOffset >= end)
                    }
                }
            }
            try await group.waitForAll()
        }
        let stats = store.groupCommitStatistics
        #expect(stats.requests == 640)
        #expect(stats.syncs < 640)
        // Under SYNC_FLUSH consumers see only flushed messages; all are flushed now.
        #expect(eventually { store.dispatchBehindBytes == 0 })
        #expect((0..<4).map { store.maxOffsetInQueue(topic: "TopicTest", queueId: Int32($0)) }.reduce(0, +) == 640)
    }

    @Test func slowDiskAnswersFlushDiskTimeoutButKeepsTheMessage() async throws {
        let dir = TestDirs.make("timeout")
        defer { TestDirs.remove(dir) }
        var config = smallConfig(dir, flush: .syncFlush)
        config.syncFlushTimeoutMs = 50
        let store = try MessageStore(config: config)
        store.start()
        defer { store.shutdown() }
        store.setSlowDiskForTesting(delayMs: 2_000)
        let started = Date()
        let r = await store.putMessage(message(body: bytes(100)))
        #expect(r.status == .flushDiskTimeout)
        #expect(Date().timeIntervalSince(started) < 1.5) // the watcher answered, not the 2 s flush
        let a = try #require(r.append)
        // The message is stored all the same and becomes visible once flushed.
        store.setSlowDiskForTesting(delayMs: 0)
        #expect(eventually { store.maxOffsetInQueue(topic: "TopicTest", queueId: 0) == 1 })
        #expect(store.lookMessage(physicalOffset: a.physicalOffset).flatMap(decode)?.body == bytes(100))
        #expect(await store.putMessage(message(body: bytes(10))).status == .putOk)
    }

    @Test func recordsCanBeIteratedAcrossSegments() async throws {
        let dir = TestDirs.make("iterate")
        defer { TestDirs.remove(dir) }
        let store = try MessageStore(config: smallConfig(dir, segmentBytes: 8 * 1024))
        store.start()
        defer { store.shutdown() }
        var offsets: [Int64] = []
        for i in 0..<60 { offsets.append(await store.putMessage(message(queue: Int32(i % 2), body: bytes(500))).append!.physicalOffset) }
        var seen: [Int64] = []
        var next: Int64 = 0
        while true {
            let (records, after) = store.records(fromPhysicalOffset: next, maxCount: 7)
            if records.isEmpty { break }
            seen += records.map(\.physicalOffset)
            #expect(records.allSatisfy { decode($0) != nil })
            next = after
        }
        #expect(seen == offsets)
        #expect(next == store.maxPhysicalOffset)
    }

    @Test func configKeysUseRocketMQNamesAndLegacySpellings() {
        var c = MessageStoreConfig(storePathRootDir: "/x")
        let report = c.apply(["mapedFileSizeCommitLog": "8192", "flushDiskType": "SYNC_FLUSH", "fileReservedTime": " 48 ",
                              "warmMapedFileEnable": "TRUE", "ioUringSqPoll": "true", "brokerName": "b", "bogusKey": "1",
                              "maxMessageSize": "nope"], knownElsewhere: ["brokerName"])
        #expect(c.mappedFileSizeCommitLogBytes == 8192)
        #expect(c.flushDiskType == .syncFlush)
        #expect(c.fileReservedTimeHours == 48)
        #expect(c.warmMappedFileEnable)
        #expect(c.ioUringSqPoll)
        #expect(report.unknownKeys == ["bogusKey"])
        #expect(report.unparsable == ["maxMessageSize=nope (expected a whole number of bytes from 10 to 2147483647)"])
        // A segment size no record fits in is refused, named as written (issue 15: "=0" booted, then refused every send).
        var z = MessageStoreConfig(storePathRootDir: "/x")
        #expect(z.apply(["mapedFileSizeCommitLog": "0"]).unparsable == ["mapedFileSizeCommitLog=0 (expected a whole number ≥ 4096 (bytes))"])
        #expect(z.apply(["mappedFileSizeConsumeQueue": "-20"]).unparsable == ["mappedFileSizeConsumeQueue=-20 (expected a whole number ≥ 20 (bytes))"])
        var d = MessageStoreConfig(storePathRootDir: "/x")
        d.apply(["mappedFileSizeCommitLog": "16384", "mapedFileSizeCommitLog": "8192"])
        #expect(d.mappedFileSizeCommitLogBytes == 16384)
        #expect(MessageStoreConfig(storePathRootDir: "/x").consumeQueueFileBytes == 6_000_000)
        var e = MessageStoreConfig(storePathRootDir: "/x")
        e.mappedFileSizeConsumeQueueBytes = 1001
        #expect(e.consumeQueueFileBytes == 1020)
        // TransientStorePool keys; the pool needs ASYNC_FLUSH on a master, as in RocketMQ 4.x.
        var p = MessageStoreConfig(storePathRootDir: "/x")
        #expect(p.apply(["transientStorePoolEnable": "true", "transientStorePoolSize": "2", "commitIntervalCommitLog": "50",
                         "commitCommitLogLeastPages": "8", "commitCommitLogThoroughInterval": "100",
                         "storeServiceThreadNice": "5"]).unknownKeys.isEmpty)
        #expect(p.isTransientStorePoolEnabled)
        #expect(p.transientStorePoolSize == 2 && p.commitIntervalCommitLogMs == 50 && p.commitCommitLogLeastPages == 8)
        #expect(p.commitCommitLogThoroughIntervalMs == 100 && p.storeServiceThreadNice == 5)
        p.brokerRole = .slave
        #expect(!p.isTransientStorePoolEnabled)
    }
}

@Suite struct ColdReadTests {
    @Test func dataEvictedFromThePageCacheIsReadThroughTheRing() async throws {
        let dir = TestDirs.make("cold")
        defer { TestDirs.remove(dir) }
        let store = try MessageStore(config: smallConfig(dir, flush: .syncFlush))
        store.start()
        defer { store.shutdown() }
        var offsets: [Int64] = []
        for i in 0..<20 { offsets.append(await store.putMessage(message(body: bytes(3000, seed: UInt8(i)))).append!.physicalOffset) }
        #expect(eventually { store.dispatchBehindBytes == 0 })
        let r = try #require(store.getMessage(topic: "TopicTest", queueId: 0, offset: 5, maxMsgNums: 1).messages.first)
        // Flushed (SYNC_FLUSH), so the kernel can drop the pages; then mincore says they are gone.
        r.file.evict(at: r.filePosition, count: r.size)
        let evicted = !r.isResident
        let raw = try store.coldReads.read(r)
        let body = raw.withUnsafeBytes { decode($0)?.body }
        #expect(body == bytes(3000, seed: 5))
        // Eviction is advice; where the kernel kept the pages the read is still correct, only not cold.
        if !evicted { print("note: the kernel kept the evicted pages resident; cold path exercised without a disk wait") }
    }
}
