// mqbroker's and mqnamesrv's start-up checks (issue 14, must-show 3; issue 15, point 3): each bad broker.conf
// or namesrv.conf value, contradiction between keys and unusable store path is refused before anything is
// bound or created, with a message naming the key as the operator wrote it and its value; the process exits
// non-zero. A second broker on a running broker's store or port is refused the same way and leaves the
// first one serving.

import ApusTestSupport
import Foundation
import XCTest

final class BrokerStartupConfigTests: BrokerClusterTestCase {
    /// Runs mqbroker on `lines` (a store under `dir` unless the lines set one) and returns its exit status and
    /// everything it printed.
    func runBroker(_ lines: [String], in dir: URL) async throws -> (status: Int32, text: String) {
        let store = dir.appendingPathComponent("store")
        var text = "brokerIP1=127.0.0.1\nlistenPort=0\n"
        if !lines.contains(where: { $0.hasPrefix("storePathRootDir=") }) { text += "storePathRootDir=\(store.path)\n" }
        text += lines.joined(separator: "\n") + "\n"
        let conf = dir.appendingPathComponent("broker.conf")
        try text.write(to: conf, atomically: true, encoding: .utf8)
        let run = try await runToCompletion(try findBinary("mqbroker", env: "APUS_MQBROKER"), ["-c", conf.path],
                                            environment: ["HOME": dir.path], timeout: .seconds(30))
        return (run.status, run.stdout + run.stderr)
    }

    func testEachBadBrokerValueIsRefusedAtStartNamingTheKeyAndNothingIsCreated() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("apus-startconf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let aFile = dir.appendingPathComponent("a-file")
        try "x".write(to: aFile, atomically: true, encoding: .utf8)
        // (lines of broker.conf, text the refusal must contain)
        let cases: [([String], String)] = [
            (["listenPort=abc"], "listenPort=abc"),
            (["listenPort=-1"], "listenPort=-1"),
            (["listenPort=70000"], "listenPort=70000"),
            (["haListenPort=99999"], "haListenPort=99999"),
            (["flushDiskType=MAYBE"], "flushDiskType=MAYBE"),
            (["brokerRole=LEADER"], "brokerRole=LEADER"),
            (["autoCreateTopicEnable=yes"], "autoCreateTopicEnable=yes"),
            (["mapedFileSizeCommitLog=0"], "mapedFileSizeCommitLog=0"),
            (["mappedFileSizeConsumeQueue=-20"], "mappedFileSizeConsumeQueue=-20"),
            (["maxMessageSize=4MB"], "maxMessageSize=4MB"),
            (["diskMaxUsedSpaceRatio=150"], "diskMaxUsedSpaceRatio=150"),
            (["fileReservedTime=-1"], "fileReservedTime=-1"),
            (["deleteWhen=25"], "deleteWhen=25"),
            (["flushIntervalCommitLog=-500"], "flushIntervalCommitLog=-500"),
            (["storeServiceThreadNice=40"], "storeServiceThreadNice=40"),
            (["messageDelayLevel=1s 5x"], "messageDelayLevel=1s 5x"),
            (["haMasterAddress=nohost"], "haMasterAddress=nohost"),
            (["defaultTopicQueueNums=0"], "defaultTopicQueueNums=0"),
            (["brokerPermission=99"], "brokerPermission=99"),
            (["brokerIP1=broker.example"], "brokerIP1=broker.example"),
            (["brokerName="], "brokerName="),
            (["namesrvAddr=localhost"], "namesrvAddr=localhost"),
            (["sendMessageThreadPoolNums=0"], "sendMessageThreadPoolNums=0"),
            (["serverChannelMaxIdleTimeSeconds=-3"], "serverChannelMaxIdleTimeSeconds=-3"),
            // Keys that contradict each other.
            (["brokerRole=SLAVE", "brokerId=0"], "brokerId=0"),
            (["listenPort=20911", "haListenPort=20911"], "haListenPort=20911"),
            (["writeBufferLowWaterMark=100000", "writeBufferHighWaterMark=50000"], "writeBufferLowWaterMark=100000"),
            (["diskSpaceCleanForciblyRatio=95", "diskSpaceWarningLevelRatio=90"], "diskSpaceCleanForciblyRatio=95"),
            // Store paths that cannot hold a store.
            (["storePathRootDir=\(aFile.path)"], "storePathRootDir=\(aFile.path): a file"),
            (["storePathRootDir=\(aFile.path)/store"], "storePathRootDir=\(aFile.path)/store"),
            (["storePathRootDir=/proc/apus-store"], "storePathRootDir=/proc/apus-store"),
            (["storePathRootDir=relative/store"], "storePathRootDir=relative/store"),
            (["storePathCommitLog=\(aFile.path)"], "storePathCommitLog=\(aFile.path)"),
        ]
        XCTAssertGreaterThanOrEqual(cases.count, 20)
        for (lines, named) in cases {
            let caseDir = dir.appendingPathComponent(UUID().uuidString)
            try FileManager.default.createDirectory(at: caseDir, withIntermediateDirectories: true)
            let run = try await runBroker(lines, in: caseDir)
            XCTAssertNotEqual(run.status, 0, "\(lines) started: \(run.text)")
            XCTAssertTrue(run.text.contains(named), "\(lines): the refusal does not name \(named): \(run.text)")
            XCTAssertFalse(run.text.contains("boot success"), "\(lines)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: caseDir.appendingPathComponent("store").path),
                           "\(lines): a store was created for a refused start")
        }
        // The value is named with what is accepted.
        let run = try await runBroker(["flushDiskType=MAYBE"], in: dir)
        XCTAssertTrue(run.text.contains("ASYNC_FLUSH or SYNC_FLUSH"), run.text)
    }

    func testASecondBrokerOnARunningBrokersStoreOrPortIsRefusedAndTheFirstKeepsServing() async throws {
        let c = try await start(namesrv: false)
        let dir = cluster.directory.appendingPathComponent("second")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // Same store, another port: the store's lock refuses it.
        let sameStore = try await runBroker(["storePathRootDir=\(cluster.storeDirectory.path)", "haListenPort=\(freeTCPPort())"], in: dir)
        XCTAssertNotEqual(sameStore.status, 0)
        XCTAssertTrue(sameStore.text.contains("storePathRootDir=\(cluster.storeDirectory.path)"), sameStore.text)
        XCTAssertTrue(sameStore.text.contains("locked"), sameStore.text)
        // Same port, another store: refused before its store is created.
        let samePort = try await runBroker(["listenPort=\(cluster.brokerPort)"], in: dir)
        XCTAssertNotEqual(samePort.status, 0)
        XCTAssertTrue(samePort.text.contains("listenPort=\(cluster.brokerPort)"), samePort.text)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("store").path))
        let r = try await c.send(topic: "StillServing", body: [1])
        XCTAssertEqual(r.responseCode, .success, r.remark ?? "")
    }

    func testBadNameServerValuesAreRefusedNamingTheKey() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("apus-nsconf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for line in ["listenPort=abc", "listenPort=70000", "enableTopicList=maybe", "frameMaxLength=10",
                     "scanNotActiveBrokerInterval=0", "serverMaxConnectionsPercent=0"] {
            let conf = dir.appendingPathComponent("namesrv.conf")
            try (line + "\n").write(to: conf, atomically: true, encoding: .utf8)
            let run = try await runToCompletion(try findBinary("mqnamesrv", env: "APUS_MQNAMESRV"),
                                                ["-c", conf.path, "--logPath", dir.appendingPathComponent("ns.log").path],
                                                environment: ["HOME": dir.path], timeout: .seconds(30))
            XCTAssertNotEqual(run.status, 0, line)
            XCTAssertTrue((run.stdout + run.stderr).contains(line), "\(line): \(run.stdout + run.stderr)")
            XCTAssertFalse((run.stdout + run.stderr).contains("boot success"), line)
        }
    }
}
