// PullBodyWriter: puts the stored records of a pull result into the response body — one copy into a buffer
// for bodies under the zero-copy threshold (or with transferMsgByHeap=true), else file regions over
// duplicated descriptors of the CommitLog segments, which the event loop sends with sendfile so the bytes
// never pass through user space. Adjacent records become one region. Called by PullMessageProcessor.

import Glibc
import NIOCore
import Remoting
import Store
import Synchronization

enum PullBodyWriter {
    static func attach(_ result: GetMessageResult, to response: inout RemotingCommand, zeroCopy: Bool, thresholdBytes: Int) {
        let total = result.bufferTotalSize
        if zeroCopy && total >= thresholdBytes, let regions = fileRegions(result) {
            response.fileRegion = regions.regions.first
            response.moreFileRegions = Array(regions.regions.dropFirst())
            response.retainUntilWritten = regions.owner
            return
        }
        var buffer = ByteBufferAllocator().buffer(capacity: total)
        for m in result.messages { buffer.writeBytes(m.bytes) }
        response.body = buffer
    }

    /// One region per run of adjacent records; nil if a descriptor cannot be duplicated (then the body is copied).
    static func fileRegions(_ result: GetMessageResult) -> (regions: [FileRegion], owner: RegionHandles)? {
        let owner = RegionHandles()
        var handles: [ObjectIdentifier: NIOFileHandle] = [:]
        var runs: [(file: MappedFile, start: Int64, end: Int64)] = []
        for m in result.messages {
            if let last = runs.last, last.file === m.file, last.end == m.filePosition {
                runs[runs.count - 1].end += Int64(m.size)
            } else {
                runs.append((m.file, m.filePosition, m.filePosition + Int64(m.size)))
            }
        }
        var regions: [FileRegion] = []
        for run in runs {
            let id = ObjectIdentifier(run.file)
            if handles[id] == nil {
                let fd = dup(run.file.fd)
                guard fd >= 0 else { return nil }
                let handle = NIOFileHandle(descriptor: fd)
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
