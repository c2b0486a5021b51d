// MappedFile: one mapped store file (CommitLog, ConsumeQueue or IndexFile segment) over CStore's
// apus_segment. Readers keep a MappedFile alive while they use its bytes: the mapping is released only
// when the last reference goes (deinit), so deleting a file under a reader is safe (RocketMQ's
// hold/release, done by ARC). Positions are published by the C core with release/acquire order.
import CStore
import Glibc

// Sendable because: the segment's positions are C11 atomics (release/acquire, apus_segment.h); the
// mapping's bytes below the wrote position are immutable once published, and the one writer is
// serialised by its owner (put lock, dispatcher thread). `deleted` is only a hint read by cleaners.
public final class MappedFile: @unchecked Sendable {
    let segment: OpaquePointer
    public let path: String
    public let startOffset: Int64
    public let sizeBytes: Int64
    public let fd: Int32
    public let base: UnsafeMutablePointer<UInt8>

    /// 20-digit zero-padded decimal name of a file starting at `offset` (store.md §3.1).
    public static func fileName(forOffset offset: Int64) -> String {
        let digits = String(offset)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    init(segment: OpaquePointer, path: String) {
        self.segment = segment
        self.path = path
        self.startOffset = apus_segment_start_offset(segment)
        self.sizeBytes = Int64(apus_segment_size_bytes(segment))
        self.fd = apus_segment_fd(segment)
        self.base = apus_segment_base(segment)
    }

    /// Creates a new file of `sizeBytes` (blocks reserved) and maps it.
    public static func create(path: String, startOffset: Int64, sizeBytes: Int64) throws(StoreError) -> MappedFile {
        var seg: OpaquePointer?
        let rc = apus_segment_create(path, startOffset, UInt64(sizeBytes), &seg)
        guard rc == 0, let seg else { throw StoreError.fromErrno(rc, "create \(path)") }
        return MappedFile(segment: seg, path: path)
    }

    /// Maps an existing file, which must be exactly `sizeBytes` long.
    public static func open(path: String, startOffset: Int64, sizeBytes: Int64) throws(StoreError) -> MappedFile {
        var seg: OpaquePointer?
        let rc = apus_segment_open(path, startOffset, UInt64(sizeBytes), &seg)
        if rc == -EINVAL {
            throw StoreError(.fileSizeMismatch, errno: EINVAL,
                             "\(path) has \(fileSize(path) ?? -1) bytes, expected \(sizeBytes): the file is truncated or from another configuration")
        }
        guard rc == 0, let seg else { throw StoreError.fromErrno(rc, "open \(path)") }
        return MappedFile(segment: seg, path: path)
    }

    /// Maps an fd whose blocks the caller reserved (the allocator does so through its io_uring ring).
    static func map(fd: Int32, path: String, startOffset: Int64, sizeBytes: Int64) throws(StoreError) -> MappedFile {
        var seg: OpaquePointer?
        let rc = apus_segment_map_fd(fd, startOffset, UInt64(sizeBytes), &seg)
        guard rc == 0, let seg else { throw StoreError.fromErrno(rc, "map \(path)") }
        return MappedFile(segment: seg, path: path)
    }

    deinit { apus_segment_close(segment) }

    /// Bytes appended and visible to readers (acquire load; pairs with the writer's release store).
    public var wrotePosition: Int64 {
        get { apus_segment_wrote_position(segment) }
        set { apus_segment_set_wrote_position(segment, newValue) }
    }

    public var flushedPosition: Int64 {
        get { apus_segment_flushed_position(segment) }
        set { apus_segment_set_flushed_position(segment, newValue) }
    }

    /// The writer's cursor: equal to wrotePosition unless the file has a write buffer (TransientStorePool),
    /// in which case bytes between the two are appended but not yet committed to the file.
    public var appendPosition: Int64 { apus_segment_append_position(segment) }

    /// Whether the writer has filled the file (it rolls to the next one).
    public var isFull: Bool { appendPosition == sizeBytes }

    var hasWriteBuffer: Bool { apus_segment_has_write_buffer(segment) != 0 }

    /// Appends go to `buffer` (a TransientStorePool buffer of sizeBytes) until it is committed. Only for an
    /// empty file.
    func attachWriteBuffer(_ buffer: UnsafeMutablePointer<UInt8>) -> Bool {
        apus_segment_attach_write_buffer(segment, buffer) == 0
    }

    /// The write buffer, released once the whole file is committed; nil before that or without one.
    func detachWriteBuffer() -> UnsafeMutablePointer<UInt8>? { apus_segment_detach_write_buffer(segment) }

    /// pwrites appended bytes from the write buffer into the file and makes them visible (store.md §3.12).
    /// Returns the bytes committed (0 if none were due).
    func commit(leastPages: Int) throws(StoreError) -> Int64 {
        let rc = apus_segment_commit(segment, UInt32(clamping: max(0, leastPages)))
        if rc < 0 { throw StoreError.fromErrno(Int32(rc), "commit to \(path)") }
        return rc
    }
    public var endOffset: Int64 { startOffset + sizeBytes }

    /// Read-only view of [position, position+count) of the mapping.
    public func bytes(at position: Int64, count: Int) -> UnsafeRawBufferPointer {
        precondition(position >= 0 && position + Int64(count) <= sizeBytes)
        return UnsafeRawBufferPointer(start: base + Int(position), count: count)
    }

    /// Whether every page of the range is in the page cache (mincore).
    public func isResident(at position: Int64, count: Int) -> Bool {
        apus_segment_resident(segment, position, UInt64(count)) == 1
    }

    /// Seconds-resolution modification time, for retention (fileReservedTime).
    public var lastModifiedMs: Int64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return 0 }
        return Int64(st.st_mtim.tv_sec) * 1000 + Int64(st.st_mtim.tv_nsec) / 1_000_000
    }

    /// Removes the file from the directory; the mapping lives on until the last reader lets go.
    public func destroy() {
        unlink(path)
    }

    public func warm(lockPages: Bool) -> Int32 { apus_segment_warm(segment, lockPages ? 1 : 0) }
    /// Evicts a range from the page cache (tests, operators); flushed data only.
    @discardableResult
    public func evict(at position: Int64, count: Int) -> Int32 { apus_segment_evict(segment, position, UInt64(count)) }

    public func prefault() -> Int32 { apus_segment_prefault(segment) }
    public func adviseRandom() { _ = apus_segment_advise_random(segment) }
}

func fileSize(_ path: String) -> Int64? {
    var st = stat()
    guard stat(path, &st) == 0 else { return nil }
    return Int64(st.st_size)
}

func listDirectory(_ path: String) -> [String] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            raw.bindMemory(to: CChar.self).baseAddress.map { String(cString: $0) } ?? ""
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}

func makeDirectories(_ path: String) throws(StoreError) {
    var current = path.hasPrefix("/") ? "" : "."
    for part in path.split(separator: "/") {
        current += "/" + part
        if mkdir(current, 0o755) != 0 && errno != EEXIST {
            throw StoreError.fromErrno(-errno, "mkdir \(current)")
        }
    }
}

/// fsyncs a directory so that a created, renamed or removed entry survives a crash.
func syncDirectory(_ path: String) {
    let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if fd >= 0 {
        _ = Glibc.fsync(fd)
        Glibc.close(fd)
    }
}

func currentTimeMs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

func monotonicNs() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
