// CompressionType: body compression of the sysFlag bits 8–10 (spec remoting.md §15, client.md §6.7) —
// zlib (java.util.zip Deflater format), zstd frame, LZ4 frame. Pure functions; any task.

import CLz4
import CZstd
import Remoting

public enum CompressionType: Int32, Sendable {
    case lz4 = 1
    case zstd = 2
    case zlib = 3

    /// sysFlag bit 0 (compressed) and bits 8–10 (type).
    static let compressedFlag: Int32 = 0x1
    static let typeMask: Int32 = 0x700

    var sysFlagBits: Int32 { Self.compressedFlag | (rawValue << 8) }

    /// The algorithm a stored sysFlag names; type 0 with the compressed bit is old zlib data.
    static func of(sysFlag: Int32) -> CompressionType {
        CompressionType(rawValue: (sysFlag & typeMask) >> 8) ?? .zlib
    }

    /// The compressed bytes, or nil when the library failed (out of memory): the caller sends them plain.
    func compress(_ input: [UInt8], level: Int32) -> [UInt8]? {
        switch self {
        case .zlib: return Zlib.deflate(input, level: level)
        case .zstd:
            var out = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
            let n = out.withUnsafeMutableBytes { o in
                input.withUnsafeBytes { i in ZSTD_compress(o.baseAddress, o.count, i.baseAddress, i.count, level) }
            }
            guard ZSTD_isError(n) == 0 else { return Zlib.deflate(input, level: level) }
            out.removeSubrange(n...)
            return out
        case .lz4:
            var prefs = LZ4F_preferences_t()
            prefs.compressionLevel = level
            var out = [UInt8](repeating: 0, count: LZ4F_compressFrameBound(input.count, &prefs))
            let n = out.withUnsafeMutableBytes { o in
                input.withUnsafeBytes { i in LZ4F_compressFrame(o.baseAddress, o.count, i.baseAddress, i.count, &prefs) }
            }
            guard LZ4F_isError(n) == 0 else { return nil }
            out.removeSubrange(n...)
            return out
        }
    }

    func decompress(_ input: [UInt8], outputBytesMax: Int = 64 * 1024 * 1024) throws(MQClientError) -> [UInt8] {
        switch self {
        case .zlib:
            do { return try Zlib.inflate(input, outputBytesMax: outputBytesMax) } catch {
                throw .illegalArgument("zlib body: \(error)")
            }
        case .zstd: return try Self.zstdDecompress(input, outputBytesMax: outputBytesMax)
        case .lz4: return try Self.lz4Decompress(input, outputBytesMax: outputBytesMax)
        }
    }

    private static func zstdDecompress(_ input: [UInt8], outputBytesMax: Int) throws(MQClientError) -> [UInt8] {
        guard let ds = ZSTD_createDStream() else { throw .illegalState("ZSTD_createDStream failed") }
        defer { ZSTD_freeDStream(ds) }
        ZSTD_initDStream(ds)
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 128 * 1024)
        var failed = false
        var finished = false
        input.withUnsafeBytes { i in
            var inBuf = ZSTD_inBuffer(src: i.baseAddress, size: i.count, pos: 0)
            while !failed && output.count <= outputBytesMax {
                var produced = 0
                var rc = 0
                chunk.withUnsafeMutableBytes { c in
                    var outBuf = ZSTD_outBuffer(dst: c.baseAddress, size: c.count, pos: 0)
                    rc = ZSTD_decompressStream(ds, &outBuf, &inBuf)
                    produced = outBuf.pos
                }
                if ZSTD_isError(rc) != 0 { failed = true; break }
                output.append(contentsOf: chunk[0..<produced])
                if rc == 0 { finished = true }
                if inBuf.pos >= inBuf.size && produced < chunk.count { break }
            }
        }
        guard !failed, finished, output.count <= outputBytesMax else { throw .illegalArgument("zstd body is invalid or truncated") }
        return output
    }

    private static func lz4Decompress(_ input: [UInt8], outputBytesMax: Int) throws(MQClientError) -> [UInt8] {
        var dctx: OpaquePointer?
        guard LZ4F_isError(LZ4F_createDecompressionContext(&dctx, UInt32(LZ4F_VERSION))) == 0, let dctx else {
            throw .illegalState("LZ4F_createDecompressionContext failed")
        }
        defer { LZ4F_freeDecompressionContext(dctx) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 128 * 1024)
        var failed = false
        var done = false
        input.withUnsafeBytes { i in
            var pos = 0
            while !failed && !done && output.count <= outputBytesMax {
                var srcSize = i.count - pos
                var dstSize = chunk.count
                let rc = chunk.withUnsafeMutableBytes { c in
                    LZ4F_decompress(dctx, c.baseAddress, &dstSize, i.baseAddress.map { $0 + pos }, &srcSize, nil)
                }
                if LZ4F_isError(rc) != 0 { failed = true; break }
                pos += srcSize
                output.append(contentsOf: chunk[0..<dstSize])
                if rc == 0 { done = true }
                if pos >= i.count && dstSize == 0 { break }
            }
        }
        guard !failed, done, output.count <= outputBytesMax else { throw .illegalArgument("lz4 body is invalid or truncated") }
        return output
    }
}
