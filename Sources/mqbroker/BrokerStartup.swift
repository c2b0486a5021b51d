// mqbroker: starts a broker — `-c broker.conf` (Java properties, RocketMQ key names), `-n host:port;…`,
// `-p` prints the effective config; logs to stdout and ~/logs/rocketmqlogs/broker.log; SIGTERM/SIGINT stop
// it gracefully. The executable's only task runs `BrokerStartup.main`; network work runs on NIO loops.

import ArgumentParser
import Broker
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
        let home = FileManager.default.homeDirectoryForCurrentUser.path
        var store = MessageStoreConfig(storePathRootDir: home + "/store")
        if let configFile {
            guard let data = FileManager.default.contents(atPath: configFile) else {
                throw ValidationError("cannot read config file \(configFile)")
            }
            let props = parseJavaProperties(String(decoding: data, as: UTF8.self))
            for (key, value) in props where BrokerConfig.keyNames.contains(key) {
                if broker.set(key, value) == .badValue { throw ValidationError("bad value for \(key): \(value)") }
            }
            let report = store.apply(props, knownElsewhere: BrokerConfig.keyNames)
            if !report.unparsable.isEmpty { throw ValidationError("bad values for \(report.unparsable.joined(separator: ", "))") }
            for key in report.unknownKeys {
                FileHandle.standardError.write(Data("warning: unknown config key \(key) (ignored)\n".utf8))
            }
        }
        if let namesrvAddr { broker.namesrvAddr = namesrvAddr }
        if store.brokerRole != .slave { broker.brokerId = 0 }
        return (broker, store)
    }

    func run() async throws {
        let (brokerConfig, storeConfig) = try buildConfig()
        if printConfigItem {
            for line in brokerConfig.propertiesLines + StoreConfigPrinter.lines(storeConfig) { print(line) }
            return
        }
        let home = FileManager.default.homeDirectoryForCurrentUser.path
        let sink = LogSink(path: home + "/logs/rocketmqlogs/broker.log")
        LoggingSystem.bootstrap { label in RocketMQLogHandler(sink: sink, label: label) }
        let logger = Logger(label: "apus.broker")

        // SIGTERM/SIGINT end the program in order (ServerSupport.StopSignals), not by the default action.
        let stops = StopSignals()

        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(2, System.coreCount))
        let controller: BrokerController
        do {
            controller = try await BrokerController.start(brokerConfig: brokerConfig, storeConfig: storeConfig,
                                                          group: group, logger: logger)
        } catch {
            logger.error("The broker failed to start: \(error)")
            try? await group.shutdownGracefully()
            throw ExitCode.failure
        }
        let c = controller.brokerConfig
        var tip = "The broker[\(c.brokerName), \(c.brokerAddr)] boot success. serializeType=JSON"
        if !c.namesrvAddr.isEmpty { tip += " and name server is \(c.namesrvAddr)" }
        sink.write(tip)

        let sig = await stops.first()
        logger.info("shutdown hook was invoked", metadata: ["signal": "\(sig)"])
        await controller.shutdown()
        try? await group.shutdownGracefully()
        logger.info("The broker[\(c.brokerName), \(c.brokerAddr)] shutdown OK")
    }
}
