// RemotingFrameDecoder: splits the byte stream into frames and decodes each into a RemotingCommand.
// First handler of every remoting channel pipeline (server and client); runs on the channel's event loop.
// The declared length is checked against the bound before anything is buffered (spec remoting.md §1.1).

import NIOCore

public final class RemotingFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = RemotingCommand

    /// Bound on `4 + frameLength`.
    public let frameBytesMax: Int

    /// The channel's RemotingChannelHandler when installed by RemotingPipeline: decoded commands are handed
    /// to it directly instead of through fireChannelRead, which boxes each one in an NIOAny.
    let sink: RemotingChannelHandler?

    public init(frameBytesMax: Int = RemotingLimits.frameBytesMaxDefault) {
        self.frameBytesMax = frameBytesMax
        self.sink = nil
    }

    init(frameBytesMax: Int, sink: RemotingChannelHandler) {
        self.frameBytesMax = frameBytesMax
        self.sink = sink
    }

    /// Checks a length prefix: the frame it declares must fit the bound and hold the header word.
    public static func checkDeclaredLength(_ frameLength: Int32, frameBytesMax: Int) throws(RemotingError) {
        guard frameLength >= Int32(RemotingLimits.frameLengthMin) else {
            throw .frameTooShort(declaredBytes: Int(frameLength))
        }
        guard 4 + Int(frameLength) <= frameBytesMax else {
            throw .frameTooLarge(declaredBytes: 4 + Int(frameLength), maxBytes: frameBytesMax)
        }
    }

    public func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frameLength = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return .needMoreData }
        try Self.checkDeclaredLength(frameLength, frameBytesMax: frameBytesMax)
        guard buffer.readableBytes >= 4 + Int(frameLength) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        guard let frame = buffer.readSlice(length: Int(frameLength)) else { return .needMoreData }
        let command = try RemotingCommand.decodeFrame(frame)
        if let sink {
            sink.received(command)
        } else {
            context.fireChannelRead(wrapInboundOut(command))
        }
        return .continue
    }

    public func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// Pure, synchronous frame splitter for tests and fuzzing: same checks as the channel decoder.
public struct RemotingFrameParser {
    public let frameBytesMax: Int
    public init(frameBytesMax: Int = RemotingLimits.frameBytesMaxDefault) { self.frameBytesMax = frameBytesMax }

    /// Decodes every whole frame in `buffer`, leaving a partial frame unread. Throws on the first bad frame.
    public func decodeAll(_ buffer: inout ByteBuffer) throws(RemotingError) -> [RemotingCommand] {
        var out: [RemotingCommand] = []
        while let frameLength = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) {
            try RemotingFrameDecoder.checkDeclaredLength(frameLength, frameBytesMax: frameBytesMax)
            guard buffer.readableBytes >= 4 + Int(frameLength) else { break }
            buffer.moveReaderIndex(forwardBy: 4)
            guard let frame = buffer.readSlice(length: Int(frameLength)) else { break }
            out.append(try RemotingCommand.decodeFrame(frame))
        }
        return out
    }
}
