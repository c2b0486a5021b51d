// NamesrvConfig: every setting of the NameServer, with RocketMQ's key names and the table that reads,
// prints and updates them as Java properties text. Built once by `mqnamesrv`; updated through
// UPDATE_NAMESRV_CONFIG by the NamesrvConfigStore actor.

import Common
import Foundation

public struct NamesrvConfig: Sendable, Equatable {
    public var rocketmqHome: String
    /// KV config file (`{"configTable":{ns:{k:v}}}`).
    public var kvConfigPath: String
    /// Where UPDATE_NAMESRV_CONFIG persists the settings.
    public var configStorePath: String
    public var listenPort: Int
    public var bindAddress: String
    public var orderMessageEnable: Bool
    public var returnOrderTopicConfigToBroker: Bool
    /// Liveness scan period (Java 4.x: 10 s).
    public var scanNotActiveBrokerInterval: Int64
    /// A broker that has not registered for this long is removed (Java: 120 s).
    public var brokerChannelExpiredTime: Int64
    public var enableAllTopicList: Bool
    public var enableTopicList: Bool
    public var deleteTopicWithBrokerRegistration: Bool
    /// Bound on `4 + frameLength` of inbound frames (Java `com.rocketmq.remoting.frameMaxLength`).
    public var frameMaxLength: Int
    /// Log file; the log also goes to stdout.
    public var logPath: String
    /// Keys UPDATE_NAMESRV_CONFIG may not change, `;`-separated (Java `configBlackList`).
    public var configBlackList: String
    /// Executors (RocketMQ's NamesrvConfig): route queries from clients on their own, everything else
    /// (broker registration, admin) on the default one. A full queue answers SYSTEM_BUSY [OVERLOAD].
    public var defaultThreadPoolNums = 16
    public var defaultThreadPoolQueueCapacity = 10_000
    public var clientRequestThreadPoolNums = 8
    public var clientRequestThreadPoolQueueCapacity = 50_000
    /// A connection with no read or write for this long is closed (RocketMQ's NettyServerConfig key); 0 never.
    public var serverChannelMaxIdleTimeSeconds = 120
    /// Apus: open connections may use this share of the descriptor limit (DescriptorLimit).
    public var serverMaxConnectionsPercent = 80
    /// Runs a controller inside this NameServer, on its port (`mqnamesrv` reads the controller's keys from
    /// the same file; RocketMQ 5's key).
    public var enableControllerInNamesrv = false

    public init() {
        let home = userHomeDirectory()
        rocketmqHome = ProcessInfo.processInfo.environment["ROCKETMQ_HOME"] ?? ""
        kvConfigPath = home + "/namesrv/kvConfig.json"
        configStorePath = home + "/namesrv/namesrv.properties"
        listenPort = 9876
        bindAddress = "0.0.0.0"
        orderMessageEnable = false
        returnOrderTopicConfigToBroker = true
        scanNotActiveBrokerInterval = 10_000
        brokerChannelExpiredTime = 120_000
        enableAllTopicList = true
        enableTopicList = true
        deleteTopicWithBrokerRegistration = false
        frameMaxLength = 16 * 1024 * 1024
        logPath = home + "/logs/rocketmqlogs/namesrv.log"
        configBlackList = "configBlackList;configStorePath;kvConfigPath"
    }

    /// Every key, in printing order.
    public static let keys: [String] = [
        "rocketmqHome", "kvConfigPath", "configStorePath", "listenPort", "bindAddress", "orderMessageEnable",
        "returnOrderTopicConfigToBroker", "scanNotActiveBrokerInterval", "brokerChannelExpiredTime",
        "enableAllTopicList", "enableTopicList", "deleteTopicWithBrokerRegistration", "frameMaxLength", "logPath",
        "configBlackList", "defaultThreadPoolNums", "defaultThreadPoolQueueCapacity", "clientRequestThreadPoolNums",
        "clientRequestThreadPoolQueueCapacity", "serverChannelMaxIdleTimeSeconds", "serverMaxConnectionsPercent",
        "enableControllerInNamesrv",
    ]

    public func value(of key: String) -> String? {
        switch key {
        case "rocketmqHome": return rocketmqHome
        case "kvConfigPath": return kvConfigPath
        case "configStorePath": return configStorePath
        case "listenPort": return String(listenPort)
        case "bindAddress": return bindAddress
        case "orderMessageEnable": return String(orderMessageEnable)
        case "returnOrderTopicConfigToBroker": return String(returnOrderTopicConfigToBroker)
        case "scanNotActiveBrokerInterval": return String(scanNotActiveBrokerInterval)
        case "brokerChannelExpiredTime": return String(brokerChannelExpiredTime)
        case "enableAllTopicList": return String(enableAllTopicList)
        case "enableTopicList": return String(enableTopicList)
        case "deleteTopicWithBrokerRegistration": return String(deleteTopicWithBrokerRegistration)
        case "frameMaxLength": return String(frameMaxLength)
        case "logPath": return logPath
        case "configBlackList": return configBlackList
        case "defaultThreadPoolNums": return String(defaultThreadPoolNums)
        case "defaultThreadPoolQueueCapacity": return String(defaultThreadPoolQueueCapacity)
        case "clientRequestThreadPoolNums": return String(clientRequestThreadPoolNums)
        case "clientRequestThreadPoolQueueCapacity": return String(clientRequestThreadPoolQueueCapacity)
        case "serverChannelMaxIdleTimeSeconds": return String(serverChannelMaxIdleTimeSeconds)
        case "serverMaxConnectionsPercent": return String(serverMaxConnectionsPercent)
        case "enableControllerInNamesrv": return String(enableControllerInNamesrv)
        default: return nil
        }
    }

    public enum SetResult: Equatable { case applied, unknownKey, badValue }

    /// What `key` accepts, for the message refusing a bad value.
    public static func accepted(for key: String) -> String {
        switch key {
        case "listenPort": return "a port from 0 to 65535"
        case "orderMessageEnable", "returnOrderTopicConfigToBroker", "enableAllTopicList", "enableTopicList",
             "deleteTopicWithBrokerRegistration", "enableControllerInNamesrv": return "true or false"
        case "frameMaxLength": return "a whole number of bytes ≥ 1024"
        case "serverChannelMaxIdleTimeSeconds": return "a whole number ≥ 0"
        case "serverMaxConnectionsPercent": return "a whole number from 1 to 100"
        case "scanNotActiveBrokerInterval", "brokerChannelExpiredTime", "defaultThreadPoolNums", "defaultThreadPoolQueueCapacity",
             "clientRequestThreadPoolNums", "clientRequestThreadPoolQueueCapacity": return "a whole number ≥ 1"
        default: return "any text"
        }
    }

    /// Sets one key from its text; booleans as Java parses them.
    public mutating func set(_ key: String, _ raw: String) -> SetResult {
        let text = raw.trimmingCharacters(in: .whitespaces)
        func bool() -> Bool? {
            switch text.lowercased() {
            case "true": return true
            case "false": return false
            default: return nil
            }
        }
        switch key {
        case "rocketmqHome": rocketmqHome = text
        case "kvConfigPath": kvConfigPath = text
        case "configStorePath": configStorePath = text
        case "listenPort": guard let v = Int(text), (0...65535).contains(v) else { return .badValue }; listenPort = v
        case "bindAddress": bindAddress = text
        case "orderMessageEnable": guard let v = bool() else { return .badValue }; orderMessageEnable = v
        case "returnOrderTopicConfigToBroker": guard let v = bool() else { return .badValue }; returnOrderTopicConfigToBroker = v
        case "scanNotActiveBrokerInterval": guard let v = Int64(text), v > 0 else { return .badValue }; scanNotActiveBrokerInterval = v
        case "brokerChannelExpiredTime": guard let v = Int64(text), v > 0 else { return .badValue }; brokerChannelExpiredTime = v
        case "enableAllTopicList": guard let v = bool() else { return .badValue }; enableAllTopicList = v
        case "enableTopicList": guard let v = bool() else { return .badValue }; enableTopicList = v
        case "deleteTopicWithBrokerRegistration": guard let v = bool() else { return .badValue }; deleteTopicWithBrokerRegistration = v
        case "frameMaxLength": guard let v = Int(text), v >= 1024 else { return .badValue }; frameMaxLength = v
        case "logPath": logPath = text
        case "configBlackList": configBlackList = text
        case "defaultThreadPoolNums": guard let v = Int(text), v > 0 else { return .badValue }; defaultThreadPoolNums = v
        case "defaultThreadPoolQueueCapacity": guard let v = Int(text), v > 0 else { return .badValue }; defaultThreadPoolQueueCapacity = v
        case "clientRequestThreadPoolNums": guard let v = Int(text), v > 0 else { return .badValue }; clientRequestThreadPoolNums = v
        case "clientRequestThreadPoolQueueCapacity": guard let v = Int(text), v > 0 else { return .badValue }; clientRequestThreadPoolQueueCapacity = v
        case "serverChannelMaxIdleTimeSeconds": guard let v = Int(text), v >= 0 else { return .badValue }; serverChannelMaxIdleTimeSeconds = v
        case "serverMaxConnectionsPercent": guard let v = Int(text), (1...100).contains(v) else { return .badValue }; serverMaxConnectionsPercent = v
        case "enableControllerInNamesrv": guard let v = bool() else { return .badValue }; enableControllerInNamesrv = v
        default: return .unknownKey
        }
        return .applied
    }

    /// `key=value` lines (Java properties text, as GET_NAMESRV_CONFIG returns and `-p` prints).
    public var propertiesText: String {
        Self.keys.map { "\($0)=\(value(of: $0) ?? "")" }.joined(separator: "\n") + "\n"
    }

    /// Java properties text in file order (JavaProperties.entries).
    public static func parseProperties(_ text: String) -> [(key: String, value: String)] { JavaProperties.entries(text) }
}
