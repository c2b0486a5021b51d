// StoreLockFile: the `lock` file (one store, one process: an exclusive fcntl lock on byte 0, failing
// at once with a clear message) and the `abort` file (present while running; present at start means
// the last run did not shut down cleanly), store.md §8.
import Glibc

final class StoreLockFile: Sendable {
    private let fd: Int32
    let path: String

    /// Takes the lock or throws `.lockHeld` naming the holder's pid when it can be read.
    init(path: String) throws(StoreError) {
        self.path = path
        let fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0 { throw StoreError.fromErrno(-errno, "open \(path)") }
        var fl = flock()
        fl.l_type = Int16(F_WRLCK)
        fl.l_whence = Int16(SEEK_SET)
        fl.l_start = 0
        fl.l_len = 1
        if fcntl(fd, F_SETLK, &fl) != 0 {
            let e = errno
            var holder = flock()
            holder.l_type = Int16(F_WRLCK)
            holder.l_whence = Int16(SEEK_SET)
            holder.l_len = 1
            let who = fcntl(fd, F_GETLK, &holder) == 0 && holder.l_type != Int16(F_UNLCK) ? " by pid \(holder.l_pid)" : ""
            Glibc.close(fd)
            throw StoreError(.lockHeld, errno: e, "Lock failed, MQ already started: the store at \(path) is locked\(who)")
        }
        _ = pwrite(fd, "lock", 4, 0)
        self.fd = fd
    }

    deinit { Glibc.close(fd) }
}

enum AbortFile {
    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Creates the abort file with this process's pid and makes it durable.
    static func create(_ path: String) {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        let text = "\(getpid())"
        _ = text.withCString { write(fd, $0, strlen($0)) }
        _ = fsync(fd)
        Glibc.close(fd)
        syncDirectory(String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]))
    }

    static func remove(_ path: String) {
        unlink(path)
        syncDirectory(String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]))
    }
}
