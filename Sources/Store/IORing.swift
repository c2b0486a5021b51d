// IORing: Swift face of CUring's ring (flush, fallocate, cold reads) for one store thread.
// Each service thread owns its ring; the type is not shared across threads at the same time.
import CUring
import Logging

// Sendable because: a ring is handed to exactly one thread (flush, allocator, ...) which alone uses it;
// the type is passed across only at service start.
public final class IORing: @unchecked Sendable {
    private let ring: OpaquePointer
    /// "io_uring", "io_uring+sqpoll" or "syscall".
    public let backendName: String
    /// Why io_uring was refused (negative errno), 0 when it is in use or was not asked for.
    public let refusalErrno: Int32

    public init(entries: Int64, sqPoll: Bool, sqThreadIdleMs: Int64, useIoUring: Bool) throws {
        var params = apus_ring_params(entries: UInt32(clamping: entries), sqpoll: sqPoll ? 1 : 0,
                                      sq_thread_idle_ms: UInt32(clamping: sqThreadIdleMs), use_io_uring: useIoUring ? 1 : 0)
        var out: OpaquePointer?
        var refusal: Int32 = 0
        let rc = apus_ring_create(&params, &out, &refusal)
        guard rc == 0, let ring = out else { throw StoreError(.invalidConfig, errno: -rc, "ioUringEntries \(entries) rejected") }
        self.ring = ring
        self.backendName = String(cString: apus_ring_backend_name(ring))
        self.refusalErrno = refusal
    }

    public convenience init(config: MessageStoreConfig, sqPoll: Bool = false) throws {
        try self.init(entries: config.ioUringEntries, sqPoll: sqPoll, sqThreadIdleMs: config.ioUringSqThreadIdleMs,
                      useIoUring: config.ioUringEnable)
    }

    deinit { apus_ring_destroy(ring) }

    public var isIoUring: Bool { apus_ring_backend(ring) == APUS_RING_BACKEND_IO_URING }

    /// One log line naming the backend and, if io_uring was refused, the errno, likely cause and fix.
    public func logBackend(_ logger: Logger, role: String) {
        if refusalErrno != 0 {
            logger.warning("\(role) I/O backend: \(backendName); io_uring refused (errno \(-refusalErrno)): \(String(cString: apus_ring_refusal_hint(refusalErrno)))")
        } else {
            logger.info("\(role) I/O backend: \(backendName)")
        }
    }

    public func fdatasync(_ fd: Int32) throws(StoreError) {
        let rc = apus_ring_fdatasync(ring, fd)
        if rc < 0 { throw StoreError.fromErrno(rc, "fdatasync") }
    }

    /// fdatasync of several files in one submission.
    public func fdatasync(_ fds: [Int32]) throws(StoreError) {
        var start = 0
        while start < fds.count {
            let chunk = Array(fds[start..<min(fds.count, start + 64)])
            var results = [Int32](repeating: 0, count: chunk.count)
            let rc = apus_ring_fdatasync_many(ring, chunk, Int32(chunk.count), &results)
            if rc < 0 { throw StoreError.fromErrno(rc, "fdatasync") }
            start += 64
        }
    }

    public func syncFileRange(_ fd: Int32, offset: Int64, bytes: Int64, flags: UInt32) throws(StoreError) {
        let rc = apus_ring_sync_file_range(ring, fd, offset, bytes, flags)
        if rc < 0 { throw StoreError.fromErrno(rc, "sync_file_range") }
    }

    public func fallocate(_ fd: Int32, offset: Int64, bytes: Int64) throws(StoreError) {
        let rc = apus_ring_fallocate(ring, fd, 0, offset, bytes)
        if rc < 0 { throw StoreError.fromErrno(rc, "fallocate") }
    }

    public func pread(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, offset: Int64) throws(StoreError) -> Int {
        let n = apus_ring_pread(ring, fd, buffer.baseAddress, buffer.count, offset)
        if n < 0 { throw StoreError.fromErrno(Int32(n), "pread") }
        return Int(n)
    }
}
