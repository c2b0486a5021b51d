// ClientConfig: settings shared by producers and consumers (client.md §2): name servers, instance name,
// periods, header serialisation (ROCKETMQ binary by default, JSON selectable), language OTHER.
// A value type copied into each MQClientInstance; any task.

import Common
import Foundation
import Remoting

public struct ClientConfig: Sendable {
    /// `;`-separated name server list; default from env `NAMESRV_ADDR`.
    public var namesrvAddr: String = ProcessInfo.processInfo.environment["NAMESRV_ADDR"] ?? ""
    /// Rewritten to `<pid>#<nanotime>` at start when left at "DEFAULT" (except broadcasting consumers).
    public var instanceName: String = ProcessInfo.processInfo.environment["ROCKETMQ_CLIENT_NAME"] ?? "DEFAULT"
    public var clientIP: String = ClientConfig.localIPv4Text()
    public var unitName: String? = nil
    public var pollNameServerIntervalMs: Int64 = 30_000
    public var heartbeatBrokerIntervalMs: Int64 = 30_000
    public var persistConsumerOffsetIntervalMs: Int64 = 5_000
    public var pullTimeDelayMillsWhenException: Int64 = 1_000
    public var mqClientApiTimeoutMs: Int64 = 3_000
    /// Header serialisation of requests; ROCKETMQ binary unless set otherwise.
    public var serializeType: SerializeType = .rocketmq
    public var language: LanguageCode = .other
    /// Latency fault tolerance of the producer (client.md §6.4); off by default.
    public var sendLatencyFaultEnable = false
    /// Folder of the local (broadcasting) offset files.
    public var localOffsetStoreDir: String =
        ProcessInfo.processInfo.environment["ROCKETMQ_LOCAL_OFFSET_STORE_DIR"]
        ?? (NSHomeDirectory() + "/.rocketmq_offsets")

    public init(namesrvAddr: String? = nil) {
        if let namesrvAddr { self.namesrvAddr = namesrvAddr }
    }

    var namesrvList: [String] {
        var s = namesrvAddr
        if s.hasPrefix("http://"), let slash = s.lastIndex(of: "/") { s = String(s[s.index(after: slash)...]) }
        return s.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// `clientIP@instanceName[@unitName]`.
    var clientID: String {
        var id = clientIP + "@" + instanceName
        if let unitName, !unitName.isEmpty { id += "@" + unitName }
        return id
    }

    mutating func changeInstanceNameToPID() {
        if instanceName == "DEFAULT" {
            instanceName = "\(getpid())#\(DispatchTime.now().uptimeNanoseconds)"
        }
    }

    /// First non-loopback IPv4 of the host, else 127.0.0.1.
    static func localIPv4Text() -> String { MessageClientIDSetter.localIPv4Bytes().map { String($0) }.joined(separator: ".") }
}

extension MessageQueue: CustomStringConvertible {
    /// `MessageQueue [topic=T, brokerName=B, queueId=Q]`, as Java prints it (also the consistent-hash key).
    public var description: String { "MessageQueue [topic=\(topic), brokerName=\(brokerName), queueId=\(queueId)]" }
}
