// PullBodyWriter: puts the stored records of a pull result into the response body. Adjacent records form
// runs; when the mean run is at least zeroCopyThresholdBytes (and transferMsgByHeap is false) each run goes
// out as a file region over a duplicated descriptor of its CommitLog segment, which the event loop sends
// with sendfile so the bytes never pass through user space; otherwise one copy into a buffer (one sendfile
// per small run costs more than the copy: docs/BENCHMARKS.md). Records that are not in the page cache
// (mincore) are never handed to sendfile, which would stall the event loop on the disk: they are read
// through the store's io_uring cold-read rings on the pull's task instead. Called by PullMessageProcessor.

import Glibc
import NIOCore
import Remoting
import Store
import Synchronization

enum PullBodyWriter {
    static func attach(_ result: GetMessageResult, to response: inout RemotingCommand, zeroCopy: Bool, thresholdBytes: Int,
                       coldReads: ColdReadService) {
        let total = result.bufferTotalSize
        let allRuns = runs(result)
        let resident = allRuns.allSatisfy { $0.file.isResident(at: $0.start, count: Int($0.end - $0.start)) }
        if resident && zeroCopy && total >= thresholdBytes && total / max(1, allRuns.count) >= thresholdBytes,
           let regions = fileRegions(result) {
            response.fileRegion = regions.regions.first
            response.moreFileRegions = Array(regions.regions.dropFirst())
            response.retainUntilWritten = regions.owner
            return
        }
        var buffer = ByteBufferAllocator().buffer(capacity: total)
        for m in result.messages {
            if resident || m.isResident {
                buffer.writeBytes(m.bytes)
                continue
            }
            // Cold: through io_uring into the body; if the ring read fails, the mapping still has the bytes.
            let read = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: m.size) { out -> Int in
                (try? coldReads.read(m, into: out)) != nil ? m.size : 0
            }
            if read == 0 { buffer.writeBytes(m.bytes) }
        }
        response.body = buffer
    }

    /// Runs of records adjacent in the same segment.
    static func runs(_ result: GetMessageResult) -> [(file: MappedFile, start: Int64, end: Int64)] {
        var runs: [(file: MappedFile, start: Int64, end: Int64)] = []
        for m in result.messages {
            if let last = runs.last, last.file === m.file, last.end == m.filePosition {
                runs[runs.count - 1].end += Int64(m.size)
            } else {
                runs.append((m.file, m.filePosition, m.filePosition + Int64(m.size)))
            }
        }
        return runs
    }

    /// One region per run; nil if a descriptor cannot be duplicated (then the body is copied).
    static func fileRegions(_ result: GetMessageResult) -> (regions: [FileRegion], owner: RegionHandles)? {
        let owner = RegionHandles()
        var handles: [ObjectIdentifier: NIOFileHandle] = [:]
        var regions: [FileRegion] = []
        for run in runs(result) {
            let id = ObjectIdentifier(run.file)
            if handles[id] == nil {
                let fd = dup(run.file.fd)
                guard fd >= 0 else { return nil }
                // NIO marks init(descriptor:) deprecated (use NIOFileSystem), but FileRegion, which sendfile needs,
                // takes only an NIOFileHandle; this is the spelling NIO keeps for that.
                let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: fd)
                owner.add(handle)
                handles[id] = handle
            }
            guard let handle = handles[id] else { return nil }
            regions.append(FileRegion(fileHandle: handle, readerIndex: Int(run.start), endIndex: Int(run.end)))
        }
        return (regions, owner)
    }
}

/// Owns the duplicated descriptors of one response and closes them when released, which the encoder
/// delays until the write completed.
final class RegionHandles: Sendable {
    private let handles = Mutex<[NIOFileHandle]>([])
    func add(_ h: NIOFileHandle) { handles.withLock { $0.append(h) } }
    deinit {
        handles.withLock { list in
            for h in list { try? h.close() }
            list = []
        }
    }
}
