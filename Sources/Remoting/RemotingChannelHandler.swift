// RemotingChannelHandler: the last handler of every remoting pipeline. Matches inbound responses to
// pending calls by opaque, hands inbound requests to the dispatcher, times calls out, and closes the
// connection (logged) on a malformed frame. Confined to its channel's event loop.

import Logging
import NIOCore

final class RemotingChannelHandler: ChannelInboundHandler {
    typealias InboundIn = RemotingCommand
    typealias OutboundOut = RemotingCommand

    private struct PendingCall {
        let promise: EventLoopPromise<RemotingCommand>
        let timeout: Scheduled<Void>
    }

    private let dispatcher: RemotingDispatcher
    private let logger: Logger
    private var pending: [Int32: PendingCall] = [:]
    private var context: ChannelHandlerContext?
    private var remoting: RemotingChannel?

    init(dispatcher: RemotingDispatcher, logger: Logger) {
        self.dispatcher = dispatcher
        self.logger = logger
    }

    /// The Sendable face of this channel; valid from `handlerAdded` on.
    func remotingChannel(for channel: any Channel) -> RemotingChannel {
        if let remoting { return remoting }
        let r = RemotingChannel(channel: channel, handler: NIOLoopBound(self, eventLoop: channel.eventLoop))
        remoting = r
        return r
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        _ = remotingChannel(for: context.channel)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        failAll(.channelClosed)
    }

    func channelActive(context: ChannelHandlerContext) {
        let r = remotingChannel(for: context.channel)
        dispatcher.channelConnected(r)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(.channelClosed)
        dispatcher.channelClosed(remotingChannel(for: context.channel))
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let command = unwrapInboundIn(data)
        if command.isResponse {
            guard let call = pending.removeValue(forKey: command.opaque) else {
                logger.debug("response to unknown opaque dropped", metadata: ["opaque": "\(command.opaque)"])
                return
            }
            call.timeout.cancel()
            call.promise.succeed(command)
        } else {
            dispatcher.dispatch(command, channel: remotingChannel(for: context.channel))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.warning(
            "closing connection after a bad frame",
            metadata: ["remote": "\(remoting?.remoteAddress ?? "?")", "error": "\(error)"])
        context.close(promise: nil)
    }

    /// Registers the call and writes the request. On the event loop.
    func startCall(_ request: RemotingCommand, promise: EventLoopPromise<RemotingCommand>, timeoutMs: Int64) {
        guard let context, context.channel.isActive else {
            promise.fail(RemotingError.channelClosed)
            return
        }
        guard pending.count < RemotingLimits.pendingRequestsPerChannelMax else {
            promise.fail(RemotingError.tooManyPendingRequests)
            return
        }
        let opaque = request.opaque
        if let clash = pending.removeValue(forKey: opaque) {  // a reused opaque: the older call cannot be matched
            clash.timeout.cancel()
            clash.promise.fail(RemotingError.timeout(opaque: opaque, timeoutMs: 0))
        }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let timeout = context.eventLoop.scheduleTask(in: .milliseconds(timeoutMs)) {
            loopBound.value.expire(opaque: opaque, timeoutMs: timeoutMs)
        }
        pending[opaque] = PendingCall(promise: promise, timeout: timeout)
        context.writeAndFlush(wrapOutboundOut(request)).whenFailure { error in
            loopBound.value.fail(opaque: opaque, error: error)
        }
    }

    private func expire(opaque: Int32, timeoutMs: Int64) {
        pending.removeValue(forKey: opaque)?.promise.fail(RemotingError.timeout(opaque: opaque, timeoutMs: timeoutMs))
    }

    private func fail(opaque: Int32, error: any Error) {
        guard let call = pending.removeValue(forKey: opaque) else { return }
        call.timeout.cancel()
        call.promise.fail(error)
    }

    private func failAll(_ error: RemotingError) {
        let calls = pending
        pending = [:]
        for call in calls.values {
            call.timeout.cancel()
            call.promise.fail(error)
        }
    }
}

/// Installs the remoting handlers on a fresh channel. On the channel's event loop.
enum RemotingPipeline {
    static func install(on channel: any Channel, frameBytesMax: Int, dispatcher: RemotingDispatcher, logger: Logger)
        throws
    {
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(ByteToMessageHandler(RemotingFrameDecoder(frameBytesMax: frameBytesMax)))
        try sync.addHandler(RemotingCommandEncoder())
        try sync.addHandler(RemotingChannelHandler(dispatcher: dispatcher, logger: logger))
    }
}
