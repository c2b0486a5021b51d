// mqbroker's start-up checks of broker.conf values that would only fail later (issue 15, point 3): a
// CommitLog segment size no record fits in is refused before anything is created, naming the key as the
// operator wrote it; the process exits non-zero.

import ApusTestSupport
import Foundation
import XCTest

final class BrokerStartupConfigTests: XCTestCase {
    func testZeroSegmentSizeIsRefusedAtStartNamingTheKey() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("apus-startconf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = dir.appendingPathComponent("store")
        let conf = dir.appendingPathComponent("broker.conf")
        try "brokerIP1=127.0.0.1\nlistenPort=0\nstorePathRootDir=\(store.path)\nmapedFileSizeCommitLog=0\n"
            .write(to: conf, atomically: true, encoding: .utf8)
        let run = try await runToCompletion(try findBinary("mqbroker", env: "APUS_MQBROKER"), ["-c", conf.path],
                                            environment: ["HOME": dir.path])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue((run.stdout + run.stderr).contains("mapedFileSizeCommitLog=0"), run.stdout + run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.path), "nothing is created for a refused start")
        XCTAssertFalse((run.stdout + run.stderr).contains("boot success"))
    }
}
