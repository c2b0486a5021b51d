// mqnamesrv: starts a NameServer — arguments, config file, logging, signals — and, with
// `enableControllerInNamesrv=true`, a controller on the same port (EmbeddedController.swift). The
// executable's only task runs `NamesrvStartup.main`; network work happens on the NIO event loops.

import ArgumentParser
import Controller
import Dispatch
import Foundation
import Logging
import ServerSupport
import NIOCore
import NIOPosix
import NameServer

@main
struct NamesrvStartup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mqnamesrv", abstract: "Apus NameServer (RocketMQ remoting protocol).")

    @Option(name: .shortAndLong, help: "Name server config properties file")
    var configFile: String?

    @Flag(name: [.customShort("p"), .customLong("printConfigItem")], help: "Print all config items and exit")
    var printConfigItem = false

    @Option(name: .customLong("listenPort"), help: "Port to listen on (0 = ephemeral; default 9876)")
    var listenPort: Int?

    @Option(name: .customLong("bindAddress"), help: "Address to bind (default 0.0.0.0)")
    var bindAddress: String?

    @Option(name: .customLong("kvConfigPath"), help: "KV config file")
    var kvConfigPath: String?

    @Option(name: .customLong("configStorePath"), help: "Where UPDATE_NAMESRV_CONFIG persists settings")
    var configStorePath: String?

    @Option(name: .customLong("logPath"), help: "Log file (also logged to stdout)")
    var logPath: String?

    @Option(name: .customLong("scanNotActiveBrokerInterval"), help: "Broker liveness scan period, ms (default 10000)")
    var scanNotActiveBrokerInterval: Int64?

    @Option(name: .customLong("brokerChannelExpiredTime"), help: "Broker expiry without registration, ms (default 120000)")
    var brokerChannelExpiredTime: Int64?

    /// The NameServer's settings and the embedded controller's (RocketMQ applies the file to both; a key
    /// either knows is not reported, a bad value for either refuses start-up).
    func buildConfig() throws -> (NamesrvConfig, ControllerConfig) {
        var config = NamesrvConfig()
        var controllerConfig = ControllerConfig()
        if let configFile {
            guard let data = FileManager.default.contents(atPath: configFile) else {
                throw ValidationError("cannot read config file \(configFile)")
            }
            var bad: [String] = []
            for (key, value) in NamesrvConfig.parseProperties(String(decoding: data, as: UTF8.self)) {
                let forNamesrv = config.set(key, value)
                // The NameServer's own server settings are not the controller's: it shares the NameServer's port.
                let forController: ControllerConfig.SetResult = ["listenPort", "bindAddress", "logPath"].contains(key)
                    ? .unknownKey : controllerConfig.set(key, value)
                if forNamesrv == .badValue {
                    bad.append("bad value \(key)=\(value) (expected \(NamesrvConfig.accepted(for: key)))")
                } else if forController == .badValue {
                    bad.append("bad value \(key)=\(value) (expected \(ControllerConfig.accepted(for: key)))")
                } else if forNamesrv == .unknownKey && forController == .unknownKey {
                    FileHandle.standardError.write(Data("warning: unknown config key \(key)\n".utf8))
                }
            }
            if !bad.isEmpty {
                for line in bad { FileHandle.standardError.write(Data("mqnamesrv: \(line)\n".utf8)) }
                FileHandle.standardError.write(Data("mqnamesrv: not started (config \(configFile))\n".utf8))
                throw ExitCode(2)
            }
        }
        if let listenPort { config.listenPort = listenPort }
        if let bindAddress { config.bindAddress = bindAddress }
        if let kvConfigPath { config.kvConfigPath = kvConfigPath }
        if let configStorePath { config.configStorePath = configStorePath }
        if let logPath { config.logPath = logPath }
        if let scanNotActiveBrokerInterval { config.scanNotActiveBrokerInterval = scanNotActiveBrokerInterval }
        if let brokerChannelExpiredTime { config.brokerChannelExpiredTime = brokerChannelExpiredTime }
        // An embedded controller is advertised at the NameServer's address.
        controllerConfig.bindAddress = config.bindAddress
        return (config, controllerConfig)
    }

    func run() async throws {
        let (config, controllerConfig) = try buildConfig()
        if printConfigItem {
            print(config.propertiesText, terminator: "")
            if config.enableControllerInNamesrv { print(controllerConfig.propertiesText, terminator: "") }
            return
        }
        let sink = LogSink(path: config.logPath)
        LoggingSystem.bootstrap { label in RocketMQLogHandler(sink: sink, label: label) }
        let logger = Logger(label: "apus.namesrv")

        // SIGTERM/SIGINT end the program in order (ServerSupport.StopSignals), not by the default action.
        let stops = StopSignals()

        let descriptors = DescriptorLimit.raiseToHard()
        let maxConnections = descriptors.maxConnections(percent: config.serverMaxConnectionsPercent)
        logger.info("\(descriptors.describe(maxConnections: maxConnections))")

        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let controller = NamesrvController(config: config, group: group, logger: logger, maxConnections: maxConnections)
        let port: Int
        do {
            port = try await controller.start()
        } catch {
            logger.error("The Name Server failed to start: listenPort=\(config.listenPort): cannot listen (\(error))")
            try? await group.shutdownGracefully()
            throw ExitCode.failure
        }
        logger.info("listening on \(config.bindAddress):\(port)")
        sink.write("The Name Server listening port=\(port)")
        sink.write("The Name Server boot success. serializeType=JSON")

        var embedded: ControllerManager?
        if config.enableControllerInNamesrv {
            do {
                embedded = try await EmbeddedController.start(controllerConfig, in: controller, group: group, logger: logger)
            } catch {
                logger.error("The embedded controller failed to start: etcd \(controllerConfig.controllerEtcdEndpoints): \(error)")
                await controller.shutdown()
                try? await group.shutdownGracefully()
                throw ExitCode.failure
            }
            sink.write("The ControllerManager boot success. serializeType=JSON")
        }

        let sig = await stops.first()
        logger.info("shutdown hook was invoked", metadata: ["signal": "\(sig)"])
        await embedded?.shutdown()
        await controller.shutdown()
        try? await group.shutdownGracefully()
        logger.info("The Name Server stopped")
    }
}

