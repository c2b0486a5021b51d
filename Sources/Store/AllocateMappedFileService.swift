// AllocateMappedFileService: prepares CommitLog segments ahead of need (store.md §5). When the writer
// takes segment N it also asks for N+1, which this service's thread creates (fallocate through its
// own io_uring ring, optional warm-up) so that an append never waits for file creation.
// The writer waits (up to StoreLimits.allocateWaitMs) only if the file is not ready yet.
import CStore
import Foundation
import Glibc
import Logging

// Sendable because: `requests` and `ready` are only touched under `condition`; the ring is used only
// by the service thread.
final class AllocateMappedFileService: @unchecked Sendable {
    private let condition = NSCondition()
    private var requests: [Int64] = []
    private var ready: [Int64: Result<MappedFile, StoreError>] = [:]
    /// The segment the thread is creating now (not in `requests`, not yet in `ready`).
    private var inProgress: Int64?
    private var stopping = false
    private let thread = ServiceThread(name: "AllocateMappedFileService")
    private let directory: String
    private let fileSizeBytes: Int64
    private let warm: Bool
    private let readAhead: Bool
    private let prefault: Bool
    private let ring: IORing
    private let logger: Logger
    /// Lends each new file a write buffer (transientStorePoolEnable); nil otherwise.
    let pool: TransientStorePool?

    init(directory: String, fileSizeBytes: Int64, config: MessageStoreConfig, pool: TransientStorePool? = nil, logger: Logger) throws {
        self.directory = directory
        self.fileSizeBytes = fileSizeBytes
        self.warm = config.warmMappedFileEnable
        self.readAhead = config.dataReadAheadEnable
        self.prefault = config.preFaultMappedFileEnable
        self.ring = try IORing(config: config)
        self.logger = logger
        self.pool = pool
    }

    var backendName: String { ring.backendName }

    func start() {
        thread.start { [self] t in
            while !t.isStopped {
                condition.lock()
                while requests.isEmpty && !stopping { condition.wait() }
                if stopping { condition.unlock(); return }
                let start = requests.removeFirst()
                inProgress = start
                condition.unlock()
                let result = create(start: start)
                condition.lock()
                inProgress = nil
                if ready[start] == nil { ready[start] = result }
                condition.broadcast()
                condition.unlock()
            }
        }
    }

    private func create(start: Int64) -> Result<MappedFile, StoreError> {
        let path = directory + "/" + MappedFile.fileName(forOffset: start)
        var fd = Glibc.open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 && errno == EEXIST {
            // Only segments past the log's end are requested: a file there is a leftover, not data.
            logger.warning("replacing stray CommitLog file \(path) past the end of the log")
            unlink(path)
            fd = Glibc.open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        }
        if fd < 0 { return .failure(StoreError.fromErrno(-errno, "create \(path)")) }
        var reserved: StoreError?
        do {
            try ring.fallocate(fd, offset: 0, bytes: fileSizeBytes)
        } catch {
            if error.errno == EOPNOTSUPP, ftruncate(fd, off_t(fileSizeBytes)) == 0 {
                reserved = nil
            } else {
                reserved = error
            }
        }
        if let reserved {
            Glibc.close(fd)
            unlink(path)
            logger.error("cannot create CommitLog segment \(path): \(reserved)")
            return .failure(reserved)
        }
        // From here the fd belongs to the MappedFile (closed by map on failure).
        do {
            let file = try MappedFile.map(fd: fd, path: path, startOffset: start, sizeBytes: fileSizeBytes)
            if warm {
                _ = file.warm(lockPages: false)
            } else if prefault {
                _ = file.prefault()
            }
            if !readAhead { file.adviseRandom() }
            if let pool {
                if let buffer = pool.borrow() {
                    precondition(file.attachWriteBuffer(buffer), "a new CommitLog file refused a write buffer")
                } else {
                    // RocketMQ's behaviour without fastFailIfNoBufferInStorePool: write through the mapping.
                    logger.warning("TransientStorePool is empty: \(path) is written through its mapping (commit is behind)")
                }
            }
            syncDirectory(directory)
            return .success(file)
        } catch {
            unlink(path)
            logger.error("cannot map CommitLog segment \(path): \(error)")
            return .failure(error)
        }
    }

    private func enqueue(_ start: Int64) {
        if ready[start] == nil && inProgress != start && !requests.contains(start) { requests.append(start) }
    }

    /// Whether `take(start:)` would return without waiting for a file to be created (its lock is only
    /// ever held briefly: creation happens outside it).
    func isReady(start: Int64) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return ready[start] != nil || stopping
    }

    /// The segment starting at `start`, creating it if needed, and asks for the one after it.
    func take(start: Int64) -> Result<MappedFile, StoreError> {
        condition.lock()
        defer { condition.unlock() }
        enqueue(start)
        enqueue(start + fileSizeBytes)
        condition.broadcast()
        let deadline = Date(timeIntervalSinceNow: Double(StoreLimits.allocateWaitMs) / 1000)
        while ready[start] == nil && !stopping {
            if !condition.wait(until: deadline) { break }
        }
        guard let result = ready.removeValue(forKey: start) else {
            return .failure(StoreError(.io, "CommitLog segment \(MappedFile.fileName(forOffset: start)) was not ready within \(StoreLimits.allocateWaitMs) ms"))
        }
        return result
    }

    /// Stops the thread and deletes prepared files nobody took (store.md §5).
    func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
        thread.shutdown()
        condition.lock()
        let leftovers = ready.values.compactMap { try? $0.get() }
        ready.removeAll()
        condition.unlock()
        for f in leftovers {
            if let buffer = f.detachWriteBuffer() { pool?.giveBack(buffer) }
            f.destroy()
        }
    }
}
