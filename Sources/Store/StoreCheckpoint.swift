// StoreCheckpoint: the checkpoint file (store.md §8): five timestamps/offsets in one 4096-byte page.
// Values are updated in memory by the flush, dispatch and index services; flush() writes the page
// with pwrite and fdatasync (the whole page at once, so a crash leaves the old or the new page).
import CStore
import Glibc
import Synchronization

final class StoreCheckpoint: Sendable {
    private let fd: Int32
    let path: String
    private let values = Mutex(apus_checkpoint())

    init(path: String) throws(StoreError) {
        self.path = path
        let fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0 { throw StoreError.fromErrno(-errno, "open \(path)") }
        self.fd = fd
        var page = [UInt8](repeating: 0, count: Int(APUS_CHECKPOINT_FILE_BYTES))
        let n = pread(fd, &page, page.count, 0)
        var c = apus_checkpoint()
        if n >= Int(APUS_CHECKPOINT_USED_BYTES) { apus_checkpoint_decode(page, &c) }
        values.withLock { $0 = c }
    }

    deinit { Glibc.close(fd) }

    var snapshot: apus_checkpoint { values.withLock { $0 } }

    var physicMsgTimestampMs: Int64 {
        get { values.withLock { $0.physic_msg_timestamp_ms } }
        set { values.withLock { $0.physic_msg_timestamp_ms = newValue } }
    }
    var logicsMsgTimestampMs: Int64 {
        get { values.withLock { $0.logics_msg_timestamp_ms } }
        set { values.withLock { $0.logics_msg_timestamp_ms = newValue } }
    }
    var indexMsgTimestampMs: Int64 {
        get { values.withLock { $0.index_msg_timestamp_ms } }
        set { values.withLock { $0.index_msg_timestamp_ms = newValue } }
    }
    var confirmPhysicalOffset: Int64 {
        get { values.withLock { $0.confirm_physical_offset } }
        set { values.withLock { $0.confirm_physical_offset = newValue } }
    }

    /// max(0, min(physic, logics) - 3000 ms): where abnormal recovery may start.
    var minTimestampMs: Int64 {
        var c = snapshot
        return apus_checkpoint_min_timestamp(&c)
    }

    /// Writes the page. `logicsMsgTimestampMs`, when given, replaces the in-memory value in what is
    /// written (the value captured before a ConsumeQueue flush).
    func flush(logicsMsgTimestampMs: Int64? = nil) throws(StoreError) {
        var c = snapshot
        if let logicsMsgTimestampMs { c.logics_msg_timestamp_ms = logicsMsgTimestampMs }
        var page = [UInt8](repeating: 0, count: Int(APUS_CHECKPOINT_FILE_BYTES))
        apus_checkpoint_encode(&c, &page)
        let n = pwrite(fd, page, page.count, 0)
        if n != page.count { throw StoreError.fromErrno(n < 0 ? -errno : -EIO, "write \(path)") }
        if fdatasync(fd) != 0 { throw StoreError.fromErrno(-errno, "fdatasync \(path)") }
    }
}
