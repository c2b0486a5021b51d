// RemotingClient: one connection per address (reconnected when closed), request/response with per-call
// timeouts, one-way sends, and processors for requests the other side initiates (broker -> client).
// Used by brokers (to NameServers) and clients; all methods from any task.

import Logging
import NIOCore
import NIOPosix
import Synchronization

public struct RemotingClientConfig: Sendable {
    public var connectTimeoutMs: Int64
    public var frameBytesMax: Int
    public init(
        connectTimeoutMs: Int64 = RemotingLimits.connectTimeoutMsDefault,
        frameBytesMax: Int = RemotingLimits.frameBytesMaxDefault
    ) {
        self.connectTimeoutMs = connectTimeoutMs
        self.frameBytesMax = frameBytesMax
    }
}

public final class RemotingClient: Sendable {
    public let config: RemotingClientConfig
    /// Processors for requests the server sends to this client.
    public let dispatcher: RemotingDispatcher
    private let group: any EventLoopGroup
    private let logger: Logger
    private let connections = ConnectionTable()

    public init(config: RemotingClientConfig = .init(), group: any EventLoopGroup, logger: Logger) {
        self.config = config
        self.group = group
        self.logger = logger
        self.dispatcher = RemotingDispatcher(logger: logger)
    }

    /// Registers `processor` for requests the server sends, running where `execution` says (default: the
    /// dispatcher's executor, RocketMQ's client publicExecutor).
    public func registerProcessor(_ code: RequestCode, _ processor: any RemotingRequestProcessor,
                                  on execution: RequestExecution? = nil) {
        dispatcher.register(code, processor, on: execution)
    }

    public func addChannelEventListener(_ listener: any RemotingChannelEventListener) {
        dispatcher.addListener(listener)
    }

    /// The connection to `address`, opening (or reopening) it when needed.
    public func channel(to address: String) async throws -> RemotingChannel {
        try await channelFuture(to: address).get()
    }

    func channelFuture(to address: String) -> EventLoopFuture<RemotingChannel> {
        let (future, isNew) = connections.withLock { table -> (EventLoopFuture<RemotingChannel>, Bool) in
            if let entry = table[address] {
                switch entry {
                case .connecting(let f): return (f, false)
                case .connected(let c) where c.isActive: return (c.channel.eventLoop.makeSucceededFuture(c), false)
                case .connected: break  // closed: reconnect
                }
            }
            let f = connect(address)
            table[address] = .connecting(f)
            return (f, true)
        }
        if isNew {
            let connections = self.connections
            future.whenComplete { result in
                connections.withLock { table in
                    guard case .connecting(let f)? = table[address], f === future else { return }
                    switch result {
                    case .success(let c): table[address] = .connected(c)
                    case .failure: table[address] = nil
                    }
                }
            }
        }
        return future
    }

    private func connect(_ address: String) -> EventLoopFuture<RemotingChannel> {
        let loop = group.next()
        let host: String
        let port: Int
        do {
            (host, port) = try RemotingAddress.split(address)
        } catch {
            return loop.makeFailedFuture(error)
        }
        let dispatcher = self.dispatcher
        let logger = self.logger
        let frameBytesMax = config.frameBytesMax
        let addressText = address
        return ClientBootstrap(group: loop)
            .connectTimeout(.milliseconds(config.connectTimeoutMs))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try RemotingPipeline.install(
                        on: channel, frameBytesMax: frameBytesMax, dispatcher: dispatcher, logger: logger, isServer: false)
                }
            }
            .connect(host: host, port: port)
            .flatMapErrorThrowing { error in
                throw RemotingError.connectFailed(address: addressText, reason: "\(error)")
            }
            .flatMapThrowing { channel in
                let handler = try channel.pipeline.syncOperations.handler(type: RemotingChannelHandler.self)
                return handler.remotingChannel(for: channel)
            }
    }

    /// Request/response with a per-call timeout.
    public func invokeSync(
        _ address: String, _ request: RemotingCommand, timeoutMs: Int64 = RemotingLimits.invokeTimeoutMsDefault
    ) async throws -> RemotingCommand {
        let channel = try await channel(to: address)
        return try await channel.invoke(request, timeoutMs: timeoutMs)
    }

    /// Request/response as a future; no task per call (for many requests in flight).
    public func invokeAsync(
        _ address: String, _ request: RemotingCommand, timeoutMs: Int64 = RemotingLimits.invokeTimeoutMsDefault
    ) -> EventLoopFuture<RemotingCommand> {
        // The common case, a live connection, skips the intermediate future.
        if let channel = connectedChannel(address) { return channel.invokeFuture(request, timeoutMs: timeoutMs) }
        return channelFuture(to: address).flatMap { $0.invokeFuture(request, timeoutMs: timeoutMs) }
    }

    /// The open connection to `address`, if there is one.
    private func connectedChannel(_ address: String) -> RemotingChannel? {
        connections.withLock { table in
            if case .connected(let c)? = table[address], c.isActive { return c }
            return nil
        }
    }

    /// One-way send: completes once written; the peer answers nothing.
    public func invokeOneway(_ address: String, _ request: RemotingCommand) async throws {
        let channel = try await channel(to: address)
        try await channel.invokeOneway(request)
    }

    /// Closes the connection to `address`, if any.
    public func closeChannel(to address: String) {
        let entry = connections.withLock { $0.removeValue(forKey: address) }
        switch entry {
        case .connecting(let f)?: f.whenSuccess { $0.close() }
        case .connected(let c)?: c.close()
        case nil: break
        }
    }

    /// Closes every connection.
    public func shutdown() async {
        let all = connections.withLock { table in defer { table = [:] }; return Array(table.values) }
        for entry in all {
            switch entry {
            case .connecting(let f): if let c = try? await f.get() { try? await c.channel.close() }
            case .connected(let c): try? await c.channel.close()
            }
        }
        await dispatcher.shutdown()
    }
}

/// Connections of one client by address.
final class ConnectionTable: Sendable {
    enum Entry {
        case connecting(EventLoopFuture<RemotingChannel>)
        case connected(RemotingChannel)
    }
    private let table = Mutex<[String: Entry]>([:])
    func withLock<R>(_ body: (inout [String: Entry]) -> R) -> R { table.withLock { body(&$0) } }
}
