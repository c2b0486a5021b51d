// EpochFileCacheTests: controller mode's epoch file (EpochFileCache) and a replica's truncation
// (MessageStore.truncateFiles): where two logs part, what the file keeps across a restart, and that a cut
// CommitLog, its ConsumeQueues, the next queue offsets and the index agree, before and after a restart.

import Foundation
import Testing
@testable import Store

struct EpochFileCacheTests {
    func e(_ epoch: Int32, _ start: Int64) -> EpochEntry { EpochEntry(epoch: epoch, startOffset: start) }

    @Test func twoLogsPartWhereTheirLatestSharedEpochEndsInEither() {
        // Same history: the shorter log's end.
        #expect(EpochFileCache.consistentPoint(local: [e(1, 0), e(2, 100)], localMaxOffset: 160,
                                               remote: [e(1, 0), e(2, 100)], remoteMaxOffset: 300) == 160)
        // A replaced master of epoch 2 that went on alone: the new master's epoch 3 started at 150.
        #expect(EpochFileCache.consistentPoint(local: [e(1, 0), e(2, 100)], localMaxOffset: 160,
                                               remote: [e(1, 0), e(2, 100), e(3, 150)], remoteMaxOffset: 300) == 150)
        // The new master never saw epoch 2: only epoch 1's common part counts.
        #expect(EpochFileCache.consistentPoint(local: [e(1, 0), e(2, 100)], localMaxOffset: 160,
                                               remote: [e(1, 0), e(3, 120)], remoteMaxOffset: 300) == 100)
        // Nothing shared.
        #expect(EpochFileCache.consistentPoint(local: [e(4, 0)], localMaxOffset: 10,
                                               remote: [e(1, 0)], remoteMaxOffset: 300) == nil)
    }

    @Test func entriesSurviveARestartAndANewEpochDropsWhatItReplaces() throws {
        let dir = TestDirs.make("epochs")
        defer { TestDirs.remove(dir) }
        let path = dir + "/epochFileCheckpoint"
        let cache = EpochFileCache(path: path)
        #expect(cache.all.isEmpty)
        try cache.append(epoch: 1, startOffset: 0)
        try cache.append(epoch: 2, startOffset: 500)
        try cache.append(epoch: 2, startOffset: 900)  // the same epoch again (a restart): nothing changes
        #expect(EpochFileCache(path: path).all == [e(1, 0), e(2, 500)])
        // Epoch 4 from 300: entries starting after it are gone.
        try cache.append(epoch: 4, startOffset: 300)
        #expect(EpochFileCache(path: path).all == [e(1, 0), e(4, 300)])
        #expect(cache.lastEpoch == 4)
        // A replica keeps its master's entries up to its own end.
        try cache.replace(with: [e(1, 0), e(4, 300), e(5, 800)], upTo: 700)
        #expect(EpochFileCache(path: path).all == [e(1, 0), e(4, 300)])
    }

    @Test func aTruncatedReplicaDropsRecordsQueueUnitsAndQueueOffsetsPastTheCut() async throws {
        let dir = TestDirs.make("truncate")
        defer { TestDirs.remove(dir) }
        let config = smallConfig(dir, segmentBytes: 8 * 1024)
        var cut: Int64 = 0
        do {
            let store = try MessageStore(config: config)
            store.start()
            for i in 0..<30 {
                let r = await store.putMessage(message(queue: 0, body: Array(repeating: UInt8(i), count: 400)))
                #expect(r.isOk)
                if i == 20, let append = r.append { cut = append.physicalOffset }
            }
            let deadline = ContinuousClock.now + .seconds(10)
            while store.reputBehindBytes > 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
            #expect(store.commitLog.queue.mappedFiles.count >= 2)
            #expect(store.maxOffsetInQueue(topic: "TopicTest", queueId: 0) == 30)
            store.changeToSlave()
            store.truncateFiles(toPhysicalOffset: cut)
            #expect(store.maxPhysicalOffset == cut)
            #expect(store.maxOffsetInQueue(topic: "TopicTest", queueId: 0) == 20)
            // Promoted again, the next message takes queue offset 20 at the cut.
            #expect(await store.changeToMaster(.asyncMaster))
            let next = await store.putMessage(message(queue: 0, body: Array(repeating: 99, count: 400)))
            #expect(next.append?.queueOffset == 20)
            #expect(next.append?.physicalOffset == cut)
            store.shutdown()
        }
        // A restart finds the same log: the cut bytes are gone from the files, not only from memory.
        let reopened = try MessageStore(config: config)
        reopened.start()
        defer { reopened.shutdown() }
        #expect(reopened.maxOffsetInQueue(topic: "TopicTest", queueId: 0) == 21)
        let r = await reopened.putMessage(message(queue: 0, body: Array(repeating: 1, count: 10)))
        #expect(r.append?.queueOffset == 21)
    }

    @Test func aTruncatedReplicasKeyQueriesFindNothingPastTheCutAndThenTheNewRecords() async throws {
        let dir = TestDirs.make("truncate-index")
        defer { TestDirs.remove(dir) }
        let config = smallConfig(dir, segmentBytes: 8 * 1024) // 64 index entries a file: 3 per message
        func uniqs(_ store: MessageStore, _ key: String) -> [String] {
            store.queryMessage(topic: "TopicTest", key: key, maxNum: 64, beginMs: 0, endMs: Int64.max)
                .messages.compactMap(decode).compactMap { $0.properties["UNIQ_KEY"] }.sorted()
        }
        let oldK3 = (0..<40).filter { $0 % 5 == 3 }.map { "U\($0)" }
        let newK3 = (0..<20).filter { $0 % 5 == 3 }.map { "V\($0)" }
        do {
            let store = try MessageStore(config: config)
            store.start()
            var offsets: [Int64] = []
            for i in 0..<60 {
                let r = await store.putMessage(message(body: bytes(100), keys: "k\(i % 5) old\(i)", uniq: "U\(i)"))
                offsets.append(try #require(r.append).physicalOffset)
            }
            #expect(eventually { store.dispatchBehindBytes == 0 })
            #expect(listDirectory(dir + "/index").count >= 3)
            #expect(uniqs(store, "k3").count == 12)
            store.changeToSlave()
            store.truncateFiles(toPhysicalOffset: offsets[40])
            // Records below the cut are found by every key, none past it.
            #expect(uniqs(store, "k3") == oldK3.sorted())
            #expect(uniqs(store, "old39") == ["U39"])
            #expect(uniqs(store, "U7") == ["U7"])
            #expect(uniqs(store, "old45").isEmpty)
            #expect(uniqs(store, "U40").isEmpty)
            // Other records at the cut's offsets on (a new master's), with the same keys: found, and only they.
            #expect(await store.changeToMaster(.asyncMaster))
            var newOffsets: [Int64] = []
            for j in 0..<20 {
                let r = await store.putMessage(message(body: bytes(150), keys: "k\(j % 5) new\(j)", uniq: "V\(j)"))
                newOffsets.append(try #require(r.append).physicalOffset)
            }
            #expect(newOffsets.first == offsets[40])
            #expect(eventually { store.dispatchBehindBytes == 0 })
            #expect(uniqs(store, "k3") == (oldK3 + newK3).sorted())
            #expect(uniqs(store, "old45").isEmpty)
            #expect(uniqs(store, "U45").isEmpty)
            #expect(uniqs(store, "new7") == ["V7"])
            let v7 = store.queryMessage(topic: "TopicTest", key: "V7", maxNum: 64, beginMs: 0, endMs: Int64.max)
            #expect(v7.messages.compactMap(decode).map { $0.physicalOffset } == [newOffsets[7]])
            store.shutdown()
        }
        let reopened = try MessageStore(config: config)
        reopened.start()
        defer { reopened.shutdown() }
        #expect(uniqs(reopened, "k3") == (oldK3 + newK3).sorted())
        #expect(uniqs(reopened, "old45").isEmpty)
        #expect(uniqs(reopened, "U45").isEmpty)
        #expect(uniqs(reopened, "U12") == ["U12"])
        #expect(uniqs(reopened, "new7") == ["V7"])
    }
}
