// NamesrvController: builds and runs one NameServer — remoting server, processors, route and KV tables,
// the liveness scan, and the housekeeping that drops a broker whose connection closed.
// start/shutdown from the `mqnamesrv` main task (or tests); the scan is a background task it owns.

import Common
import Logging
import NIOCore
import NIOPosix
import Remoting

public final class NamesrvController: Sendable {
    public let config: NamesrvConfig
    public let routes: RouteInfoManager
    public let kv: KVConfigManager
    public let server: RemotingServer
    /// Serves every NameServer code (the server's default processor); an embedded controller hands it
    /// the BROKER_HEARTBEATs it shares with the NameServer.
    public let processor: DefaultRequestProcessor
    private let logger: Logger
    /// The liveness scan; ended (and awaited) first at shutdown.
    private let background = BackgroundTasks(name: "namesrv")
    private let defaultExecutor: RequestExecutor
    private let clientRequestExecutor: RequestExecutor

    /// `maxConnections`: open connections past which new ones are closed at accept (DescriptorLimit).
    public init(config: NamesrvConfig, group: any EventLoopGroup, logger: Logger, maxConnections: Int = .max) {
        self.config = config
        self.logger = logger
        routes = RouteInfoManager(
            brokerChannelExpiredTimeMs: config.brokerChannelExpiredTime,
            deleteTopicWithBrokerRegistration: config.deleteTopicWithBrokerRegistration, logger: logger)
        kv = KVConfigManager(path: config.kvConfigPath, logger: logger)
        server = RemotingServer(
            config: RemotingServerConfig(host: config.bindAddress, port: config.listenPort,
                                         frameBytesMax: config.frameMaxLength, maxConnections: maxConnections,
                                         channelMaxIdleSeconds: config.serverChannelMaxIdleTimeSeconds),
            group: group, logger: logger)
        processor = DefaultRequestProcessor(routes: routes, kv: kv, configStore: NamesrvConfigStore(config, logger: logger),
                                            config: config, logger: logger)
        // As RocketMQ's NamesrvController: client route queries on their own executor, the rest on the default.
        defaultExecutor = RequestExecutor(name: "RemotingExecutorThread", threads: config.defaultThreadPoolNums,
                                          queueCapacity: config.defaultThreadPoolQueueCapacity)
        clientRequestExecutor = RequestExecutor(name: "ClientRequestExecutorThread", threads: config.clientRequestThreadPoolNums,
                                                queueCapacity: config.clientRequestThreadPoolQueueCapacity)
        server.registerDefaultProcessor(processor, on: .executor(defaultExecutor))
        server.registerProcessor(.getRouteInfoByTopic, processor, on: .executor(clientRequestExecutor))
        server.addChannelEventListener(BrokerHousekeepingService(routes: routes))
    }

    /// Loads KV config, binds, starts the liveness scan. Returns the bound port.
    public func start() async throws -> Int {
        await kv.load()
        let address = try await server.start()
        let routes = self.routes
        let intervalMs = config.scanNotActiveBrokerInterval
        background.spawnPeriodic(initialDelay: .milliseconds(intervalMs), every: .milliseconds(intervalMs)) {
            await routes.scanNotActiveBroker()
        }
        return address.port ?? config.listenPort
    }

    public func shutdown() async {
        await background.shutdown()
        await server.shutdown()
        await defaultExecutor.shutdownGracefully()
        await clientRequestExecutor.shutdownGracefully()
    }
}

/// Closed connections: a broker whose channel closed is removed at once (spec broker.md §11.2).
struct BrokerHousekeepingService: RemotingChannelEventListener {
    let routes: RouteInfoManager
    func channelClosed(_ channel: RemotingChannel) async { await routes.onChannelDestroy(channel) }
}
