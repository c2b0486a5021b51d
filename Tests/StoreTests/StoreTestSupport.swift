// StoreTestSupport: temporary store directories, small-file configurations, message builders and a
// record decoder for the store tests (real files, real bytes).
import Common
import CStore
import ApusTestSupport
import Foundation
import Glibc
@testable import Store

enum TestDirs {
    static func make(_ name: String) -> String {
        let base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        let path = "\(base)/apus-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.removeItem(atPath: path)
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func remove(_ path: String) { try? FileManager.default.removeItem(atPath: path) }
}

func smallConfig(_ dir: String, segmentBytes: Int64 = 64 * 1024, flush: FlushDiskType = .asyncFlush) -> MessageStoreConfig {
    var c = MessageStoreConfig(storePathRootDir: dir)
    c.mappedFileSizeCommitLogBytes = segmentBytes
    c.mappedFileSizeConsumeQueueBytes = 20 * 50
    c.maxHashSlotNum = 16
    c.maxIndexNum = 64
    c.flushDiskType = flush
    c.flushIntervalCommitLogMs = 10
    c.flushIntervalConsumeQueueMs = 10
    return c
}

func message(_ topic: String = "TopicTest", queue: Int32 = 0, body: [UInt8], tags: String? = nil, keys: String? = nil,
             uniq: String? = nil) -> MessageToStore {
    var props: [(String, String)] = []
    if let tags { props.append(("TAGS", tags)) }
    if let keys { props.append(("KEYS", keys)) }
    if let uniq { props.append(("UNIQ_KEY", uniq)) }
    props.append(("WAIT", "true"))
    return MessageToStore(topic: topic, queueId: queue, body: body, properties: MessageProperties.encode(props),
                          bornTimestampMs: 1_700_000_000_000, bornHost: MessageHost(ipv4: "10.0.0.1", port: 5555)!)
}

/// What a test reads back from a stored record.
struct DecodedRecord {
    var topic: String
    var queueId: Int32
    var queueOffset: Int64
    var physicalOffset: Int64
    var body: [UInt8]
    var properties: [String: String]
    var storeTimestampMs: Int64
    var sysFlag: Int32
    var totalSize: Int32
}

/// A record checked by CStore as recovery does (CRC included), then decoded by Common's MessageDecoder.
func decode(_ bytes: UnsafeRawBufferPointer) -> DecodedRecord? {
    guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
    var info = apus_record_info()
    guard apus_record_check(base, bytes.count, 1, &info) == APUS_RECORD_MESSAGE,
          let (m, _) = try? MessageDecoder.decode(bytes, at: 0) else { return nil }
    return DecodedRecord(topic: m.topic, queueId: m.queueId, queueOffset: m.queueOffset, physicalOffset: m.commitLogOffset,
                         body: m.body, properties: m.properties, storeTimestampMs: m.storeTimestamp, sysFlag: m.sysFlag,
                         totalSize: m.storeSize)
}

func decode(_ r: SelectMappedBufferResult) -> DecodedRecord? { decode(r.bytes) }

func bytes(_ count: Int, seed: UInt8 = 1) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) } }

/// Directory holding the test bundle's sibling executables (apus-store-crasher).
func productDirectory() -> String {
    if let d = ProcessInfo.processInfo.environment["APUS_BIN_DIR"] { return d }
    var path = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    while path.path != "/" {
        path.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: path.appendingPathComponent("apus-store-crasher").path) { return path.path }
    }
    return FileManager.default.currentDirectoryPath + "/.build/debug"
}

/// Waits for `condition` up to `timeoutMs`, polling every millisecond. Returns whether it held.
func eventually(timeoutMs: Int = 10_000, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
    while Date() < deadline {
        if condition() { return true }
        usleep(1000)
    }
    return condition()
}

/// Whether this process may mount a tmpfs (tests of full and small disks need it; CI runs as root).
let canMountTmpfs: Bool = {
    let probe = TestDirs.make("probe")
    defer { TestDirs.remove(probe) }
    guard sh("mount -t tmpfs -o size=64k apus-probe \(probe)") == 0 else { return false }
    _ = sh("umount \(probe)")
    return true
}()
