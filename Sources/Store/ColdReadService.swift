// ColdReadService: reads stored bytes that are not in the page cache through io_uring (or pread where
// io_uring is refused) instead of touching the mapping, so the thread serving a pull — and never an event
// loop — waits for the disk through the ring, and sendfile is not handed cold data. A small pool of rings:
// each read takes one, so reads on different threads proceed in parallel; the pool is bounded and a reader
// that finds it empty makes a short-lived ring rather than waiting. Called by the broker's pull path.
import Synchronization

public final class ColdReadService: Sendable {
    private let pool = Mutex<[IORing]>([])
    private let config: MessageStoreConfig
    static let poolRingsMax = 4

    init(config: MessageStoreConfig) {
        self.config = config
    }

    /// Reads the whole range of `r` into `buffer` (which must hold `r.size` bytes).
    public func read(_ r: SelectMappedBufferResult, into buffer: UnsafeMutableRawBufferPointer) throws(StoreError) {
        precondition(buffer.count >= r.size)
        let ring: IORing
        if let pooled = pool.withLock({ $0.popLast() }) {
            ring = pooled
        } else {
            ring = try IORingFactory.make(config)
        }
        defer { pool.withLock { if $0.count < Self.poolRingsMax { $0.append(ring) } } }
        let n = try ring.pread(r.file.fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<r.size]), offset: r.filePosition)
        if n != r.size { throw StoreError(.io, "short read of \(r.size) bytes at \(r.physicalOffset): got \(n)") }
    }

    public func read(_ r: SelectMappedBufferResult) throws(StoreError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: r.size)
        let failure = out.withUnsafeMutableBytes { b -> StoreError? in
            do {
                try read(r, into: b)
                return nil
            } catch let e as StoreError {
                return e
            } catch {
                return StoreError(.io, "\(error)")
            }
        }
        if let failure { throw failure }
        return out
    }
}

enum IORingFactory {
    static func make(_ config: MessageStoreConfig) throws(StoreError) -> IORing {
        do {
            return try IORing(config: config)
        } catch let e as StoreError {
            throw e
        } catch {
            throw StoreError(.io, "\(error)")
        }
    }
}
