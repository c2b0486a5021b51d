// mqbroker: starts a broker — `-c broker.conf` (Java properties, RocketMQ key names), `-n host:port;…`,
// `-p` prints the effective config; logs to stdout and ~/logs/rocketmqlogs/broker.log; SIGTERM/SIGINT stop
// it gracefully. The executable's only task runs `BrokerStartup.main`; network work runs on NIO loops.

import ArgumentParser
import Broker
import BrokerGrpc
import Common
import Dispatch
import Foundation
import Logging
import ServerSupport
import NIOCore
import NIOPosix
import Store

@main
struct BrokerStartup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mqbroker", abstract: "Apus broker (RocketMQ remoting protocol and store format).")

    @Option(name: .shortAndLong, help: "Broker config properties file")
    var configFile: String?

    @Option(name: .shortAndLong, help: "Name server address list, eg: '192.168.0.1:9876;192.168.0.2:9876'")
    var namesrvAddr: String?

    @Flag(name: [.customShort("p"), .customLong("printConfigItem")], help: "Print all config items and exit")
    var printConfigItem = false

    func buildConfig() throws -> (BrokerConfig, MessageStoreConfig) {
        var broker = BrokerConfig()
        let home = userHomeDirectory()
        var store = MessageStoreConfig(storePathRootDir: home + "/store")
        if let configFile {
            guard let data = FileManager.default.contents(atPath: configFile) else {
                throw ValidationError("cannot read config file \(configFile)")
            }
            let props = parseJavaProperties(String(decoding: data, as: UTF8.self))
            var bad: [String] = []
            for (key, value) in props.sorted(by: { $0.key < $1.key }) where BrokerConfig.keyNames.contains(key) {
                if broker.set(key, value) == .badValue {
                    bad.append("\(key)=\(value) (expected \(BrokerConfig.accepted(for: key) ?? "another value"))")
                }
            }
            let report = store.apply(props, knownElsewhere: BrokerConfig.keyNames)
            bad += report.unparsable
            if !bad.isEmpty { throw StartupRefused(problems: bad.map { "bad value \($0)" }) }
            // RocketMQ ignores keys it does not know; so do we, aloud (the sample files carry 5.x-only keys).
            for key in report.unknownKeys {
                FileHandle.standardError.write(Data("warning: unknown config key \(key) (ignored)\n".utf8))
            }
        }
        if let namesrvAddr {
            guard namesrvAddr.isEmpty || broker.set("namesrvAddr", namesrvAddr) == .applied else {
                throw StartupRefused(problems: ["bad value -n \(namesrvAddr) (expected \(BrokerConfig.accepted(for: "namesrvAddr") ?? ""))"])
            }
        }
        // RocketMQ: a master is always brokerId 0 (a SLAVE with 0 is refused below).
        if store.brokerRole != .slave { broker.brokerId = 0 }
        return (broker, store)
    }

    /// Start-up refused: each problem names the key, its value and what is accepted; nothing was written.
    struct StartupRefused: Error, CustomStringConvertible {
        let problems: [String]
        var description: String { problems.joined(separator: "\n") }
    }

    func run() async throws {
        let brokerConfig: BrokerConfig, storeConfig: MessageStoreConfig
        do {
            (brokerConfig, storeConfig) = try buildConfig()
            if !printConfigItem {
                let problems = BrokerStartupCheck.problems(broker: brokerConfig, store: storeConfig)
                if !problems.isEmpty { throw StartupRefused(problems: problems) }
            }
        } catch let refused as StartupRefused {
            for line in refused.problems { FileHandle.standardError.write(Data("mqbroker: \(line)\n".utf8)) }
            FileHandle.standardError.write(Data("mqbroker: not started (config \(configFile ?? "defaults"))\n".utf8))
            throw ExitCode(2)
        }
        if printConfigItem {
            for line in brokerConfig.propertiesLines + StoreConfigPrinter.lines(storeConfig) { print(line) }
            return
        }
        let home = userHomeDirectory()
        let sink = LogSink(path: home + "/logs/rocketmqlogs/broker.log")
        LoggingSystem.bootstrap { label in RocketMQLogHandler(sink: sink, label: label) }
        let logger = Logger(label: "apus.broker")

        // SIGTERM/SIGINT end the program in order (ServerSupport.StopSignals), not by the default action.
        let stops = StopSignals()

        let descriptors = DescriptorLimit.raiseToHard()
        let maxConnections = descriptors.maxConnections(percent: Int(brokerConfig.serverMaxConnectionsPercent))
        logger.info("\(descriptors.describe(maxConnections: maxConnections))")

        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(2, System.coreCount))
        let controller: BrokerController
        do {
            controller = try await BrokerController.start(brokerConfig: brokerConfig, storeConfig: storeConfig,
                                                          group: group, logger: logger, maxConnections: maxConnections)
        } catch {
            logger.error("The broker failed to start: \(error)")
            try? await group.shutdownGracefully()
            throw ExitCode.failure
        }
        // The gRPC endpoint for RocketMQ 5.x clients (enableGrpcServer, grpcServerPort): a port that cannot be
        // bound stops the broker, as a taken listenPort does.
        var grpc: GrpcMessagingServer?
        if brokerConfig.enableGrpcServer {
            do {
                grpc = try await GrpcMessagingServer.start(broker: controller, port: brokerConfig.effectiveGrpcPort, logger: logger)
            } catch {
                logger.error("The broker failed to start: \(error)")
                await controller.shutdown()
                try? await group.shutdownGracefully()
                throw ExitCode.failure
            }
        }
        let c = controller.brokerConfig
        var tip = "The broker[\(c.brokerName), \(c.brokerAddr)] boot success. serializeType=JSON"
        if !c.namesrvAddr.isEmpty { tip += " and name server is \(c.namesrvAddr)" }
        sink.write(tip)
        if let grpc { sink.write("The broker[\(c.brokerName), \(c.brokerAddr)] gRPC endpoint for RocketMQ 5.x clients on port \(grpc.port)") }

        let sig = await stops.first()
        logger.info("shutdown hook was invoked", metadata: ["signal": "\(sig)"])
        await grpc?.shutdown()
        await controller.shutdown()
        try? await group.shutdownGracefully()
        logger.info("The broker[\(c.brokerName), \(c.brokerAddr)] shutdown OK")
    }
}
