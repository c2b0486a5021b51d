// RemotingCommandEncoder: writes a RemotingCommand as one frame; a large body buffer and a file region
// follow the header as separate writes so they are not copied. Outbound handler of every remoting
// pipeline; runs on the channel's event loop.

import NIOCore

public final class RemotingCommandEncoder: ChannelOutboundHandler {
    public typealias OutboundIn = RemotingCommand
    public typealias OutboundOut = IOData

    /// Bodies up to this size are copied next to the header (one write); larger ones are written as is.
    static let inlineBodyBytesMax = 4096

    public init() {}

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        do {
            try Self.write(unwrapOutboundIn(data), to: context, promise: promise)
        } catch {
            promise?.fail(error)
        }
    }

    /// Whether `command` is one small buffer once encoded (no file region, a body copied next to the header,
    /// nothing to keep alive until written): such frames can share one buffer with their neighbours.
    static func encodesInline(_ command: RemotingCommand) -> Bool {
        command.fileRegion == nil && command.moreFileRegions.isEmpty && command.retainUntilWritten == nil
            && (command.body?.readableBytes ?? 0) <= inlineBodyBytesMax
    }

    /// Appends the whole frame of an `encodesInline` command to `buffer`. Throws, having appended nothing, if
    /// it cannot be encoded.
    static func append(_ command: RemotingCommand, to buffer: inout ByteBuffer) throws(RemotingError) {
        let start = buffer.writerIndex
        do {
            try command.encodeFrameHeader(into: &buffer, bodyLength: command.body?.readableBytes ?? 0)
        } catch {
            buffer.moveWriterIndex(to: start)
            throw error
        }
        if var body = command.body { buffer.writeBuffer(&body) }
    }

    /// Encodes `command` and writes its parts from `context` toward the head. Throws, having written
    /// nothing, if it cannot be encoded. RemotingChannelHandler calls this directly, so the frames it
    /// writes are never boxed as RemotingCommand in an NIOAny.
    static func write(_ command: RemotingCommand, to context: ChannelHandlerContext, promise: EventLoopPromise<Void>?)
        throws(RemotingError)
    {
        let bodyBufferBytes = command.body?.readableBytes ?? 0
        let regionBytes = (command.fileRegion?.readableBytes ?? 0) + command.moreFileRegions.reduce(0) { $0 + $1.readableBytes }
        var header = context.channel.allocator.buffer(capacity: 192 + min(bodyBufferBytes, Self.inlineBodyBytesMax))
        try command.encodeFrameHeader(into: &header, bodyLength: bodyBufferBytes + regionBytes)
        let inline = bodyBufferBytes <= Self.inlineBodyBytesMax
        if inline, var body = command.body { header.writeBuffer(&body) }
        var promise = promise
        if let owner = command.retainUntilWritten {
            let p = promise ?? context.eventLoop.makePromise(of: Void.self)
            p.futureResult.whenComplete { _ in withExtendedLifetime(owner) {} }
            promise = p
        }
        if inline && command.fileRegion == nil && command.moreFileRegions.isEmpty {
            context.write(NIOAny(IOData.byteBuffer(header)), promise: promise)
            return
        }
        let tail: [IOData] =
            (inline ? [] : command.body.map { [IOData.byteBuffer($0)] } ?? [])
            + (command.fileRegion.map { [IOData.fileRegion($0)] } ?? [])
            + command.moreFileRegions.map { IOData.fileRegion($0) }
        if tail.isEmpty {
            context.write(NIOAny(IOData.byteBuffer(header)), promise: promise)
            return
        }
        context.write(NIOAny(IOData.byteBuffer(header)), promise: nil)
        for (i, part) in tail.enumerated() {
            context.write(NIOAny(part), promise: i == tail.count - 1 ? promise : nil)
        }
    }
}
