// StoreBench: `make bench` for the store. Each figure is printed beside this machine's own bound for
// the same work, measured in the same run:
//  - append rate (ASYNC_FLUSH) of 128 B, 1 KiB, 4 KiB bodies, 1 and 2 writers  vs  CRC32+memcpy of the same sizes
//  - SYNC_FLUSH group commit with 1, 16, 64 writers (msgs/s, p50/p99 put latency, messages per fdatasync)
//    vs  the latency of one 4 KiB write + fdatasync
//  - dispatch rate (ConsumeQueue + index rebuilt from the CommitLog)
// The store lives in $APUS_BENCH_DIR (default /tmp/apus-bench) and is removed after each run.
import Common
import CStore
import Foundation
import Glibc
import Logging
import Store
import Synchronization

let benchRoot = ProcessInfo.processInfo.environment["APUS_BENCH_DIR"] ?? "/tmp/apus-bench"
let quick = ProcessInfo.processInfo.environment["APUS_BENCH_QUICK"] != nil
LoggingSystem.bootstrap { _ in SwiftLogNoOpLogHandler() }

func nowNs() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

func freshDir(_ name: String) -> String {
    let d = benchRoot + "/" + name
    try? FileManager.default.removeItem(atPath: d)
    try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
func fmt(_ v: Double, _ digits: Int = 0) -> String { String(format: "%.\(digits)f", v) }

/// CRC32 of the body plus a copy into a rolling 256 MiB buffer: what an append cannot beat.
func crcMemcpyBound(size: Int, count: Int) -> (msgsPerSec: Double, mbPerSec: Double) {
    let arena = UnsafeMutableRawPointer.allocate(byteCount: 256 << 20, alignment: 4096)
    defer { arena.deallocate() }
    memset(arena, 0, 256 << 20)
    let body = [UInt8](repeating: 0x5A, count: size)
    var at = 0
    var sink: Int32 = 0
    let start = nowNs()
    body.withUnsafeBytes { b in
        for _ in 0..<count {
            sink &+= apus_crc32_masked(b.baseAddress, size)
            if at + size > 256 << 20 { at = 0 }
            memcpy(arena + at, b.baseAddress!, size)
            at += size
        }
    }
    let secs = Double(nowNs() - start) / 1e9
    if sink == 42 { print("") }
    return (Double(count) / secs, Double(count * size) / secs / 1e6)
}

func storeConfig(_ dir: String, flush: FlushDiskType) -> MessageStoreConfig {
    var c = MessageStoreConfig(storePathRootDir: dir)
    c.flushDiskType = flush
    c.mappedFileSizeCommitLogBytes = Int64(ProcessInfo.processInfo.environment["APUS_BENCH_SEGMENT_MB"].flatMap { Int($0) } ?? 256) << 20
    if ProcessInfo.processInfo.environment["APUS_BENCH_PREFAULT"] == "0" { c.preFaultMappedFileEnable = false }
    if ProcessInfo.processInfo.environment["APUS_BENCH_WARM"] == "1" { c.warmMappedFileEnable = true }
    if ProcessInfo.processInfo.environment["APUS_BENCH_INDEX"] == "0" { c.messageIndexEnable = false }
    if ProcessInfo.processInfo.environment["APUS_BENCH_POOL"] == "1" { c.transientStorePoolEnable = true }
    if ProcessInfo.processInfo.environment["APUS_BENCH_URING"] == "0" { c.ioUringEnable = false }
    if let n = ProcessInfo.processInfo.environment["APUS_BENCH_NICE"].flatMap({ Int64($0) }) { c.storeServiceThreadNice = n }
    c.maxHashSlotNum = 500_000
    c.maxIndexNum = 2_000_000
    return c
}

/// CPU time (user + system) of the calling thread, in ns.
func threadCPUNs() -> UInt64 {
    var ru = rusage()
    getrusage(__rusage_who_t(1), &ru)  // RUSAGE_THREAD
    return UInt64(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1_000_000_000 + UInt64(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000
}

/// Context switches (voluntary, involuntary) of the calling thread so far.
func threadSwitches() -> (Int, Int) {
    var ru = rusage()
    getrusage(__rusage_who_t(1), &ru)  // RUSAGE_THREAD
    return (ru.ru_nvcsw, ru.ru_nivcsw)
}

/// Writers' CPU ns per put in the last appendRate run (how much of the wall time they ran).
nonisolated(unsafe) var lastWriterCPUNsPerPut = 0.0
nonisolated(unsafe) var lastWriterSwitches = (0, 0)

/// Appends `count` messages with `writers` threads under ASYNC_FLUSH.
func appendRate(size: Int, count: Int, writers: Int, warm: Bool = false, pool: Bool = false) throws -> (msgsPerSec: Double, mbPerSec: Double) {
    let dir = freshDir("append")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    // Start every run with no writeback of an earlier run in flight: the kernel's flusher threads would
    // otherwise compete with this run's writer for the first seconds.
    sync()
    var config = storeConfig(dir, flush: .asyncFlush)
    config.warmMappedFileEnable = config.warmMappedFileEnable || warm
    if pool {
        config.transientStorePoolEnable = true
        // 8 x 256 MiB: the burst (1.1 GB of records, plus the segment prepared ahead) fits in the pool, as it
        // would in RocketMQ's default pool of 5 x 1 GiB; with 5 x 256 MiB the last segment of a run sometimes
        // found the pool empty (commit is niced and behind) and was written through its mapping.
        config.transientStorePoolSize = 8
        config.storeServiceThreadNice = 10
    }
    let store = try MessageStore(config: config)
    store.start(cleanFirstDelayMs: 3_600_000)
    let body = [UInt8](repeating: 0x42, count: size)
    let props = MessageProperties.encode([("TAGS", "TagA"), ("UNIQ_KEY", "C0A8000A30391B6D35860A1B2C3D0000"), ("WAIT", "true")])
    let perWriter = count / writers
    let group = DispatchGroup()
    let cpuNs = Mutex<UInt64>(0)
    // The first put waits for the first segment; the clock starts once the store is warm.
    store.putMessage(MessageToStore(topic: "BenchTopic", queueId: 99, body: body, properties: props)) { _ in }
    let start = nowNs()
    for w in 0..<writers {
        group.enter()
        Thread.detachNewThread {
            let m = MessageToStore(topic: "BenchTopic", queueId: Int32(w), body: body, properties: props, bornTimestampMs: 1)
            let cpu0 = threadCPUNs()
            let sw0 = threadSwitches()
            for _ in 0..<perWriter {
                store.putMessage(m) { r in precondition(r.status == .putOk) }
            }
            let used = threadCPUNs() - cpu0
            let sw1 = threadSwitches()
            if w == 0 { lastWriterSwitches = (sw1.0 - sw0.0, sw1.1 - sw0.1) }
            cpuNs.withLock { $0 += used }
            group.leave()
        }
    }
    group.wait()
    let secs = Double(nowNs() - start) / 1e9
    store.shutdown()
    let n = perWriter * writers
    lastWriterCPUNsPerPut = Double(cpuNs.withLock { $0 }) / Double(n)
    return (Double(n) / secs, Double(n * size) / secs / 1e6)
}

/// fdatasync latency of a 4 KiB overwrite on the bench disk: the bound for durable acknowledgements.
func fdatasyncLatency(samples: Int) -> (p50Us: Double, p99Us: Double) {
    let dir = freshDir("fsync")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let fd = open(dir + "/f", O_RDWR | O_CREAT, 0o644)
    defer { close(fd) }
    _ = ftruncate(fd, 64 << 20)
    let page = [UInt8](repeating: 7, count: 4096)
    var lat: [Double] = []
    for i in 0..<samples {
        _ = pwrite(fd, page, 4096, off_t((i % 16_000) * 4096))
        let t = nowNs()
        _ = fdatasync(fd)
        lat.append(Double(nowNs() - t) / 1000)
    }
    lat.sort()
    return (lat[lat.count / 2], lat[lat.count * 99 / 100])
}

// Sendable because: `values` is only touched under `lock`.
final class LatencyBox: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Double] = []
    func add(_ v: [Double]) { lock.lock(); values += v; lock.unlock() }
    func sorted() -> [Double] { lock.lock(); defer { lock.unlock() }; return values.sorted() }
}

/// SYNC_FLUSH: `writers` threads each put and wait for the acknowledgement.
func groupCommit(writers: Int, seconds: Double) throws -> (msgsPerSec: Double, p50Us: Double, p99Us: Double, perSync: Double) {
    let dir = freshDir("sync")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let store = try MessageStore(config: storeConfig(dir, flush: .syncFlush))
    store.start(cleanFirstDelayMs: 3_600_000)
    let body = [UInt8](repeating: 0x42, count: 1024)
    let props = MessageProperties.encode([("WAIT", "true")])
    let deadline = nowNs() + UInt64(seconds * 1e9)
    let collected = LatencyBox()
    let group = DispatchGroup()
    let start = nowNs()
    for w in 0..<writers {
        group.enter()
        Thread.detachNewThread {
            let m = MessageToStore(topic: "BenchTopic", queueId: Int32(w % 8), body: body, properties: props)
            var mine: [Double] = []
            let sem = DispatchSemaphore(value: 0)
            while nowNs() < deadline {
                let t = nowNs()
                store.putMessage(m) { r in
                    precondition(r.status == .putOk)
                    sem.signal()
                }
                sem.wait()
                mine.append(Double(nowNs() - t) / 1000)
            }
            collected.add(mine)
            group.leave()
        }
    }
    group.wait()
    let secs = Double(nowNs() - start) / 1e9
    let stats = store.groupCommitStatistics
    store.shutdown()
    let latencies = collected.sorted()
    return (Double(latencies.count) / secs, latencies[latencies.count / 2], latencies[latencies.count * 99 / 100],
            Double(stats.requests) / Double(max(1, stats.syncs)))
}

/// Writes `count` 1 KiB messages over 64 queues, then rebuilds ConsumeQueues and index from the
/// CommitLog (recovery with empty queues); the time is dominated by dispatch.
func dispatchRate(count: Int, index: Bool) throws -> Double {
    let dir = freshDir("dispatch")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var config = storeConfig(dir, flush: .asyncFlush)
    config.messageIndexEnable = index
    config.checkCRCOnRecover = false
    do {
        let store = try MessageStore(config: config)
        store.start(cleanFirstDelayMs: 3_600_000)
        let body = [UInt8](repeating: 0x42, count: 1024)
        for i in 0..<count {
            let props = MessageProperties.encode([("TAGS", "TagA"), ("KEYS", "k\(i)"), ("UNIQ_KEY", "U\(i)")])
            store.putMessage(MessageToStore(topic: "BenchTopic", queueId: Int32(i % 64), body: body, properties: props)) { _ in }
        }
        while store.dispatchBehindBytes > 0 { usleep(1000) }
        store.shutdown()
    }
    try? FileManager.default.removeItem(atPath: dir + "/consumequeue")
    try? FileManager.default.removeItem(atPath: dir + "/index")
    let start = nowNs()
    let store = try MessageStore(config: config)
    let secs = Double(nowNs() - start) / 1e9
    precondition(store.recoveryReport.dispatchedRecords == count, "dispatched \(store.recoveryReport.dispatchedRecords)")
    return Double(count) / secs
}

let only = ProcessInfo.processInfo.environment["APUS_BENCH_ONLY"]
if only == "sync" {
    for w in [1, 16, 64] {
        let r = try groupCommit(writers: w, seconds: 2)
        print("sync x\(w): \(fmt(r.msgsPerSec)) msgs/s p50 \(fmt(r.p50Us)) p99 \(fmt(r.p99Us)) per sync \(fmt(r.perSync, 1))")
    }
    exit(0)
}
if only == "append" {
    let size = Int(ProcessInfo.processInfo.environment["APUS_BENCH_SIZE"] ?? "1024") ?? 1024
    let count = Int(ProcessInfo.processInfo.environment["APUS_BENCH_COUNT"] ?? "") ?? 1_000_000
    let bound = crcMemcpyBound(size: size, count: count)
    let pool = ProcessInfo.processInfo.environment["APUS_BENCH_POOL"] == "1"
    let r = try appendRate(size: size, count: count, writers: 1, pool: pool)
    print("bound (CRC32 + memcpy, one core): \(fmt(bound.msgsPerSec)) msgs/s; ratio \(fmt(r.msgsPerSec / bound.msgsPerSec * 100, 1))%")
    print("append \(size) B x1: \(fmt(r.msgsPerSec)) msgs/s, writer CPU \(fmt(lastWriterCPUNsPerPut)) ns/put (wall \(fmt(1e9 / r.msgsPerSec)) ns/put), writer switches voluntary \(lastWriterSwitches.0) involuntary \(lastWriterSwitches.1)")
    exit(0)
}
if only == "dispatch" {
    print("ConsumeQueue only:  \(fmt(try dispatchRate(count: quick ? 50_000 : 500_000, index: false))) msgs/s")
    print("ConsumeQueue+index:  \(fmt(try dispatchRate(count: quick ? 50_000 : 500_000, index: true))) msgs/s")
    exit(0)
}
print("Apus store benchmark (\(ProcessInfo.processInfo.activeProcessorCount) cores, store in \(benchRoot))")
print("")
print("== Append, ASYNC_FLUSH (bound: CRC32 + memcpy of the same body, one core) ==")
print("   (\"warm\": warmMapedFileEnable=true, the allocator touches the next segment's pages ahead of the writer;")
print("    \"pool\": transientStorePoolEnable=true (8 resident 256 MiB buffers, CommitRealTimeService pwrites them) and")
print("    storeServiceThreadNice=10 (dispatch and commit yield the CPU to the writer and catch up after the run))")
print(pad("body", 7) + pad("writers", 9) + pad("msgs/s", 12) + pad("MB/s", 9) + pad("bound msgs/s", 14) + pad("bound MB/s", 12) + "ratio")
for size in [128, 1024, 4096] {
    let count = quick ? 100_000 : (size == 4096 ? 300_000 : 1_000_000)
    for (writers, mode) in [(1, ""), (2, ""), (1, "warm"), (1, "pool")] {
        // The bound is taken right before each row: this VM's speed drifts over minutes.
        let bound = crcMemcpyBound(size: size, count: count)
        let r = try appendRate(size: size, count: count, writers: writers, warm: mode == "warm", pool: mode == "pool")
        print(pad("\(size)", 7) + pad("\(writers)\(mode.isEmpty ? "" : " " + mode)", 9) + pad(fmt(r.msgsPerSec), 12) + pad(fmt(r.mbPerSec), 9)
              + pad(fmt(bound.msgsPerSec), 14) + pad(fmt(bound.mbPerSec), 12) + fmt(r.msgsPerSec / bound.msgsPerSec * 100, 1) + "%")
    }
}
print("")
let fsync = fdatasyncLatency(samples: quick ? 100 : 500)
print("== SYNC_FLUSH group commit, 1 KiB (bound: 4 KiB write + fdatasync p50 \(fmt(fsync.p50Us)) us, p99 \(fmt(fsync.p99Us)) us => \(fmt(1e6 / fsync.p50Us)) syncs/s) ==")
print(pad("writers", 9) + pad("msgs/s", 10) + pad("p50 us", 10) + pad("p99 us", 10) + "msgs per fdatasync")
for writers in [1, 16, 64] {
    let r = try groupCommit(writers: writers, seconds: quick ? 1 : 3)
    print(pad("\(writers)", 9) + pad(fmt(r.msgsPerSec), 10) + pad(fmt(r.p50Us), 10) + pad(fmt(r.p99Us), 10) + fmt(r.perSync, 1))
}
print("")
print("== Dispatch: ConsumeQueue (+ index) rebuilt from the CommitLog, 1 KiB messages, 64 queues ==")
let n = quick ? 50_000 : 500_000
print("ConsumeQueue only:   \(fmt(try dispatchRate(count: n, index: false))) msgs/s")
print("ConsumeQueue+index:  \(fmt(try dispatchRate(count: n, index: true))) msgs/s (UNIQ_KEY + 1 key each)")
