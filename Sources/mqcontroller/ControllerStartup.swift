// mqcontroller: starts a controller — arguments, config file (strictly checked), logging, signals. The
// controller keeps no state of its own: every decision lives in etcd (`controllerEtcdEndpoints`), so any
// number of them may run. The executable's only task runs `ControllerStartup.main`.

import ArgumentParser
import Controller
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServerSupport

@main
struct ControllerStartup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mqcontroller", abstract: "Apus controller (RocketMQ controller mode, state in etcd).")

    @Option(name: .shortAndLong, help: "Controller config properties file")
    var configFile: String?

    @Flag(name: [.customShort("p"), .customLong("printConfigItem")], help: "Print all config items and exit")
    var printConfigItem = false

    @Option(name: .customLong("listenPort"), help: "Port to listen on (0 = ephemeral; default 9878)")
    var listenPort: Int?

    @Option(name: .customLong("bindAddress"), help: "Address to bind (default 0.0.0.0)")
    var bindAddress: String?

    @Option(name: .customLong("controllerEtcdEndpoints"), help: "etcd client URLs, comma-separated")
    var etcdEndpoints: String?

    @Option(name: .customLong("logPath"), help: "Log file (also logged to stdout)")
    var logPath: String?

    func buildConfig() throws -> ControllerConfig {
        var config = ControllerConfig()
        var settings: [(key: String, value: String, from: String)] = []
        if let configFile {
            guard let data = FileManager.default.contents(atPath: configFile) else {
                throw ValidationError("cannot read config file \(configFile)")
            }
            for (k, v) in ControllerConfig.parseProperties(String(decoding: data, as: UTF8.self)) {
                settings.append((k, v, "config \(configFile)"))
            }
        }
        if let listenPort { settings.append(("listenPort", String(listenPort), "--listenPort")) }
        if let bindAddress { settings.append(("bindAddress", bindAddress, "--bindAddress")) }
        if let etcdEndpoints { settings.append(("controllerEtcdEndpoints", etcdEndpoints, "--controllerEtcdEndpoints")) }
        if let logPath { settings.append(("logPath", logPath, "--logPath")) }
        var bad: [String] = []
        for s in settings {
            switch config.set(s.key, s.value) {
            case .applied: break
            case .unknownKey:
                // As mqnamesrv: a key of another version (Java's DLedger keys) is reported, not fatal.
                FileHandle.standardError.write(Data("warning: unknown config key \(s.key) (\(s.from))\n".utf8))
            case .badValue: bad.append("bad value \(s.key)=\(s.value) (expected \(ControllerConfig.accepted(for: s.key)); \(s.from))")
            }
        }
        if !bad.isEmpty {
            for line in bad { FileHandle.standardError.write(Data("mqcontroller: \(line)\n".utf8)) }
            FileHandle.standardError.write(Data("mqcontroller: not started\n".utf8))
            throw ExitCode(2)
        }
        return config
    }

    func run() async throws {
        let config = try buildConfig()
        if printConfigItem {
            print(config.propertiesText, terminator: "")
            return
        }
        let sink = LogSink(path: config.logPath)
        LoggingSystem.bootstrap { label in RocketMQLogHandler(sink: sink, label: label) }
        let logger = Logger(label: "apus.controller")
        let stops = StopSignals()

        let descriptors = DescriptorLimit.raiseToHard()
        let maxConnections = descriptors.maxConnections(percent: config.serverMaxConnectionsPercent)
        logger.info("\(descriptors.describe(maxConnections: maxConnections))")

        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let controller = ControllerManager(config: config, group: group, logger: logger, maxConnections: maxConnections)
        let port: Int
        do {
            port = try await controller.start()
        } catch {
            logger.error("The controller failed to start: listenPort=\(config.listenPort), etcd \(config.controllerEtcdEndpoints): \(error)")
            try? await group.shutdownGracefully()
            throw ExitCode.failure
        }
        logger.info("listening on \(config.bindAddress):\(port), state in etcd \(config.controllerEtcdEndpoints) under \(config.keyPrefix)")
        sink.write("The controller listening port=\(port)")
        sink.write("The ControllerManager boot success. serializeType=JSON")

        let sig = await stops.first()
        logger.info("shutdown hook was invoked", metadata: ["signal": "\(sig)"])
        await controller.shutdown()
        try? await group.shutdownGracefully()
        logger.info("The controller stopped")
    }
}
