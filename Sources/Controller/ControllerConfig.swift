// ControllerConfig: every setting of `mqcontroller`, RocketMQ's ControllerConfig names where they apply
// plus the etcd keys of Apus, with the one table that reads, validates, prints and parses them as Java
// properties. Built once by `mqcontroller`; immutable afterwards (GET_CONTROLLER_CONFIG prints it).

import Common
import Foundation

public struct ControllerConfig: Sendable, Equatable {
    public var rocketmqHome: String
    public var listenPort: Int
    public var bindAddress: String
    /// Address peers, brokers and tools reach this controller at (`ip:port` is formed with the bound port);
    /// empty = `bindAddress` unless it is 0.0.0.0, else the first non-loopback IPv4.
    public var controllerAdvertiseIP: String
    /// This controller's id among its peers (`#Peer` lines); empty = its advertised `ip:port`.
    public var controllerSelfId: String
    /// The group of controllers sharing one state: `#ControllerGroup`, and part of the etcd key prefix.
    public var controllerGroup: String
    /// etcd client URLs, comma-separated (`http://127.0.0.1:2379`); tried in order until one answers.
    public var controllerEtcdEndpoints: String
    /// Keys live under `<controllerEtcdPrefix>/<controllerGroup>/`.
    public var controllerEtcdPrefix: String
    /// TTL of this controller's etcd lease (membership and leadership); kept alive every third of it.
    public var controllerEtcdLeaseTtlSeconds: Int
    /// Per etcd request (connect + answer).
    public var controllerEtcdRequestTimeoutMills: Int64
    /// How often the leader looks for broker sets whose master stopped heartbeating (Java 5 s).
    public var scanNotActiveBrokerInterval: Int64
    /// Heartbeat timeout for a broker whose BROKER_HEARTBEAT names none (Java broker default 10 s).
    public var controllerHeartBeatTimeoutMills: Int64
    /// Elect from every replica when none of the SyncStateSet is alive (may lose messages).
    public var enableElectUncleanMaster: Bool
    /// Attempts of one decision when another controller changed the same broker set first.
    public var electMasterMaxRetryCount: Int
    public var controllerThreadPoolNums: Int
    public var controllerRequestThreadPoolQueueCapacity: Int
    public var logPath: String
    public var configBlackList: String
    /// A connection with no read or write for this long is closed; 0 never.
    public var serverChannelMaxIdleTimeSeconds: Int
    /// Apus: open connections may use this share of the descriptor limit (DescriptorLimit).
    public var serverMaxConnectionsPercent: Int

    public init() {
        let home = userHomeDirectory()
        rocketmqHome = ProcessInfo.processInfo.environment["ROCKETMQ_HOME"] ?? ""
        listenPort = 9878
        bindAddress = "0.0.0.0"
        controllerAdvertiseIP = ""
        controllerSelfId = ""
        controllerGroup = "DefaultControllerGroup"
        controllerEtcdEndpoints = "http://127.0.0.1:2379"
        controllerEtcdPrefix = "/apus/controller"
        controllerEtcdLeaseTtlSeconds = 3
        controllerEtcdRequestTimeoutMills = 3000
        scanNotActiveBrokerInterval = 5000
        controllerHeartBeatTimeoutMills = 10_000
        enableElectUncleanMaster = false
        electMasterMaxRetryCount = 3
        controllerThreadPoolNums = 16
        controllerRequestThreadPoolQueueCapacity = 50_000
        logPath = home + "/logs/rocketmqlogs/controller.log"
        configBlackList = "configBlackList;configStorePath"
        serverChannelMaxIdleTimeSeconds = 120
        serverMaxConnectionsPercent = 80
    }

    /// The etcd URLs as given, trimmed.
    public var etcdEndpoints: [String] {
        controllerEtcdEndpoints.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The IP this controller is advertised at.
    public var advertiseIP: String {
        if !controllerAdvertiseIP.isEmpty { return controllerAdvertiseIP }
        if bindAddress != "0.0.0.0" { return bindAddress }
        return MessageClientIDSetter.localIPv4Bytes().map { String($0) }.joined(separator: ".")
    }

    /// The key prefix of this group, ending in `/`.
    public var keyPrefix: String {
        var p = controllerEtcdPrefix
        while p.hasSuffix("/") { p.removeLast() }
        return p + "/" + controllerGroup + "/"
    }

    private struct Key: Sendable {
        let name: String
        let accepts: String
        let get: @Sendable (ControllerConfig) -> String
        let set: @Sendable (inout ControllerConfig, String) -> Bool
    }

    private static func text(_ name: String, _ kp: WritableKeyPath<ControllerConfig, String> & Sendable) -> Key {
        Key(name: name, accepts: "any text", get: { $0[keyPath: kp] }, set: { c, v in c[keyPath: kp] = v; return true })
    }
    private static func int(_ name: String, _ kp: WritableKeyPath<ControllerConfig, Int> & Sendable,
                            _ range: ClosedRange<Int>, _ accepts: String) -> Key {
        Key(name: name, accepts: accepts, get: { String($0[keyPath: kp]) }, set: { c, v in
            guard let n = Int(v), range.contains(n) else { return false }
            c[keyPath: kp] = n
            return true
        })
    }
    private static func long(_ name: String, _ kp: WritableKeyPath<ControllerConfig, Int64> & Sendable) -> Key {
        Key(name: name, accepts: "a whole number of milliseconds ≥ 1", get: { String($0[keyPath: kp]) }, set: { c, v in
            guard let n = Int64(v), n >= 1 else { return false }
            c[keyPath: kp] = n
            return true
        })
    }
    private static func bool(_ name: String, _ kp: WritableKeyPath<ControllerConfig, Bool> & Sendable) -> Key {
        Key(name: name, accepts: "true or false", get: { String($0[keyPath: kp]) }, set: { c, v in
            switch v.lowercased() {
            case "true": c[keyPath: kp] = true
            case "false": c[keyPath: kp] = false
            default: return false
            }
            return true
        })
    }

    /// Every key, in printing order.
    private static let table: [Key] = [
        text("rocketmqHome", \.rocketmqHome),
        int("listenPort", \.listenPort, 0...65535, "a port from 0 to 65535"),
        text("bindAddress", \.bindAddress),
        text("controllerAdvertiseIP", \.controllerAdvertiseIP),
        text("controllerSelfId", \.controllerSelfId),
        Key(name: "controllerGroup", accepts: "a name of letters, digits, '-', '_' or '.'", get: { $0.controllerGroup },
            set: { c, v in
                guard !v.isEmpty, v.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else { return false }
                c.controllerGroup = v
                return true
            }),
        Key(name: "controllerEtcdEndpoints", accepts: "comma-separated http:// URLs", get: { $0.controllerEtcdEndpoints },
            set: { c, v in
                let urls = v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                guard !urls.isEmpty, urls.allSatisfy({ EtcdEndpoint(url: $0) != nil }) else { return false }
                c.controllerEtcdEndpoints = v
                return true
            }),
        Key(name: "controllerEtcdPrefix", accepts: "a path starting with '/'", get: { $0.controllerEtcdPrefix },
            set: { c, v in
                guard v.hasPrefix("/") else { return false }
                c.controllerEtcdPrefix = v
                return true
            }),
        int("controllerEtcdLeaseTtlSeconds", \.controllerEtcdLeaseTtlSeconds, 2...3600, "a whole number of seconds from 2 to 3600"),
        long("controllerEtcdRequestTimeoutMills", \.controllerEtcdRequestTimeoutMills),
        long("scanNotActiveBrokerInterval", \.scanNotActiveBrokerInterval),
        long("controllerHeartBeatTimeoutMills", \.controllerHeartBeatTimeoutMills),
        bool("enableElectUncleanMaster", \.enableElectUncleanMaster),
        int("electMasterMaxRetryCount", \.electMasterMaxRetryCount, 1...100, "a whole number from 1 to 100"),
        int("controllerThreadPoolNums", \.controllerThreadPoolNums, 1...1024, "a whole number from 1 to 1024"),
        int("controllerRequestThreadPoolQueueCapacity", \.controllerRequestThreadPoolQueueCapacity, 1...Int(Int32.max),
            "a whole number ≥ 1"),
        text("logPath", \.logPath),
        text("configBlackList", \.configBlackList),
        int("serverChannelMaxIdleTimeSeconds", \.serverChannelMaxIdleTimeSeconds, 0...Int(Int32.max), "a whole number ≥ 0"),
        int("serverMaxConnectionsPercent", \.serverMaxConnectionsPercent, 1...100, "a whole number from 1 to 100"),
    ]

    public static var keys: [String] { table.map(\.name) }

    public func value(of key: String) -> String? { Self.table.first { $0.name == key }?.get(self) }

    public enum SetResult: Equatable { case applied, unknownKey, badValue }

    /// What `key` accepts, for the message refusing a bad value.
    public static func accepted(for key: String) -> String { table.first { $0.name == key }?.accepts ?? "nothing (unknown key)" }

    /// Sets one key from its text (trimmed); booleans strictly `true`/`false`.
    public mutating func set(_ key: String, _ raw: String) -> SetResult {
        guard let k = Self.table.first(where: { $0.name == key }) else { return .unknownKey }
        return k.set(&self, raw.trimmingCharacters(in: .whitespaces)) ? .applied : .badValue
    }

    /// `key=value` lines (Java properties text, as GET_CONTROLLER_CONFIG returns and `-p` prints).
    public var propertiesText: String {
        Self.table.map { "\($0.name)=\($0.get(self))" }.joined(separator: "\n") + "\n"
    }

    /// Java properties text in file order (JavaProperties.entries).
    public static func parseProperties(_ text: String) -> [(key: String, value: String)] { JavaProperties.entries(text) }
}
