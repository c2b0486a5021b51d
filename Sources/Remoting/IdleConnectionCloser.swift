// IdleConnectionCloser: closes a server connection that neither read nor wrote for its idle time (RocketMQ's
// serverChannelMaxIdleTimeSeconds; Netty's IdleStateHandler(0, 0, maxIdle) there). NIO's IdleStateHandler
// makes a promise and reads the clock on every write, which a broker pays once per message; this one only
// sets a flag per read and per write, and a timer a quarter of the idle time apart counts the quiet ticks,
// so a connection closes between 1 and 1.25 idle times after its last activity. Confined to its channel's
// event loop.

import Logging
import NIOCore

final class IdleConnectionCloser: ChannelDuplexHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny

    private static let ticksPerTimeout = 4
    private let tick: TimeAmount
    private let logger: Logger
    private var touched = false
    private var quietTicks = 0
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount, logger: Logger) {
        self.tick = .nanoseconds(max(1, timeout.nanoseconds / Int64(Self.ticksPerTimeout)))
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if timer == nil { arm(context) }
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        touched = true
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        touched = true
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: tick) {
            let (handler, context) = loopBound.value
            handler.check(context)
        }
    }

    private func check(_ context: ChannelHandlerContext) {
        timer = nil
        guard context.channel.isActive else { return }
        if touched {
            touched = false
            quietTicks = 0
        } else {
            quietTicks += 1
            if quietTicks >= Self.ticksPerTimeout {
                logger.info("closing idle connection", metadata: ["remote": "\(context.channel.remoteAddress.map { "\($0)" } ?? "?")"])
                context.close(promise: nil)
                return
            }
        }
        arm(context)
    }
}
