// RemotingChannel: one remoting connection as processors and clients see it — write a response (now or
// later), invoke the peer (request/response or one-way), close. Sendable; callable from any task.

import NIOCore

public struct RemotingChannel: Sendable, Hashable, CustomStringConvertible {
    public let channel: any Channel
    let handler: NIOLoopBound<RemotingChannelHandler>
    /// Where answers written from other threads wait for the event loop.
    let outbox: ResponseOutbox
    /// `ip:port` of the peer ("unknown" if the socket has none).
    public let remoteAddress: String
    /// The peer's socket address, read once (Channel.remoteAddress takes a lock on every call).
    public let remoteSocketAddress: SocketAddress?

    init(channel: any Channel, handler: NIOLoopBound<RemotingChannelHandler>) {
        self.channel = channel
        self.handler = handler
        self.outbox = ResponseOutbox(eventLoop: channel.eventLoop, handler: handler)
        self.remoteSocketAddress = channel.remoteAddress
        self.remoteAddress = remoteSocketAddress.map(RemotingAddress.text(of:)) ?? "unknown"
    }

    public static func == (a: RemotingChannel, b: RemotingChannel) -> Bool { a.channel === b.channel }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(channel)) }
    public var description: String { "RemotingChannel(\(remoteAddress))" }
    public var isActive: Bool { channel.isActive }

    /// Writes `response` as the answer to `request`: same opaque and serialisation, response flag set.
    /// Nothing is written for a one-way request.
    public func writeResponse(_ response: RemotingCommand, to request: RemotingCommand) {
        guard !request.isOneway else { return }
        var r = response
        r.opaque = request.opaque
        r.flag |= RemotingCommand.responseFlagBit
        r.serializeType = request.serializeType
        if channel.eventLoop.inEventLoop {
            // Answered while its read is being handled: the handler flushes once per read batch.
            handler.value.writeResponse(r)
        } else {
            outbox.post(r)
        }
    }

    /// Sends a request and waits for its response, failing with `.timeout` after `timeoutMs`.
    public func invoke(_ request: RemotingCommand, timeoutMs: Int64 = RemotingLimits.invokeTimeoutMsDefault)
        async throws -> RemotingCommand
    {
        try await invokeFuture(request, timeoutMs: timeoutMs).get()
    }

    /// As `invoke`, as a future completed on the channel's event loop.
    public func invokeFuture(_ request: RemotingCommand, timeoutMs: Int64 = RemotingLimits.invokeTimeoutMsDefault)
        -> EventLoopFuture<RemotingCommand>
    {
        let loop = channel.eventLoop
        let promise = loop.makePromise(of: RemotingCommand.self)
        var r = request
        r.flag &= ~RemotingCommand.responseFlagBit
        r.flag &= ~RemotingCommand.onewayFlagBit
        let command = r
        let handler = self.handler
        if loop.inEventLoop {
            handler.value.startCall(command, promise: promise, timeoutMs: timeoutMs)
        } else {
            loop.execute { handler.value.startCall(command, promise: promise, timeoutMs: timeoutMs) }
        }
        return promise.futureResult
    }

    /// Sends a one-way request (flag bit 1); completes once written.
    public func invokeOneway(_ request: RemotingCommand) async throws {
        var r = request
        r.flag |= RemotingCommand.onewayFlagBit
        r.flag &= ~RemotingCommand.responseFlagBit
        try await channel.writeAndFlush(r)
    }

    /// Sends a one-way request without waiting for the write (callable from any thread, no task needed).
    public func sendOneway(_ request: RemotingCommand) {
        var r = request
        r.flag |= RemotingCommand.onewayFlagBit
        r.flag &= ~RemotingCommand.responseFlagBit
        channel.writeAndFlush(r, promise: nil)
    }

    public func close() { channel.close(promise: nil) }

    /// Whether the channel's outbound buffer is below its high water mark (RemotingServerConfig).
    public var isWritable: Bool { channel.isWritable }

    /// Runs `body` on the channel's event loop once the channel is writable again (at once if it is);
    /// never if the channel closes first. For answers that would otherwise pile up for a peer that stopped
    /// reading (pulls, long-poll answers).
    public func whenWritable(_ body: @escaping @Sendable () -> Void) {
        let handler = self.handler
        if channel.eventLoop.inEventLoop {
            handler.value.whenWritable(body)
        } else {
            channel.eventLoop.execute { handler.value.whenWritable(body) }
        }
    }
}

/// Address text helpers: Java writes `host:port`, IPv6 hosts without brackets (§7.5).
public enum RemotingAddress {
    public static func text(of address: SocketAddress) -> String {
        "\(address.ipAddress ?? "unknown"):\(address.port ?? 0)"
    }

    /// Splits `host:port` at the last colon.
    public static func split(_ text: String) throws(RemotingError) -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { throw .badAddress(text) }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw .badAddress(text) }
        return (host, port)
    }
}
