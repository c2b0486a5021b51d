// Frame layout of RemotingCommand: length prefix, header word, header, body (spec remoting.md §1).
// Pure functions used by the channel codecs on the event loop, by tests and by the fuzz harness.

import NIOCore

extension RemotingCommand {
    /// Header word: serialise type in bits 31..24, header length in bits 23..0 (§1.1).
    @inline(__always)
    static func headerWord(type: SerializeType, headerLength: Int) -> UInt32 {
        UInt32(type.rawValue) << 24 | UInt32(headerLength & RemotingLimits.headerBytesMax)
    }

    /// Writes the length prefix, header word and header; returns the index of the prefix so the caller can
    /// patch it. `bodyLength` counts every body byte that follows (buffer and file region).
    public func encodeFrameHeader(into buffer: inout ByteBuffer, bodyLength: Int) throws(RemotingError) {
        let start = buffer.writerIndex
        buffer.writeInteger(UInt32(0))
        buffer.writeInteger(UInt32(0))
        let headerStart = buffer.writerIndex
        switch serializeType {
        case .json: writeJSONHeader(into: &buffer)
        case .rocketmq: try writeBinaryHeader(into: &buffer)
        }
        let headerLength = buffer.writerIndex - headerStart
        guard headerLength <= RemotingLimits.headerBytesMax else {
            buffer.moveWriterIndex(to: start)
            throw .notEncodable("header of \(headerLength) bytes")
        }
        buffer.setInteger(UInt32(4 + headerLength + bodyLength), at: start)
        buffer.setInteger(Self.headerWord(type: serializeType, headerLength: headerLength), at: start + 4)
    }

    /// The whole frame (prefix, header, body buffer) in one buffer. A `fileRegion` is not included.
    public func encodeFrame(allocator: ByteBufferAllocator = ByteBufferAllocator()) throws(RemotingError) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 256 + (body?.readableBytes ?? 0))
        try encodeFrameHeader(into: &buffer, bodyLength: body?.readableBytes ?? 0)
        if var body { buffer.writeBuffer(&body) }
        return buffer
    }

    /// Decodes one frame *without* its 4-byte length prefix: header word, header, body.
    /// The body is a slice of `frame` (no copy).
    public static func decodeFrame(_ frame: ByteBuffer) throws(RemotingError) -> RemotingCommand {
        var frame = frame
        guard let word = frame.readInteger(as: UInt32.self) else {
            throw .frameTooShort(declaredBytes: frame.readableBytes)
        }
        let typeByte = UInt8(truncatingIfNeeded: word >> 24)
        let headerLength = Int(word & UInt32(RemotingLimits.headerBytesMax))
        guard let type = SerializeType(rawValue: typeByte) else { throw .badSerializeType(typeByte) }
        guard headerLength <= frame.readableBytes else {
            throw .headerLongerThanFrame(headerBytes: headerLength, frameBytes: frame.readableBytes + 4)
        }
        var command: RemotingCommand
        guard let headerSlice = frame.readSlice(length: headerLength) else {
            throw .headerLongerThanFrame(headerBytes: headerLength, frameBytes: frame.readableBytes + 4)
        }
        switch type {
        case .json: command = try headerSlice.withUnsafeReadableBytes { bytes throws(RemotingError) in try readJSONHeader(bytes) }
        case .rocketmq: command = try readBinaryHeader(headerSlice)
        }
        command.serializeType = type
        command.body = frame.readableBytes > 0 ? frame.readSlice(length: frame.readableBytes) : nil
        return command
    }
}
