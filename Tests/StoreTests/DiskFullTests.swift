// DiskFullTests: a store on a 2 MiB tmpfs fills up: puts fail with CREATE_MAPPED_FILE_FAILED and a clear
// reason, the process does not crash, and every acknowledged message is intact after a restart.
// Needs permission to mount tmpfs; reported as skipped where it is not allowed.
import ApusTestSupport
import Foundation
import Glibc
import Testing
@testable import Store

@Suite struct DiskFullTests {
    @Test(.enabled(if: canMountTmpfs, "skipped: cannot mount a tmpfs here (needs CAP_SYS_ADMIN)"))
    func fullDiskRefusesPutsCleanlyAndLosesNothingAcknowledged() async throws {
        let dir = TestDirs.make("diskfull")
        #expect(sh("mount -t tmpfs -o size=2m apus-full \(dir)") == 0)
        defer {
            _ = sh("umount \(dir)")
            TestDirs.remove(dir)
        }
        var config = smallConfig(dir, segmentBytes: 256 * 1024)
        config.messageIndexEnable = false
        var acked: [(Int64, [UInt8])] = []
        var failure: PutMessageResult?
        do {
            let store = try MessageStore(config: config)
            store.start(cleanFirstDelayMs: 3_600_000)
            for i in 0..<10_000 {
                let body = bytes(1000, seed: UInt8(i & 0xFF))
                let r = await store.putMessage(message(body: body))
                if r.status != .putOk { failure = r; break }
                acked.append((r.append!.queueOffset, body))
            }
            store.shutdown()
        }
        let f = try #require(failure, "a 2 MiB disk never filled")
        #expect(f.status == .createMappedFileFailed)
        #expect(f.remark?.contains("disk full") == true)
        #expect(acked.count > 1000)
        let store = try MessageStore(config: config)
        store.start(cleanFirstDelayMs: 3_600_000)
        defer { store.shutdown() }
        #expect(store.maxOffsetInQueue(topic: "TopicTest", queueId: 0) == Int64(acked.count))
        for (offset, body) in acked.shuffled().prefix(200) {
            let r = store.getMessage(topic: "TopicTest", queueId: 0, offset: offset, maxMsgNums: 1)
            #expect(r.messages.first.flatMap(decode)?.body == body)
        }
    }
}
