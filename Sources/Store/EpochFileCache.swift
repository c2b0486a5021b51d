// EpochFileCache: controller mode's epoch file (RocketMQ's EpochFileCache over `epochFileCheckpoint`,
// broker.md §12.4): every mastership this broker's CommitLog went through, as (epoch, first CommitLog offset)
// in order. A master appends its epoch when the controller elects it; a replica copies its master's entries
// up to its own CommitLog end. A returning replica compares its entries with its new master's
// (`consistentPoint`) to find the last offset both logs share and truncates past it. The file is text, one
// `epoch startOffset` line per entry, replaced whole (temporary file, fsync, rename, directory fsync).
// Called from the broker's controller-mode jobs and its HA client thread; thread-safe.

import Glibc
import Synchronization

public struct EpochEntry: Sendable, Equatable, CustomStringConvertible {
    public var epoch: Int32
    public var startOffset: Int64
    public init(epoch: Int32, startOffset: Int64) {
        self.epoch = epoch
        self.startOffset = startOffset
    }
    public var description: String { "\(epoch)@\(startOffset)" }
}

public final class EpochFileCache: Sendable {
    public let path: String
    private let entries: Mutex<[EpochEntry]>

    /// Loads `path` (missing: no entries; lines that do not parse are skipped).
    public init(path: String) {
        self.path = path
        var loaded: [EpochEntry] = []
        if let f = fopen(path, "r") {
            defer { fclose(f) }
            var line = [CChar](repeating: 0, count: 128)
            while fgets(&line, Int32(line.count), f) != nil {
                let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
                if parts.count == 2, let e = Int32(parts[0]), let o = Int64(parts[1]) {
                    loaded.append(EpochEntry(epoch: e, startOffset: o))
                }
            }
        }
        entries = Mutex(loaded)
    }

    public var all: [EpochEntry] { entries.withLock { $0 } }
    public var lastEpoch: Int32 { entries.withLock { $0.last?.epoch ?? 0 } }

    /// A new mastership from `startOffset` on: entries of this epoch or later, or starting past the offset,
    /// are dropped first (they belong to a log this one no longer is). Appending the last epoch again is a
    /// no-op (a master restarted under the same epoch).
    public func append(epoch: Int32, startOffset: Int64) throws(StoreError) {
        let list: [EpochEntry]? = entries.withLock { list in
            if let last = list.last, last.epoch == epoch { return nil }
            list.removeAll { $0.epoch >= epoch || $0.startOffset > startOffset }
            list.append(EpochEntry(epoch: epoch, startOffset: startOffset))
            return list
        }
        if let list { try persist(list) }
    }

    /// A replica's copy of its master's entries that start at or before `maxOffset` (its CommitLog end).
    public func replace(with remote: [EpochEntry], upTo maxOffset: Int64) throws(StoreError) {
        let kept = remote.filter { $0.startOffset <= maxOffset }
        let changed = entries.withLock { list -> Bool in
            guard list != kept else { return false }
            list = kept
            return true
        }
        if changed { try persist(kept) }
    }

    /// The last CommitLog offset two logs share, from their epochs (RocketMQ's findConsistentPoint): the
    /// latest entry both have (same epoch, same start) ends, in each log, where its next entry starts or where
    /// that log ends; the smaller end is shared. Nil when they share no entry.
    public static func consistentPoint(local: [EpochEntry], localMaxOffset: Int64,
                                       remote: [EpochEntry], remoteMaxOffset: Int64) -> Int64? {
        for i in stride(from: local.count - 1, through: 0, by: -1) {
            guard let j = remote.firstIndex(of: local[i]) else { continue }
            let localEnd = i + 1 < local.count ? local[i + 1].startOffset : localMaxOffset
            let remoteEnd = j + 1 < remote.count ? remote[j + 1].startOffset : remoteMaxOffset
            return min(localEnd, remoteEnd, localMaxOffset)
        }
        return nil
    }

    private func persist(_ list: [EpochEntry]) throws(StoreError) {
        let text = list.map { "\($0.epoch) \($0.startOffset)\n" }.joined()
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError(.io, "cannot write \(tmp): errno \(errno)") }
        let wrote = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        let synced = fsync(fd)
        close(fd)
        guard wrote == text.utf8.count, synced == 0, rename(tmp, path) == 0 else {
            throw StoreError(.io, "cannot replace \(path): errno \(errno)")
        }
        let slash = path.lastIndex(of: "/")
        let dir = open(slash.map { String(path[..<$0]) } ?? ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 {
            _ = fsync(dir)
            close(dir)
        }
    }
}
