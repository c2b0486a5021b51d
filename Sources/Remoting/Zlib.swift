// Zlib: zlib-format deflate/inflate (java.util.zip Deflater/Inflater) for compressed RegisterBrokerBody.
// Pure functions over byte arrays; any task.

import CZlib

public enum Zlib {
    /// Compresses with a zlib header, as `new Deflater(level)` does; nil when zlib cannot (out of memory: the
    /// output buffer is sized by compressBound, so nothing else fails).
    public static func deflate(_ input: [UInt8], level: Int32 = 9) -> [UInt8]? {
        var destLength = compressBound(uLong(input.count))
        var out = [UInt8](repeating: 0, count: Int(destLength))
        let rc = out.withUnsafeMutableBufferPointer { o in
            input.withUnsafeBufferPointer { i in
                compress2(o.baseAddress, &destLength, i.baseAddress, uLong(input.count), level)
            }
        }
        guard rc == Z_OK else { return nil }
        out.removeSubrange(Int(destLength)...)
        return out
    }

    /// Inflates a zlib stream, refusing output beyond `outputBytesMax`.
    public static func inflate(_ input: [UInt8], outputBytesMax: Int) throws(RemotingError) -> [UInt8] {
        var stream = z_stream()
        guard inflateInit_(&stream, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .malformedBody("inflateInit failed")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var rc: Int32 = Z_OK
        var input = input
        input.withUnsafeMutableBufferPointer { i in
            stream.next_in = i.baseAddress
            stream.avail_in = uInt(i.count)
            repeat {
                chunk.withUnsafeMutableBufferPointer { c in
                    stream.next_out = c.baseAddress
                    stream.avail_out = uInt(c.count)
                    rc = CZlib.inflate(&stream, Z_NO_FLUSH)
                    let produced = c.count - Int(stream.avail_out)
                    output.append(contentsOf: c[0..<produced])
                }
            } while rc == Z_OK && output.count <= outputBytesMax && (stream.avail_in > 0 || stream.avail_out == 0)
        }
        guard output.count <= outputBytesMax else { throw .malformedBody("inflated body exceeds \(outputBytesMax) bytes") }
        guard rc == Z_STREAM_END else { throw .malformedBody("zlib stream is invalid or truncated (\(rc))") }
        return output
    }

    /// `CRC32(bytes) & 0x7FFFFFFF`, Java `UtilAll.crc32` (spec remoting.md §8.1).
    public static func crc32Masked(_ bytes: [UInt8]) -> Int32 {
        let crc = bytes.withUnsafeBufferPointer { b in CZlib.crc32(0, b.baseAddress, uInt(b.count)) }
        return Int32(truncatingIfNeeded: crc & 0x7FFF_FFFF)
    }
}
