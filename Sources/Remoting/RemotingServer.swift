// RemotingServer: accepts remoting connections and dispatches requests by code to registered processors.
// Used by the NameServer and (issue 4) the broker. start/shutdown from any task; channels on NIO loops.

import Logging
import NIOCore
import NIOPosix
import Synchronization

public struct RemotingServerConfig: Sendable {
    public var host: String
    /// 0 asks the kernel for an ephemeral port; read the bound one from `RemotingServer.localPort`.
    public var port: Int
    /// Bound on `4 + frameLength` of inbound frames.
    public var frameBytesMax: Int
    public var backlog: Int32
    /// Outbound bytes queued on a connection above which it counts as unwritable (reading from it pauses),
    /// and below which it is writable again: RocketMQ's writeBufferHighWaterMark / writeBufferLowWaterMark
    /// (Netty's defaults, 64 KiB and 32 KiB).
    public var writeBufferHighWaterMark: Int
    public var writeBufferLowWaterMark: Int
    /// Open connections beyond this are accepted and closed at once, so descriptors stay free for the
    /// server's own files (DescriptorLimit.maxConnections).
    public var maxConnections: Int
    /// A connection that neither reads nor writes for this long is closed (RocketMQ's
    /// serverChannelMaxIdleTimeSeconds, 120); 0 keeps idle connections for ever.
    public var channelMaxIdleSeconds: Int

    public init(
        host: String = "0.0.0.0", port: Int = 0, frameBytesMax: Int = RemotingLimits.frameBytesMaxDefault,
        backlog: Int32 = 1024, writeBufferHighWaterMark: Int = 64 * 1024, writeBufferLowWaterMark: Int = 32 * 1024,
        maxConnections: Int = .max, channelMaxIdleSeconds: Int = 120
    ) {
        self.host = host
        self.port = port
        self.frameBytesMax = frameBytesMax
        self.backlog = backlog
        self.maxConnections = max(1, maxConnections)
        self.channelMaxIdleSeconds = max(0, channelMaxIdleSeconds)
        self.writeBufferHighWaterMark = max(1, writeBufferHighWaterMark)
        self.writeBufferLowWaterMark = max(0, min(writeBufferLowWaterMark, self.writeBufferHighWaterMark))
    }
}

public final class RemotingServer: Sendable {
    public let config: RemotingServerConfig
    public let dispatcher: RemotingDispatcher
    private let group: any EventLoopGroup
    private let logger: Logger
    private let serverChannel = Mutex<(any Channel)?>(nil)
    private let children = ChannelSet()
    private let refusals = ConnectionRefusals()

    public init(config: RemotingServerConfig, group: any EventLoopGroup, logger: Logger) {
        self.config = config
        self.group = group
        self.logger = logger
        self.dispatcher = RemotingDispatcher(logger: logger)
    }

    /// Registers `processor` for `code`, running where `execution` says (default: the dispatcher's executor).
    public func registerProcessor(_ code: RequestCode, _ processor: any RemotingRequestProcessor,
                                  on execution: RequestExecution? = nil) {
        dispatcher.register(code, processor, on: execution)
    }

    public func registerDefaultProcessor(_ processor: any RemotingRequestProcessor, on execution: RequestExecution? = nil) {
        dispatcher.registerDefault(processor, on: execution)
    }

    public func addChannelEventListener(_ listener: any RemotingChannelEventListener) {
        dispatcher.addListener(listener)
    }

    /// Binds and starts accepting; returns the bound address.
    @discardableResult
    public func start() async throws -> SocketAddress {
        let dispatcher = self.dispatcher
        let logger = self.logger
        let frameBytesMax = config.frameBytesMax
        let children = self.children
        let refusals = self.refusals
        let maxConnections = config.maxConnections
        let idle: TimeAmount? = config.channelMaxIdleSeconds > 0 ? .seconds(Int64(config.channelMaxIdleSeconds)) : nil
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: config.backlog)
            // Out of descriptors (EMFILE/ENFILE), accept fails: pause accepting for a second instead of retrying
            // in a loop that spins a core (the async bootstraps add this handler themselves, this one does not).
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptBackoffHandler(shouldForwardIOErrorCaught: false))
                }
            }
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: config.writeBufferLowWaterMark,
                                                                    high: config.writeBufferHighWaterMark))
            .childChannelInitializer { channel in
                let id = ObjectIdentifier(channel)
                let admitted = children.withLock { table -> Bool in
                    guard table.count < maxConnections else { return false }
                    table[id] = channel
                    return true
                }
                // A failed initializer makes NIO close the accepted socket at once.
                guard admitted else {
                    refusals.record(limit: maxConnections, logger: logger)
                    return channel.eventLoop.makeFailedFuture(RemotingError.tooManyConnections(limit: maxConnections))
                }
                channel.closeFuture.whenComplete { _ in _ = children.withLock { $0.removeValue(forKey: id) } }
                return channel.eventLoop.makeCompletedFuture {
                    try RemotingPipeline.install(
                        on: channel, frameBytesMax: frameBytesMax, dispatcher: dispatcher, logger: logger, isServer: true,
                        idleTimeout: idle)
                }
            }
            .bind(host: config.host, port: config.port)
            .get()
        serverChannel.withLock { $0 = channel }
        guard let address = channel.localAddress else { throw RemotingError.badAddress("server has no local address") }
        return address
    }

    /// The bound port, once started.
    public var localPort: Int? { serverChannel.withLock { $0?.localAddress?.port } }

    /// Stops accepting and closes every connection.
    public func shutdown() async {
        let channel = serverChannel.withLock { c in defer { c = nil }; return c }
        try? await channel?.close()
        let open = children.withLock { $0.values }
        for child in open { try? await child.close() }
        await dispatcher.shutdown()
    }
}

/// The open connections of one server.
final class ChannelSet: Sendable {
    private let table = Mutex<[ObjectIdentifier: any Channel]>([:])
    func withLock<R>(_ body: (inout [ObjectIdentifier: any Channel]) -> R) -> R { table.withLock { body(&$0) } }
}

/// Counts connections refused for the connection bound and warns at most every 10 s, so a flood of them
/// cannot flood the log.
final class ConnectionRefusals: Sendable {
    private struct State { var sinceWarning = 0; var lastWarning: ContinuousClock.Instant? }
    private let state = Mutex(State())

    func record(limit: Int, logger: Logger) {
        let now = ContinuousClock.now
        let warn: Int? = state.withLock { s in
            s.sinceWarning += 1
            if let last = s.lastWarning, now - last < .seconds(10) { return nil }
            s.lastWarning = now
            defer { s.sinceWarning = 0 }
            return s.sinceWarning
        }
        if let warn {
            logger.warning("connection refused: \(limit) connections are open, the limit that keeps descriptors for the store (\(warn) refused since the last warning)")
        }
    }
}
