// RemotingChannelHandler: the last handler of every remoting pipeline. Matches inbound responses to
// pending calls by opaque, hands inbound requests to the dispatcher, times calls out, and closes the
// connection (logged) on a malformed frame. Confined to its channel's event loop.
// Timeouts: each call keeps its deadline and one sweep timer per channel, armed while calls are pending,
// expires the overdue ones (RocketMQ's scanResponseTable, but on time): a timer per call cost a heap
// insert and a cancel on every request.

import Logging
import NIOCore

final class RemotingChannelHandler: ChannelInboundHandler {
    typealias InboundIn = RemotingCommand
    /// Frames are encoded here (RemotingCommandEncoder.write), not by the encoder handler, which sits
    /// behind this one and serves writes made on the channel itself.
    typealias OutboundOut = IOData

    private struct PendingCall {
        let promise: EventLoopPromise<RemotingCommand>
        let deadline: NIODeadline
        let timeoutMs: Int64
    }

    private let dispatcher: RemotingDispatcher
    private let logger: Logger
    private var pending: [Int32: PendingCall] = [:]
    /// The armed sweep and when it fires (nil while no call is pending or the sweep is running).
    private var sweep: (task: Scheduled<Void>, at: NIODeadline)?
    private var context: ChannelHandlerContext?
    private var remoting: RemotingChannel?
    /// Between the first channelRead of a read batch and channelReadComplete: responses written now are
    /// flushed together at channelReadComplete (one write system call for many answers).
    private var readInProgress = false
    private var flushPending = false
    /// Frames written since the last flush while a read batch was in progress.
    private var unflushed = 0
    /// Small frames of the current flush group, encoded back to back: one buffer, one pipeline write and one
    /// entry in the socket's pending writes per group instead of one per answer.
    private var grouped: ByteBuffer?
    /// Work waiting for the channel to drain below its low water mark (pulls to a peer that stopped
    /// reading). Bounded: reading stops while the channel is unwritable, so no new requests arrive.
    private var writabilityWaiters: [@Sendable () -> Void] = []

    /// Server side only (RocketMQ's NettyRemotingServer does this, its client does not): a client that
    /// stopped reading is not read from. A client pausing too could deadlock with a broker doing the same
    /// on the one connection a producer and a consumer share.
    private let pauseReadingWhenUnwritable: Bool

    init(dispatcher: RemotingDispatcher, logger: Logger, pauseReadingWhenUnwritable: Bool) {
        self.dispatcher = dispatcher
        self.logger = logger
        self.pauseReadingWhenUnwritable = pauseReadingWhenUnwritable
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
        // RemotingChannel holds this handler: dropping it here breaks the cycle that kept every closed
        // connection's handler, channel and buffers alive.
        remoting = nil
        writabilityWaiters = []
        grouped = nil
        failAll(.channelClosed)
    }

    func channelActive(context: ChannelHandlerContext) {
        let r = remotingChannel(for: context.channel)
        dispatcher.channelConnected(r)
        context.fireChannelActive()
    }

    /// A peer that does not read its socket: stop reading its requests (RocketMQ 5 turns autoRead off) so
    /// the answers we owe it cannot grow; resume and run the waiting work once it drained.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let writable = context.channel.isWritable
        if pauseReadingWhenUnwritable {
            context.channel.setOption(ChannelOptions.autoRead, value: writable).whenFailure { _ in }
        }
        if writable {
            let waiting = writabilityWaiters
            writabilityWaiters = []
            for w in waiting { w() }
        } else {
            logger.debug("channel not writable: reading paused", metadata: ["remote": "\(remoting?.remoteAddress ?? "?")"])
        }
        context.fireChannelWritabilityChanged()
    }

    /// Runs `body` on the event loop once the channel is writable (at once if it is). Dropped if it closes.
    func whenWritable(_ body: @escaping @Sendable () -> Void) {
        guard let context else { return }
        if context.channel.isWritable { body() } else { writabilityWaiters.append(body) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        writabilityWaiters = []
        failAll(.channelClosed)
        dispatcher.channelClosed(remotingChannel(for: context.channel))
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received(unwrapInboundIn(data))
    }

    /// A decoded command: a response completes its call, a request goes to the dispatcher. Called by the
    /// frame decoder directly (RemotingPipeline), or through channelRead.
    func received(_ command: RemotingCommand) {
        guard let context else { return }
        readInProgress = true
        if command.isResponse {
            guard let call = pending.removeValue(forKey: command.opaque) else {
                logger.debug("response to unknown opaque dropped", metadata: ["opaque": "\(command.opaque)"])
                return
            }
            call.promise.succeed(command)
        } else {
            dispatcher.dispatch(command, channel: remotingChannel(for: context.channel))
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        readInProgress = false
        if flushPending {
            flushPending = false
            unflushed = 0
            writeGrouped(context: context)
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    /// Writes a frame on the event loop. Outside a read batch it is flushed at once. Inside one (answers to
    /// the requests just read; the next requests a client sends from its completions) it is flushed with
    /// the next few, at most `RemotingLimits.framesPerFlush` per system call, or at channelReadComplete.
    /// Holding everything until channelReadComplete made client and broker take turns with the whole
    /// window (a third less throughput, half the CPU idle); small groups keep both sides busy.
    /// Small frames of one group share a buffer (`grouped`); a frame that cannot share one goes out after it,
    /// so frames leave in the order they were written.
    private func write(_ frame: RemotingCommand, context: ChannelHandlerContext) throws(RemotingError) {
        guard readInProgress else {
            writeGrouped(context: context)
            try RemotingCommandEncoder.write(frame, to: context, promise: nil)
            context.flush()
            return
        }
        if RemotingCommandEncoder.encodesInline(frame) {
            var buffer: ByteBuffer
            if let pending = grouped {
                buffer = pending
                grouped = nil  // the only reference left is `buffer`: appending does not copy
            } else {
                buffer = context.channel.allocator.buffer(capacity: RemotingLimits.groupedWriteBytesInitial)
            }
            defer { grouped = buffer }
            try RemotingCommandEncoder.append(frame, to: &buffer)
        } else {
            writeGrouped(context: context)
            try RemotingCommandEncoder.write(frame, to: context, promise: nil)
        }
        unflushed += 1
        if unflushed >= RemotingLimits.framesPerFlush {
            unflushed = 0
            flushPending = false
            writeGrouped(context: context)
            context.flush()
        } else {
            flushPending = true
        }
    }

    /// Hands the grouped frames, if any, to the pipeline (not flushed).
    private func writeGrouped(context: ChannelHandlerContext) {
        guard let buffer = grouped else { return }
        grouped = nil
        if buffer.readableBytes > 0 { context.write(NIOAny(IOData.byteBuffer(buffer)), promise: nil) }
    }

    /// Writes answers that were gathered off the event loop (ResponseOutbox), grouped and flushed as the
    /// answers of one read batch are.
    func writeResponses(_ responses: [RemotingCommand]) {
        guard let context else { return }
        let wasReading = readInProgress
        readInProgress = true
        for r in responses { writeResponse(r) }
        readInProgress = wasReading
        if !wasReading && flushPending {
            flushPending = false
            unflushed = 0
            writeGrouped(context: context)
            context.flush()
        }
    }

    /// Writes a response on the event loop (see `write`).
    func writeResponse(_ response: RemotingCommand) {
        guard let context else { return }
        do {
            try write(response, context: context)
        } catch {
            logger.warning("response not sent", metadata: ["opaque": "\(response.opaque)", "error": "\(error)"])
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A decoding error is the peer's bad bytes; anything else is the connection itself (a reset peer).
        logger.warning(
            error is RemotingError ? "closing connection after a bad frame" : "closing connection after an I/O error",
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
            clash.promise.fail(RemotingError.timeout(opaque: opaque, timeoutMs: 0))
        }
        let deadline = NIODeadline.now() + .milliseconds(timeoutMs)
        pending[opaque] = PendingCall(promise: promise, deadline: deadline, timeoutMs: timeoutMs)
        armSweep(at: deadline, context: context)
        // No write promise per request: a frame that cannot be encoded fails here, and a failed socket
        // write closes the channel, which fails every pending call (channelInactive).
        do {
            try write(request, context: context)
        } catch {
            fail(opaque: opaque, error: error)
        }
    }

    /// Makes sure a sweep runs no later than `deadline`.
    private func armSweep(at deadline: NIODeadline, context: ChannelHandlerContext) {
        if let sweep {
            if sweep.at <= deadline { return }
            sweep.task.cancel()
        }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        sweep = (context.eventLoop.scheduleTask(deadline: deadline) { loopBound.value.runSweep() }, deadline)
    }

    /// Fails every overdue call, then re-arms for the earliest deadline left.
    private func runSweep() {
        sweep = nil
        let now = NIODeadline.now()
        var next: NIODeadline?
        for (opaque, call) in pending {
            if call.deadline <= now {
                pending.removeValue(forKey: opaque)
                call.promise.fail(RemotingError.timeout(opaque: opaque, timeoutMs: call.timeoutMs))
            } else if next.map({ call.deadline < $0 }) ?? true {
                next = call.deadline
            }
        }
        if let next, let context { armSweep(at: next, context: context) }
    }

    private func fail(opaque: Int32, error: any Error) {
        guard let call = pending.removeValue(forKey: opaque) else { return }
        call.promise.fail(error)
    }

    private func failAll(_ error: RemotingError) {
        let calls = pending
        pending = [:]
        sweep?.task.cancel()
        sweep = nil
        for call in calls.values {
            call.promise.fail(error)
        }
    }
}

/// Installs the remoting handlers on a fresh channel. On the channel's event loop.
enum RemotingPipeline {
    static func install(on channel: any Channel, frameBytesMax: Int, dispatcher: RemotingDispatcher, logger: Logger,
                        isServer: Bool, idleTimeout: TimeAmount? = nil) throws
    {
        let sync = channel.pipeline.syncOperations
        // First, so it sees every read and every write (RocketMQ's IdleStateHandler(0, 0, maxIdle)).
        if let idleTimeout { try sync.addHandler(IdleConnectionCloser(timeout: idleTimeout, logger: logger)) }
        let handler = RemotingChannelHandler(dispatcher: dispatcher, logger: logger, pauseReadingWhenUnwritable: isServer)
        try sync.addHandler(ByteToMessageHandler(RemotingFrameDecoder(frameBytesMax: frameBytesMax, sink: handler)))
        try sync.addHandler(handler)
        // Last, so only writes made on the channel (from other threads) pass through it.
        try sync.addHandler(RemotingCommandEncoder())
    }
}
