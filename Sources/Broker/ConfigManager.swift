// ConfigManager: loads and persists one `config/*.json` file the RocketMQ way (store.md §11): the old file
// becomes `<name>.bak`, the new one is written to a temporary file, fsynced and renamed; an unreadable file
// falls back to the `.bak`. Called by the managers (topics, groups, offsets) from any task.

import Foundation
import Glibc

struct ConfigManager: Sendable {
    let path: String

    /// The file's text, or the `.bak`'s when the file is missing, empty or `parse` rejects it.
    func load<T>(_ parse: (String) -> T?) -> T? {
        for candidate in [path, path + ".bak"] {
            guard let data = FileManager.default.contents(atPath: candidate), !data.isEmpty else { continue }
            if let value = parse(String(decoding: data, as: UTF8.self)) { return value }
        }
        return nil
    }

    /// Writes `text` durably: tmp + fsync, current → .bak, tmp → file, fsync the directory.
    func persist(_ text: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let e = errno
                close(fd)
                throw POSIXError(POSIXErrorCode(rawValue: e) ?? .EIO)
            }
            written += n
        }
        fsync(fd)
        close(fd)
        if FileManager.default.fileExists(atPath: path) { rename(path, path + ".bak") }
        guard rename(tmp, path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        let dfd = open(dir, O_RDONLY | O_DIRECTORY)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }
}

/// Milliseconds since the epoch.
func nowMs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}
