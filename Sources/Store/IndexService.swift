// IndexService: the IndexFiles under index/ (store.md §7): builds entries for UNIQ_KEY and each KEYS
// token as the dispatcher follows the CommitLog, rolls to a new file when one is full (flushing the
// full one and recording indexMsgTimestamp in the checkpoint), answers key/time-range queries, deletes
// files whose data is gone. Written by the dispatcher thread only; queries from any thread.
import CStore
import Foundation
import Synchronization
import Logging

final class IndexService: Sendable {
    let directory: String
    let slotNum: UInt32
    let indexNum: UInt32
    let fileSizeBytes: Int64
    private let files = Mutex<[MappedFile]>([])
    private let logger: Logger

    init(directory: String, slotNum: Int64, indexNum: Int64, logger: Logger) {
        self.directory = directory
        self.slotNum = UInt32(slotNum)
        self.indexNum = UInt32(indexNum)
        self.fileSizeBytes = Int64(apus_index_file_bytes(UInt32(slotNum), UInt32(indexNum)))
        self.logger = logger
    }

    private static func header(_ f: MappedFile) -> apus_index_header {
        var h = apus_index_header()
        apus_index_header_read(f.base, &h)
        return h
    }

    /// Maps index files. After an abnormal exit, files newer than the checkpoint's indexMsgTimestamp are
    /// deleted (recovery's scan rebuilds them). A file of the wrong size is reported and set aside.
    func load(lastExitOK: Bool, indexMsgTimestampMs: Int64) throws(StoreError) {
        try makeDirectories(directory)
        var loaded: [MappedFile] = []
        for name in listDirectory(directory).sorted() where name.count == 17 && Int64(name) != nil {
            let path = directory + "/" + name
            let f: MappedFile
            do {
                f = try MappedFile.open(path: path, startOffset: 0, sizeBytes: fileSizeBytes)
            } catch {
                logger.error("index file \(path) unusable, moved aside: \(error)")
                rename(path, path + ".bad")
                continue
            }
            let h = Self.header(f)
            if !lastExitOK && h.end_timestamp_ms > indexMsgTimestampMs {
                logger.info("deleting index file \(name) written after the last checkpoint (rebuilt by recovery)")
                f.destroy()
                continue
            }
            f.wrotePosition = fileSizeBytes
            f.adviseRandom()
            loaded.append(f)
        }
        files.withLock { $0 = loaded }
    }

    /// End physical offset of the newest file (entries below it are already indexed).
    var lastEndPhysicalOffset: Int64 { files.withLock { $0.last.map { Self.header($0).end_physical_offset } ?? 0 } }

    /// Adds the message's keys (store.md §7.3). Returns the timestamp of a file that filled and was
    /// flushed, so the caller can record indexMsgTimestamp.
    func buildIndex(topic: UnsafeRawBufferPointer, uniqKey: UnsafeRawBufferPointer?, keys: UnsafeRawBufferPointer?,
                    physicalOffset: Int64, storeTimestampMs: Int64, sysFlag: Int32, ring: IORing) throws(StoreError) -> Int64? {
        if sysFlag & APUS_SYSFLAG_TX_MASK == APUS_SYSFLAG_TX_ROLLBACK { return nil }
        guard var file = try lastFile() else { return nil }
        if physicalOffset < Self.header(file).end_physical_offset { return nil }
        var rolled: Int64? = nil
        var key = [UInt8]()
        key.reserveCapacity(topic.count + 64)
        func put(_ k: UnsafeRawBufferPointer) throws(StoreError) {
            key.removeAll(keepingCapacity: true)
            key.append(contentsOf: topic)
            key.append(UInt8(ascii: "#"))
            key.append(contentsOf: k)
            while apus_index_put(file.base, slotNum, indexNum, key, key.count, physicalOffset, storeTimestampMs) == APUS_INDEX_FULL {
                let full = file
                try ring.fdatasync(full.fd)
                rolled = Self.header(full).end_timestamp_ms
                file = try newFile(after: full)
            }
        }
        if let u = uniqKey, u.count > 0 { try put(u) }
        if let ks = keys {
            var start = 0
            for i in 0...ks.count where i == ks.count || ks[i] == UInt8(ascii: " ") {
                if i > start { try put(UnsafeRawBufferPointer(rebasing: ks[start..<i])) }
                start = i + 1
            }
        }
        return rolled
    }

    private func lastFile() throws(StoreError) -> MappedFile? {
        if let last = files.withLock({ $0.last }) {
            if Self.header(last).index_count < Int32(indexNum) { return last }
            return try newFile(after: last)
        }
        return try newFile(after: nil)
    }

    private func newFile(after previous: MappedFile?) throws(StoreError) -> MappedFile {
        let prevHeader = previous.map(Self.header)
        var stamp = Self.formatTimestamp(currentTimeMs())
        var path = directory + "/" + stamp
        var bump: Int64 = 1
        while fileSize(path) != nil {
            stamp = Self.formatTimestamp(currentTimeMs() + bump)
            path = directory + "/" + stamp
            bump += 1
        }
        let f = try MappedFile.create(path: path, startOffset: 0, sizeBytes: fileSizeBytes)
        // Hash slots are written at random: readahead would only zero pages nobody asked for.
        f.adviseRandom()
        apus_index_init(f.base, prevHeader?.end_physical_offset ?? 0, prevHeader?.end_timestamp_ms ?? 0)
        f.wrotePosition = fileSizeBytes
        files.withLock { $0.append(f) }
        syncDirectory(directory)
        return f
    }

    /// yyyyMMddHHmmssSSS in local time (store.md §2).
    static func formatTimestamp(_ ms: Int64) -> String {
        var t = time_t(ms / 1000)
        var tmv = tm()
        localtime_r(&t, &tmv)
        return String(format: "%04d%02d%02d%02d%02d%02d%03d", Int(tmv.tm_year) + 1900, Int(tmv.tm_mon) + 1, Int(tmv.tm_mday),
                      Int(tmv.tm_hour), Int(tmv.tm_min), Int(tmv.tm_sec), Int(ms % 1000))
    }

    struct QueryResult: Sendable {
        var physicalOffsets: [Int64]
        var indexLastUpdateTimestampMs: Int64
        var indexLastUpdatePhysicalOffset: Int64
    }

    /// Physical offsets for topic#key within [beginMs, endMs], newest files first (store.md §7.5).
    func query(topic: String, key: String, maxNum: Int, beginMs: Int64, endMs: Int64) -> QueryResult {
        let all = files.withLock { $0 }
        let full = Array((topic + "#" + key).utf8)
        let limit = min(maxNum, StoreLimits.indexQueryResultsMax)
        var out: [Int64] = []
        var lastTs: Int64 = 0, lastPhy: Int64 = 0
        if let last = all.last {
            let h = Self.header(last)
            lastTs = h.end_timestamp_ms
            lastPhy = h.end_physical_offset
        }
        for f in all.reversed() where out.count < limit {
            let h = Self.header(f)
            let overlaps = h.begin_timestamp_ms <= endMs && h.end_timestamp_ms >= beginMs
            if overlaps {
                var buf = [Int64](repeating: 0, count: limit - out.count)
                let n = apus_index_query(f.base, slotNum, indexNum, full, full.count, beginMs, endMs, &buf, UInt32(buf.count))
                out.append(contentsOf: buf.prefix(Int(n)))
            }
            if h.begin_timestamp_ms < beginMs { break }
        }
        // One offset once: a record whose keys straddled a file roll is indexed whole again when a truncation
        // or recovery rebuilds the later file, next to the entries the earlier file kept.
        var offsets: [Int64] = []
        offsets.reserveCapacity(out.count)
        for o in out.sorted() where offsets.last != o { offsets.append(o) }
        return QueryResult(physicalOffsets: offsets, indexLastUpdateTimestampMs: lastTs, indexLastUpdatePhysicalOffset: lastPhy)
    }

    /// A replica's truncation at `physicalOffset`: deletes the newest files holding an entry for a record at
    /// or past it (entries are in CommitLog order, so those are a run at the end). Returns the physical
    /// offset of the first record the deleted files indexed (the caller rebuilds entries from there up to
    /// the cut from the CommitLog), or nil when no file was deleted.
    func truncate(physicalOffset: Int64) -> Int64? {
        let doomed: [MappedFile] = files.withLock { list in
            guard let first = list.firstIndex(where: { Self.header($0).end_physical_offset >= physicalOffset }) else { return [] }
            defer { list.removeSubrange(first...) }
            return Array(list[first...])
        }
        guard let first = doomed.first else { return nil }
        let from = Self.header(first).begin_physical_offset
        for f in doomed {
            logger.info("deleting index file \(f.path) (entries past the CommitLog truncation at \(physicalOffset); rebuilt from \(from))")
            f.destroy()
        }
        syncDirectory(directory)
        return from
    }

    /// Deletes files (never the last) whose data lies wholly below the CommitLog's min offset.
    func deleteExpiredFiles(commitLogMinOffset: Int64) {
        let doomed: [MappedFile] = files.withLock { list in
            var d: [MappedFile] = []
            for f in list.dropLast() where Self.header(f).end_physical_offset < commitLogMinOffset { d.append(f) }
            list.removeFirst(d.count)
            return d
        }
        for f in doomed { f.destroy() }
    }

    /// Deletes every file (the CommitLog is gone, or an abnormal recovery rebuilds the index).
    func destroyAll() {
        let all = files.withLock { l -> [MappedFile] in defer { l = [] }; return l }
        for f in all { f.destroy() }
    }

    /// fdatasync of the newest file (shutdown).
    func flushLast(ring: IORing) throws(StoreError) -> Int64? {
        guard let last = files.withLock({ $0.last }) else { return nil }
        try ring.fdatasync(last.fd)
        return Self.header(last).end_timestamp_ms
    }
}
