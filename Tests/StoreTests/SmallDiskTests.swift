// SmallDiskTests (issue 15, point 2): a store on a small tmpfs. An IndexFile too large for the disk is
// skipped, so messages are still delivered; a dispatch that cannot proceed (no room for a ConsumeQueue file)
// makes the store refuse new messages instead of acknowledging ones nobody could consume; forced cleaning
// never deletes CommitLog data that was not dispatched; and once space returns, everything is delivered.
// Needs permission to mount tmpfs (CI runs as root); reported as skipped where it is not allowed.
import ApusTestSupport
import Foundation
import Glibc
import Testing
@testable import Store

@Suite(.serialized) struct SmallDiskTests {
    /// Mounts a tmpfs of `mb` MiB for the body.
    func withTmpfs(_ name: String, mb: Int, _ body: (String) async throws -> Void) async throws {
        let dir = TestDirs.make(name)
        #expect(sh("mount -t tmpfs -o size=\(mb)m apus-\(name) \(dir)") == 0)
        defer {
            _ = sh("umount \(dir)")
            TestDirs.remove(dir)
        }
        try await body(dir)
    }

    @Test(.enabled(if: canMountTmpfs, "skipped: cannot mount a tmpfs here (needs CAP_SYS_ADMIN)"))
    func indexFileTooLargeForTheDiskIsSkippedAndMessagesAreDelivered() async throws {
        try await withTmpfs("small-index", mb: 16) { dir in
            var config = smallConfig(dir, segmentBytes: 1 << 20)
            config.messageIndexEnable = true
            config.maxHashSlotNum = 5_000_000  // RocketMQ's defaults: a 420 MB IndexFile on a 16 MiB disk
            config.maxIndexNum = 20_000_000
            let store = try MessageStore(config: config)
            store.start(cleanFirstDelayMs: 3_600_000)
            defer { store.shutdown() }
            for i in 0..<200 {
                let r = await store.putMessage(message(body: bytes(500, seed: UInt8(i & 0xFF)), keys: "k\(i)"))
                #expect(r.status == .putOk)
            }
            let deadline = ContinuousClock.now + .seconds(10)
            while store.maxOffsetInQueue(topic: "TopicTest", queueId: 0) < 200 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(store.maxOffsetInQueue(topic: "TopicTest", queueId: 0) == 200, "dispatch stalled on the IndexFile")
            let got = store.getMessage(topic: "TopicTest", queueId: 0, offset: 0, maxMsgNums: 32)
            #expect(got.status == .found)
            #expect(got.messages.count == 32)
            // New messages are still taken: the skipped index does not stop the store.
            #expect(await store.putMessage(message(body: bytes(10))).status == .putOk)
        }
    }

    @Test(.enabled(if: canMountTmpfs, "skipped: cannot mount a tmpfs here (needs CAP_SYS_ADMIN)"))
    func stuckDispatchRefusesMessagesAndRetentionKeepsWhatWasNotDispatched() async throws {
        try await withTmpfs("small-stall", mb: 16) { dir in
            var config = smallConfig(dir, segmentBytes: 1 << 20)
            config.messageIndexEnable = false
            config.mappedFileSizeConsumeQueueBytes = 20 * 200_000  // 4 MB per ConsumeQueue file
            let store = try MessageStore(config: config)
            store.start(cleanFirstDelayMs: 3_600_000)
            defer { store.shutdown() }
            // Topic A fills a few CommitLog files and has its ConsumeQueue file.
            for i in 0..<2_000 {
                #expect(await store.putMessage(message("TopicA", body: bytes(900, seed: UInt8(i & 0xFF)))).status == .putOk)
            }
            // Leave less room than a new ConsumeQueue file needs.
            var free = statvfs()
            #expect(statvfs(dir, &free) == 0)
            let freeBytes = Int64(free.f_bavail) * Int64(free.f_frsize)
            let filler = dir + "/filler"
            #expect(sh("fallocate -l \(max(0, freeBytes - (2 << 20))) \(filler)") == 0)
            // Topic B's first message is stored (acknowledged before dispatch), then dispatch cannot create
            // B's ConsumeQueue file: the store refuses further messages with a reason.
            let first = await store.putMessage(message("TopicB", body: bytes(100)))
            #expect(first.status == .putOk)
            var refused: PutMessageResult?
            let deadline = ContinuousClock.now + .seconds(10)
            while refused == nil && ContinuousClock.now < deadline {
                let r = await store.putMessage(message("TopicA", body: bytes(100)))
                if r.status != .putOk { refused = r } else { try await Task.sleep(for: .milliseconds(20)) }
            }
            let r = try #require(refused, "messages were still acknowledged while dispatch was stuck")
            #expect(r.status == .serviceNotAvailable)
            #expect(r.remark?.contains("dispatch is stuck") == true)
            // Forced cleaning (disk "99 % full", every file long expired) keeps the file holding B's message.
            let filesBefore = store.commitLog.queue.mappedFiles.count
            _ = store.cleanPass(nowMs: currentTimeMs() + 400 * 86_400_000, diskUsedRatio: 0.99)
            let kept = store.commitLog.queue.mappedFiles
            #expect(kept.count < filesBefore, "dispatched files were deleted to make room")
            #expect(kept.first.map { $0.startOffset <= first.append!.physicalOffset } == true,
                    "the file holding an undispatched, acknowledged message was deleted")
            // Space returns: dispatch proceeds, B's message is delivered, messages are taken again.
            #expect(unlink(filler) == 0)
            let until = ContinuousClock.now + .seconds(10)
            while store.maxOffsetInQueue(topic: "TopicB", queueId: 0) < 1 && ContinuousClock.now < until {
                try await Task.sleep(for: .milliseconds(50))
            }
            let b = store.getMessage(topic: "TopicB", queueId: 0, offset: 0, maxMsgNums: 1)
            #expect(b.status == .found)
            #expect(b.messages.first.flatMap(decode)?.body == bytes(100))
            _ = store.cleanPass(nowMs: currentTimeMs(), diskUsedRatio: 0.3)  // the disk-full flag the forced pass set clears
            #expect(await store.putMessage(message("TopicA", body: bytes(100))).status == .putOk)
        }
    }

    /// Retention never deletes a CommitLog file holding bytes past the dispatched offset, however full the
    /// disk: those messages were acknowledged and are not consumable yet.
    @Test func forcedCleaningStopsAtTheFirstFileNotFullyDispatched() async throws {
        let dir = TestDirs.make("clean-dispatched")
        defer { TestDirs.remove(dir) }
        var config = smallConfig(dir, segmentBytes: 256 * 1024)
        config.messageIndexEnable = false
        let store = try MessageStore(config: config)
        store.start(cleanFirstDelayMs: 3_600_000)
        defer { store.shutdown() }
        for i in 0..<1_500 {
            #expect(await store.putMessage(message(body: bytes(900, seed: UInt8(i & 0xFF)))).status == .putOk)
        }
        let files = store.commitLog.queue.mappedFiles
        try #require(files.count >= 5)
        // As if dispatch had stopped inside the third file: the first two may go, nothing after them.
        let stuckAt = files[2].startOffset + 100
        let deleted = store.cleanPass(nowMs: currentTimeMs() + 400 * 86_400_000, diskUsedRatio: 0.99, dispatchedOffset: stuckAt)
        #expect(deleted == 2)
        #expect(store.commitLog.queue.mappedFiles.first?.startOffset == files[2].startOffset)
    }
}
