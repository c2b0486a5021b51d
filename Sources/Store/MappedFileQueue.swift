// MappedFileQueue: the ordered files of one log (the CommitLog, or one ConsumeQueue) in a directory,
// each named by its start offset. Loads and checks them (sizes, no holes), finds the file holding an
// offset, truncates a dirty tail and deletes old files. The file list is behind a Mutex; the files'
// bytes are read without it (MappedFile publishes positions atomically).
import Synchronization
import Glibc

public final class MappedFileQueue: Sendable {
    public let directory: String
    public let fileSizeBytes: Int64
    private let files = Mutex<[MappedFile]>([])

    public init(directory: String, fileSizeBytes: Int64) {
        self.directory = directory
        self.fileSizeBytes = fileSizeBytes
    }

    /// Maps every file of the directory (store.md §3.1): a zero-length last file is deleted; any other
    /// size mismatch, a non-numeric name, or a hole between files is an error naming the file.
    /// Loaded files get wrote = flushed = file size; recovery sets the real tail.
    public func load() throws(StoreError) {
        try makeDirectories(directory)
        var names = listDirectory(directory).filter { !$0.hasPrefix(".") && !$0.hasSuffix(".tmp") }.sorted()
        if let last = names.last, fileSize(directory + "/" + last) == 0 {
            unlink(directory + "/" + last)
            names.removeLast()
        }
        var loaded: [MappedFile] = []
        for name in names {
            guard name.count == 20, let start = Int64(name) else {
                throw StoreError(.corruptFile, "\(directory)/\(name) is not a store file (names are 20-digit offsets)")
            }
            if let prev = loaded.last, prev.startOffset + fileSizeBytes != start {
                let missing = MappedFile.fileName(forOffset: prev.startOffset + fileSizeBytes)
                throw StoreError(.missingSegment,
                                 "\(directory)/\(missing) is missing between \(MappedFile.fileName(forOffset: prev.startOffset)) and \(name): restore it before starting (nothing was changed)")
            }
            let file = try MappedFile.open(path: directory + "/" + name, startOffset: start, sizeBytes: fileSizeBytes)
            file.wrotePosition = fileSizeBytes
            file.flushedPosition = fileSizeBytes
            loaded.append(file)
        }
        files.withLock { $0 = loaded }
    }

    public var mappedFiles: [MappedFile] { files.withLock { $0 } }
    public var first: MappedFile? { files.withLock { $0.first } }
    public var last: MappedFile? { files.withLock { $0.last } }
    public var isEmpty: Bool { files.withLock { $0.isEmpty } }

    /// Offset of the first byte still stored, or 0 with no files... as RocketMQ's getMinOffset: -1 if none.
    public var minOffset: Int64 { files.withLock { $0.first?.startOffset ?? -1 } }

    /// Last file start + its wrote position (0 if there are no files).
    public var maxOffset: Int64 {
        files.withLock { f in f.last.map { $0.startOffset + $0.wrotePosition } ?? 0 }
    }

    public func append(_ file: MappedFile) {
        files.withLock { list in
            precondition(list.last.map { $0.startOffset + fileSizeBytes == file.startOffset } ?? true,
                         "segments must be contiguous")
            list.append(file)
        }
    }

    /// The file holding `offset`, or nil if it is below the first or past the last file.
    public func findMappedFile(offset: Int64) -> MappedFile? {
        files.withLock { list in
            guard let first = list.first, offset >= first.startOffset else { return nil }
            let index = Int((offset - first.startOffset) / fileSizeBytes)
            guard index < list.count else { return nil }
            let f = list[index]
            return offset < f.endOffset ? f : nil
        }
    }

    /// The file after `file`, if any.
    public func next(after file: MappedFile) -> MappedFile? {
        findMappedFile(offset: file.endOffset)
    }

    /// Cuts the log at `offset` (recovery): later files are deleted, the file holding it gets its
    /// positions set to the offset. With `zeroTail` (a unit size) the units left past the cut are zeroed and synced: a
    /// ConsumeQueue's recovery finds its end by the units' content, so units left past a cut would count
    /// again at the next start (and make dispatch skip the records that replaced them). The CommitLog
    /// (1 GiB files) erases only its written bytes, in StoreRecovery.
    public func truncateDirtyFiles(offset: Int64, zeroTail: Int64? = nil) {
        let removed: [MappedFile] = files.withLock { list in
            var keep: [MappedFile] = []
            var drop: [MappedFile] = []
            for f in list {
                if f.startOffset + fileSizeBytes <= offset {
                    keep.append(f)
                } else if f.startOffset <= offset {
                    let pos = offset - f.startOffset
                    if let unit = zeroTail, pos < fileSizeBytes {
                        // Units are written in order, so what a cut leaves behind is one run of non-zero units
                        // from the cut on: zero it up to the first all-zero unit (a clean file costs one check).
                        var end = pos
                        while end + unit <= fileSizeBytes,
                              UnsafeBufferPointer(start: f.base + Int(end), count: Int(unit)).contains(where: { $0 != 0 }) {
                            end += unit
                        }
                        if end > pos {
                            (f.base + Int(pos)).update(repeating: 0, count: Int(end - pos))
                            let page = Int64(sysconf(Int32(_SC_PAGESIZE)))
                            let from = pos - pos % page
                            _ = msync(UnsafeMutableRawPointer(f.base + Int(from)), Int(end - from), MS_SYNC)
                        }
                    }
                    f.wrotePosition = pos
                    f.flushedPosition = pos
                    keep.append(f)
                } else {
                    drop.append(f)
                }
            }
            list = keep
            return drop
        }
        for f in removed { f.destroy() }
        if !removed.isEmpty { syncDirectory(directory) }
    }

    /// Removes the first `count` files from the list and deletes them (retention).
    public func deleteFirst(_ toDelete: [MappedFile]) {
        let ids = Set(toDelete.map { ObjectIdentifier($0) })
        files.withLock { list in list.removeAll { ids.contains(ObjectIdentifier($0)) } }
        for f in toDelete { f.destroy() }
        if !toDelete.isEmpty { syncDirectory(directory) }
    }

    /// Deletes every file (a ConsumeQueue that must be rebuilt).
    public func destroyAll() {
        let all = files.withLock { list -> [MappedFile] in
            let l = list
            list = []
            return l
        }
        for f in all { f.destroy() }
        syncDirectory(directory)
    }
}
