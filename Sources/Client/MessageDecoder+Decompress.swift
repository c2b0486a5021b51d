// Pulled records with their bodies decompressed: Common's MessageDecoder reads the records, the client
// undoes the compression the sysFlag names (remoting.md §15; zlib, zstd, lz4) as Java's client does. The
// stored sysFlag is kept so callers see how a record was stored. Pure functions; any task.

import Common

extension MessageDecoder {
    /// Every record of a pull (or check) body; a bad record, or a body that does not decompress, ends
    /// the batch (the rest is dropped, like Java).
    public static func decodeAll(_ bytes: [UInt8], decompress: Bool) -> [MessageExt] {
        var out = decodeAll(bytes)
        guard decompress else { return out }
        for i in out.indices where out[i].sysFlag & CompressionType.compressedFlag != 0 {
            guard let body = try? CompressionType.of(sysFlag: out[i].sysFlag).decompress(out[i].body) else {
                out.removeSubrange(i...)
                break
            }
            out[i].body = body
        }
        return out
    }
}

extension MessageExt {
    /// The compression the record was stored with, if any.
    public var storedCompression: CompressionType? {
        sysFlag & CompressionType.compressedFlag != 0 ? CompressionType.of(sysFlag: sysFlag) : nil
    }
}
