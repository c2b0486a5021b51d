// A real mqbroker whose store (and its config files) sits on a small tmpfs filled by sends across segment
// rolls (issue 14, must-show 2): sends are answered with errors, the broker does not crash, a config file
// written while the disk is full stays whole, sends succeed by themselves once space is freed, and every
// acknowledged message is delivered; after the stop an independent walk of the CommitLog files (its own
// record parser and CRC, not the store's) finds every record intact. Needs permission to mount a tmpfs (CI
// runs as root); skipped where it is not allowed.

import ApusTestSupport
import Common
import Foundation
import Remoting
import XCTest

final class FullDiskBrokerTests: BrokerClusterTestCase {
    func testBrokerOnAFullDiskAnswersErrorsKeepsItsFilesAndResumesWhenSpaceReturns() async throws {
        cluster = try Cluster(extraConfig: [:])
        let mount = cluster.directory.appendingPathComponent("disk")
        try FileManager.default.createDirectory(at: mount, withIntermediateDirectories: true)
        guard sh("mount -t tmpfs -o size=6m apus-fulldisk \(mount.path)") == 0 else {
            throw XCTSkip("cannot mount a tmpfs here (needs CAP_SYS_ADMIN)")
        }
        defer { _ = sh("umount -l \(mount.path)") }
        // Space the test gives back later: without it the disk stays full.
        let filler = mount.appendingPathComponent("filler")
        XCTAssertEqual(sh("dd if=/dev/zero of=\(filler.path) bs=1M count=2 status=none"), 0)
        let store = mount.appendingPathComponent("store")
        cluster.extraConfig = [
            "storePathRootDir": store.path, "mappedFileSizeCommitLog": String(1 << 20),
            "mappedFileSizeConsumeQueue": "60000", "messageIndexEnable": "false",
            // Retention must not delete acknowledged messages to make room: the test is about the full disk itself.
            "cleanFileForciblyEnable": "false", "cleanResourceInterval": "1000",
        ]
        try await cluster.startNamesrv()
        try await cluster.startBroker()
        let broker = try XCTUnwrap(cluster.broker)
        let c = TestClient(client: client, address: cluster.brokerAddr)
        try await c.createTopic("FullDisk", queues: 1)

        func body(_ i: Int) -> [UInt8] { Array("message \(i) ".utf8) + [UInt8](repeating: UInt8(i & 0x7F), count: 2000) }
        var acked: [Int: Int64] = [:]  // message number -> queue offset
        var refusals: [String: Int] = [:]
        var sent = 0
        var consecutiveRefusals = 0
        while consecutiveRefusals < 50 && sent < 6_000 {
            let r = try await c.send(topic: "FullDisk", body: body(sent), queueId: 0)
            if r.responseCode == .success {
                acked[sent] = try (r.decodeHeader() as SendMessageResponseHeader).queueOffset
                consecutiveRefusals = 0
            } else {
                refusals["\(r.responseCode) \(r.remark ?? "")".prefix(80).description, default: 0] += 1
                consecutiveRefusals += 1
            }
            sent += 1
        }
        print("full disk: \(acked.count) acknowledged of \(sent); refusals: \(refusals)")
        XCTAssertEqual(consecutiveRefusals, 50, "the 4 MiB left never filled")
        XCTAssertGreaterThan(acked.count, 500)
        XCTAssertTrue(broker.process.isRunning, "the broker died: \(broker.output.value.suffix(3000))")

        // A config write on the full disk fails as an answer and leaves topics.json whole.
        let topics = store.appendingPathComponent("config/topics.json")
        let create = try await client.invokeSync(cluster.brokerAddr, .request(.updateAndCreateTopic, header: CreateTopicRequestHeader(
            topic: "WhileFull", readQueueNums: 1, writeQueueNums: 1)))
        print("full disk: create topic answered \(create.responseCode) \(create.remark ?? "")")
        let saved = try String(contentsOf: topics, encoding: .utf8)
        XCTAssertTrue(saved.contains("\"FullDisk\""), "topics.json lost its content: \(saved.prefix(300))")
        XCTAssertNoThrow(try JSONValue.parse(saved), "topics.json is not whole")

        // Space returns: sends succeed again by themselves.
        try FileManager.default.removeItem(at: filler)
        var resumedAt = 0
        try await waitUntil("a send succeeds after space is freed", timeout: .seconds(30)) {
            guard let r = try? await c.send(topic: "FullDisk", body: body(sent), queueId: 0) else { return false }
            defer { sent += 1 }
            guard r.responseCode == .success, let h = try? (r.decodeHeader() as SendMessageResponseHeader) else { return false }
            acked[sent] = h.queueOffset
            resumedAt = sent
            return true
        }
        for _ in 0..<50 {
            let r = try await c.send(topic: "FullDisk", body: body(sent), queueId: 0)
            XCTAssertEqual(r.responseCode, .success, r.remark ?? "")
            if r.responseCode == .success { acked[sent] = try (r.decodeHeader() as SendMessageResponseHeader).queueOffset }
            sent += 1
        }
        print("full disk: sends resumed at message \(resumedAt); \(acked.count) acknowledged in all")

        // Every acknowledged message is delivered, at its acknowledged offset, with its body.
        let got = try await waitForMessages(c, topic: "FullDisk", queueId: 0, count: acked.count)
        let byOffset = Dictionary(got.map { ($0.queueOffset, $0.body) }, uniquingKeysWith: { a, _ in a })
        for (i, offset) in acked {
            XCTAssertEqual(byOffset[offset], body(i), "message \(i) at offset \(offset)")
        }
        XCTAssertEqual(got.count, acked.count)

        // After a clean stop, an independent walk of the CommitLog finds only whole records.
        await cluster.stopBroker()
        let records = try CommitLogWalk.records(in: store.appendingPathComponent("commitlog"))
        XCTAssertEqual(records.filter { $0.topic == "FullDisk" }.count, acked.count)
    }
}

/// Walks CommitLog segment files with its own parser: each record's size, magic, physical offset and body
/// CRC32 must be right; a file ends at a blank record (end-of-file magic) or at zeros.
enum CommitLogWalk {
    struct Record { let topic: String; let offset: Int64 }
    struct Corrupt: Error, CustomStringConvertible { let description: String }

    static func records(in dir: URL) throws -> [Record] {
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.count == 20 }.sorted()
        var out: [Record] = []
        for name in files {
            guard let start = Int64(name) else { continue }
            let bytes = [UInt8](try Data(contentsOf: dir.appendingPathComponent(name)))
            var pos = 0
            while pos + 8 <= bytes.count {
                let size = Int(be32(bytes, pos)), magic = be32(bytes, pos + 4)
                if size == 0 && magic == 0 { break }
                if magic == 0xCBD4_3194 { break }  // BLANK_MAGIC_CODE: the rest of the file is unused
                guard magic == 0xDAA3_20A7 || magic == 0xDAA3_20A8, size > 0, pos + size <= bytes.count else {
                    throw Corrupt(description: "\(name)+\(pos): size \(size) magic \(String(magic, radix: 16))")
                }
                let (m, used) = try MessageDecoder.decode(Array(bytes[pos..<pos + size]))
                guard used == size, m.commitLogOffset == start + Int64(pos) else {
                    throw Corrupt(description: "\(name)+\(pos): record claims offset \(m.commitLogOffset), size \(used)")
                }
                guard UInt32(bitPattern: m.bodyCRC) == crc32(m.body) else {
                    throw Corrupt(description: "\(name)+\(pos): body CRC mismatch")
                }
                out.append(Record(topic: m.topic, offset: m.commitLogOffset))
                pos += size
            }
        }
        return out
    }

    static func be32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }

    /// CRC-32 (IEEE, reflected), as java.util.zip.CRC32 computes the body CRC; masked to 31 bits by
    /// RocketMQ's UtilAll.crc32 (store.md).
    static func crc32(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return (crc ^ 0xFFFF_FFFF) & 0x7FFF_FFFF
    }
}
