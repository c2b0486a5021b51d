// ROCKETMQ binary header serialisation (type 1) of RemotingCommand (spec remoting.md §4).
// Runs on the event loop per frame; every length is checked against the bytes present.

import NIOCore

extension RemotingCommand {
    /// Writes the binary header. Empty strings cannot travel in this form (Java reads length 0 as null, §4.1),
    /// so empty keys/values are skipped like nulls; an empty remark is written as "no remark".
    public func writeBinaryHeader(into buffer: inout ByteBuffer) throws(RemotingError) {
        guard let code16 = Int16(exactly: code) else { throw .notEncodable("code \(code) needs more than 16 bits") }
        let version16 = Int16(clamping: version)
        // The fixed 13 bytes in one capacity check (five ByteBuffer integer writes cost several times more;
        // this runs for every frame).
        let language = language.rawValue, opaque = opaque, flag = flag
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 13) { out in
            guard let p = out.baseAddress else { return 0 }
            p.storeBytes(of: UInt16(bitPattern: code16).bigEndian, toByteOffset: 0, as: UInt16.self)
            p.storeBytes(of: language, toByteOffset: 2, as: UInt8.self)
            p.storeBytes(of: UInt16(bitPattern: version16).bigEndian, toByteOffset: 3, as: UInt16.self)
            p.storeBytes(of: UInt32(bitPattern: opaque).bigEndian, toByteOffset: 5, as: UInt32.self)
            p.storeBytes(of: UInt32(bitPattern: flag).bigEndian, toByteOffset: 9, as: UInt32.self)
            return 13
        }
        if let remark, !remark.isEmpty {
            let lengthIndex = buffer.writerIndex
            buffer.writeInteger(Int32(0))
            let n = buffer.writeString(remark)
            buffer.setInteger(Int32(n), at: lengthIndex)
        } else {
            buffer.writeInteger(Int32(0))
        }
        let mapLengthIndex = buffer.writerIndex
        buffer.writeInteger(Int32(0))
        let mapBytes: Int
        switch headerFields {
        case .none: mapBytes = 0
        case .map(let fields): mapBytes = Self.writeBinaryExtFields(fields, into: &buffer)
        case .typed(let header): mapBytes = header.writeBinaryExtFields(into: &buffer)
        case .binary(let section):
            // Rare (a received command sent on): through the dictionary, so a repeated key keeps only its last
            // value, as when the header was decoded eagerly.
            mapBytes = Self.writeBinaryExtFields(section.dictionary, into: &buffer)
        }
        buffer.setInteger(Int32(mapBytes), at: mapLengthIndex)
    }

    /// Writes `fields` as binary map entries, skipping empty keys and values; returns the bytes written.
    static func writeBinaryExtFields(_ fields: [String: String], into buffer: inout ByteBuffer) -> Int {
        var mapBytes = 0
        for (key, value) in fields {
            guard !key.isEmpty, !value.isEmpty, key.utf8.count <= Int16.max else { continue }
            buffer.writeInteger(Int16(key.utf8.count))
            buffer.writeString(key)
            buffer.writeInteger(Int32(value.utf8.count))
            buffer.writeString(value)
            mapBytes += 2 + key.utf8.count + 4 + value.utf8.count
        }
        return mapBytes
    }

    /// Parses a binary header of exactly `bytes.count` bytes.
    public static func readBinaryHeader(_ bytes: UnsafeRawBufferPointer) throws(RemotingError) -> RemotingCommand {
        try readBinaryHeader(ByteBuffer(bytes: bytes))
    }

    /// Parses a binary header of exactly `header.readableBytes` bytes; extFields stay in `header`'s storage,
    /// read in place (BinaryExtFields).
    public static func readBinaryHeader(_ header: ByteBuffer) throws(RemotingError) -> RemotingCommand {
        let (command, mapStart, mapLength) = try header.withUnsafeReadableBytes {
            bytes throws(RemotingError) -> (RemotingCommand, Int, Int) in
            var r = BinaryReader(bytes: bytes)
            let code = try r.int16()
            let language = try r.uint8()
            let version = try r.int16()
            let opaque = try r.int32()
            let flag = try r.int32()
            let remarkLength = try r.int32()
            let remark = remarkLength == 0 ? nil : try r.string(count: Int(remarkLength), what: "remark")
            let mapLength = try r.int32()
            guard mapLength >= 0, Int(mapLength) <= r.remaining else {
                throw .malformedHeader("extFields section of \(mapLength) bytes exceeds the header")
            }
            let rest = r.remaining - Int(mapLength)
            guard rest == 0 else { throw .malformedHeader("\(rest) bytes after the extFields section") }
            let command = RemotingCommand(
                code: Int32(code), language: LanguageCode(rawValue: language), version: Int32(version), opaque: opaque,
                flag: flag, remark: remark, extFields: nil, body: nil, serializeType: .rocketmq)
            return (command, r.index, Int(mapLength))
        }
        var result = command
        if mapLength > 0,
           let section = header.getSlice(at: header.readerIndex + mapStart, length: mapLength) {
            result.headerFields = .binary(try BinaryExtFields(validating: section))
        }
        return result
    }
}

/// Bounds-checked big-endian reads over borrowed bytes.
struct BinaryReader {
    let bytes: UnsafeRawBufferPointer
    var index = 0
    var remaining: Int { bytes.count - index }

    private mutating func take(_ n: Int) throws(RemotingError) -> UnsafeRawBufferPointer {
        guard n >= 0, n <= remaining else { throw .malformedHeader("header truncated at byte \(index)") }
        defer { index += n }
        return UnsafeRawBufferPointer(rebasing: bytes[index..<(index + n)])
    }
    mutating func uint8() throws(RemotingError) -> UInt8 { try take(1)[0] }
    mutating func int16() throws(RemotingError) -> Int16 {
        let b = try take(2)
        return Int16(bitPattern: UInt16(b[0]) << 8 | UInt16(b[1]))
    }
    mutating func int32() throws(RemotingError) -> Int32 {
        let b = try take(4)
        return Int32(bitPattern: UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3]))
    }
    mutating func skip(_ count: Int, what: String) throws(RemotingError) {
        guard count >= 0, count <= remaining else { throw .malformedHeader("\(what) length \(count) exceeds the header") }
        index += count
    }
    mutating func string(count: Int, what: String, limit: Int? = nil) throws(RemotingError) -> String {
        let end = limit ?? bytes.count
        guard count >= 0, index + count <= end else {
            throw .malformedHeader("\(what) length \(count) exceeds the header")
        }
        return String(decoding: try take(count), as: UTF8.self)
    }
}
