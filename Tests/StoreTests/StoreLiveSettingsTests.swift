// StoreLiveSettingsTests: settings changed while the store runs (UPDATE_BROKER_CONFIG's store keys) are
// used by the next round of the service that reads them, and a refused change leaves every setting as it was.
import Foundation
import Glibc
import Testing
@testable import Store

@Suite struct StoreLiveSettingsTests {
    private func currentHour() -> Int {
        var t = time(nil)
        var tmv = tm()
        localtime_r(&t, &tmv)
        return Int(tmv.tm_hour)
    }

    @Test func retentionChangedAtRunTimeIsUsedByTheNextCleanPass() async throws {
        let dir = TestDirs.make("live-retention")
        defer { TestDirs.remove(dir) }
        var config = smallConfig(dir, segmentBytes: 8 * 1024)
        config.deleteWhen = String((currentHour() + 12) % 24)
        let store = try MessageStore(config: config)
        store.start()
        defer { store.shutdown() }
        for i in 0..<60 { _ = await store.putMessage(message(queue: Int32(i % 2), body: Array(repeating: 7, count: 500))) }
        let files = store.commitLog.queue.mappedFiles.count
        #expect(files >= 3)
        // Retention never deletes what was not dispatched yet: let dispatch catch up first.
        let deadline = ContinuousClock.now + .seconds(10)
        while store.reputBehindBytes > 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        // Not the deleting hour, and files are younger than 72 h: nothing goes.
        #expect(store.cleanPass(nowMs: now, diskUsedRatio: 0.1) == 0)
        try store.settings.update(["deleteWhen": String(currentHour())])
        #expect(store.cleanPass(nowMs: now, diskUsedRatio: 0.1) == 0)
        try store.settings.update(["fileReservedTime": "0"])
        #expect(store.config.fileReservedTimeHours == 0)
        #expect(store.cleanPass(nowMs: now, diskUsedRatio: 0.1) == files - 1)
    }

    @Test func pullLimitsChangedAtRunTimeApplyToTheNextPull() async throws {
        let dir = TestDirs.make("live-pull")
        defer { TestDirs.remove(dir) }
        let store = try MessageStore(config: smallConfig(dir))
        store.start()
        defer { store.shutdown() }
        for _ in 0..<20 { _ = await store.putMessage(message(body: [1, 2, 3])) }
        func pulled() async -> Int {
            for _ in 0..<500 {
                let r = store.getMessage(topic: "TopicTest", queueId: 0, offset: 0, maxMsgNums: 32)
                if r.status == .found && r.maxOffset == 20 { return r.messages.count }
                try? await Task.sleep(for: .milliseconds(10))
            }
            return -1
        }
        #expect(await pulled() == 20)
        try store.settings.update(["maxTransferCountOnMessageInMemory": "5"])
        #expect(await pulled() == 5)
    }

    @Test func aRefusedUpdateNamesTheKeyAndChangesNothing() throws {
        let dir = TestDirs.make("live-refused")
        defer { TestDirs.remove(dir) }
        let store = try MessageStore(config: smallConfig(dir))
        let before = store.config
        let refusals: [([String: String], StoreSettingError)] = [
            (["fileReservedTime": "5", "mapedFileSizeCommitLog": "1024"], .restartOnly("mapedFileSizeCommitLog")),
            (["fileReservedTime": "5", "mappedFileSizeCommitLog": "1024"], .restartOnly("mappedFileSizeCommitLog")),
            (["fileReservedTime": "5", "storePathRootDir": "/tmp/elsewhere"], .restartOnly("storePathRootDir")),
            (["fileReservedTime": "5", "flushDiskType": "SYNC_FLUSH"], .restartOnly("flushDiskType")),
            (["fileReservedTime": "5", "brokerRole": "SLAVE"], .restartOnly("brokerRole")),
            (["fileReservedTime": "5", "noSuchStoreKey": "1"], .unknownKey("noSuchStoreKey")),
            (["fileReservedTime": "five"], .badValue("fileReservedTime", "five")),
            (["fileReservedTime": "5", "deleteWhen": "25"], .badValue("deleteWhen", "25")),
            (["fileReservedTime": "5", "diskMaxUsedSpaceRatio": "120"], .badValue("diskMaxUsedSpaceRatio", "120")),
            (["fileReservedTime": "5", "flushIntervalCommitLog": "0"], .badValue("flushIntervalCommitLog", "0")),
        ]
        for (properties, expected) in refusals {
            #expect(throws: expected) { try store.settings.update(properties) }
            #expect(store.config.fileReservedTimeHours == before.fileReservedTimeHours)
            #expect(store.config.deleteWhen == before.deleteWhen)
            #expect(store.config.mappedFileSizeCommitLogBytes == before.mappedFileSizeCommitLogBytes)
            #expect(store.config.flushIntervalCommitLogMs == before.flushIntervalCommitLogMs)
        }
        try store.settings.update(["fileReservedTime": " 5 ", "deleteWhen": "03;15", "osPageCacheBusyTimeOutMills": "2000"])
        #expect(store.config.fileReservedTimeHours == 5)
        #expect(store.config.deleteWhen == "03;15")
        #expect(store.settings.osPageCacheBusyTimeOutMs == 2000)
    }
}
