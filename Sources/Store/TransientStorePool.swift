// TransientStorePool: RocketMQ's pool of resident write buffers (store.md §3.12). With
// transientStorePoolEnable each new CommitLog file borrows one buffer of the file's size; appends copy
// into it instead of into the file's mapping, and CommitRealTimeService pwrites them into the file.
// The writer then never takes a page fault: the buffers are touched (and mlocked where allowed) once at
// start and reused, while the page-cache work of a fresh file happens on the committer's thread.
// Thread-safety: borrow and giveBack from any thread (a Mutex over the free list).
import Glibc
import Logging
import Synchronization

final class TransientStorePool: Sendable {
    let bufferBytes: Int
    let count: Int
    /// Addresses of free buffers (as integers, so the list is Sendable).
    private let free: Mutex<[UInt]>
    private let all: [UInt]

    /// Maps `count` anonymous buffers of `bufferBytes`, touches every page and tries to mlock them
    /// (failing mlock, e.g. under RLIMIT_MEMLOCK, is logged: the buffers stay resident while in use).
    init(count: Int, bufferBytes: Int, logger: Logger) throws(StoreError) {
        self.bufferBytes = bufferBytes
        self.count = count
        var buffers: [UInt] = []
        var lockFailed: Int32 = 0
        for _ in 0..<count {
            guard let p = mmap(nil, bufferBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                  p != MAP_FAILED else {
                let e = errno
                for b in buffers { munmap(UnsafeMutableRawPointer(bitPattern: b), bufferBytes) }
                throw StoreError.fromErrno(-e, "map a \(bufferBytes)-byte TransientStorePool buffer")
            }
            // Huge pages where the kernel allows them (MADV_HUGEPAGE): the writer's copies walk the buffer
            // sequentially and would otherwise miss the TLB every 4 KiB.
            _ = madvise(p, bufferBytes, MADV_HUGEPAGE)
            // MADV_POPULATE_WRITE (Linux 5.14) faults every page in one call; touching each page is the fallback.
            if madvise(p, bufferBytes, MADV_POPULATE_WRITE) != 0 {
                var at = 0
                while at < bufferBytes { p.storeBytes(of: 0, toByteOffset: at, as: UInt8.self); at += 4096 }
            }
            if mlock(p, bufferBytes) != 0 && lockFailed == 0 { lockFailed = errno }
            buffers.append(UInt(bitPattern: p))
        }
        if lockFailed != 0 {
            logger.warning("TransientStorePool: mlock failed (\(String(cString: strerror(lockFailed)))): buffers are resident but not locked; raise RLIMIT_MEMLOCK to lock them")
        }
        all = buffers
        free = Mutex(buffers)
        logger.info("TransientStorePool: \(count) buffers of \(bufferBytes) bytes ready")
    }

    deinit {
        for b in all { munmap(UnsafeMutableRawPointer(bitPattern: b), bufferBytes) }
    }

    /// A free buffer, or nil when all are lent out (the file is then written through its mapping).
    func borrow() -> UnsafeMutablePointer<UInt8>? {
        guard let b = free.withLock({ $0.popLast() }) else { return nil }
        return UnsafeMutablePointer(bitPattern: b)
    }

    func giveBack(_ buffer: UnsafeMutablePointer<UInt8>) {
        let b = UInt(bitPattern: buffer)
        precondition(all.contains(b), "a buffer that is not the pool's was given back")
        free.withLock { $0.append(b) }
    }

    /// Buffers not lent out (RocketMQ's availableBufferNums).
    var availableBufferCount: Int { free.withLock { $0.count } }
}
