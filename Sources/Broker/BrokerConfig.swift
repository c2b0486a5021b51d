// BrokerConfig: the broker's own settings with RocketMQ key names (spec broker.md §15), plus the table that
// reads, prints and sets them as Java properties. Built once by `mqbroker` (file, then -n); read by every
// processor through the controller; UPDATE_BROKER_CONFIG changes the runtime copy.

import Common
import Foundation
import Store

public struct BrokerConfig: Sendable {
    public var brokerClusterName = "DefaultCluster"
    public var brokerName: String
    public var brokerId: Int64 = 0
    /// `host:port;host:port`; empty = no NameServer.
    public var namesrvAddr: String
    /// Advertised address and store host.
    public var brokerIP1: String
    public var brokerIP2: String?
    /// 0 binds an ephemeral port (tests); the boot line shows the one bound.
    public var listenPort = 10911
    public var haListenPort: Int?
    /// The gRPC endpoint for RocketMQ 5.x clients (BrokerGrpc, started by `mqbroker`): its port, as the
    /// proxy's grpcServerPort. Unset: 8081, or any free port when listenPort is 0 (as haListenPort);
    /// 0: any free port (the log line "gRPC server listening" names it).
    public var grpcServerPort: Int?
    /// Whether `mqbroker` starts the gRPC endpoint (default true, as the proxy in local mode).
    public var enableGrpcServer = true
    public var autoCreateTopicEnable = true
    public var autoCreateSubscriptionGroup = true
    public var defaultTopicQueueNums: Int32 = 8
    public var brokerPermission: Int32 = 6
    public var clusterTopicEnable = true
    public var brokerTopicEnable = true
    public var regionId = "DefaultRegion"
    public var traceOn = true
    public var longPollingEnable = true
    public var shortPollingTimeMills: Int64 = 1000
    public var registerNameServerPeriod: Int64 = 30_000
    public var registerBrokerTimeoutMills: Int64 = 24_000
    public var flushConsumerOffsetInterval: Int64 = 5000
    public var channelExpiredTimeout: Int64 = 120_000
    public var notifyConsumerIdsChangedEnable = true
    /// True forces every pull body through one copy; Apus defaults to false (RocketMQ: true) so large
    /// bodies use sendfile.
    public var transferMsgByHeap = false
    /// A master may send slow consumers to a slave (pull answers' suggestWhichBrokerId, broker.md §3.4).
    public var slaveReadEnable = false
    /// Apus: a pull body goes out as file regions (sendfile) when its mean run of adjacent records is at least
    /// this large (measured: 9 KiB runs lose to one copy, 75 KiB runs win; docs/BENCHMARKS.md).
    public var zeroCopyThresholdBytes: Int64 = 32_768
    /// Apus: how often parked pulls are checked for their deadline (Java: 5000 for long polling).
    public var pullHoldCheckIntervalMs: Int64 = 1000
    /// A queue lock of an orderly consumer not renewed for this long may be taken by another client (ms;
    /// RocketMQ's system property rocketmq.broker.rebalance.lockMaxLiveTime, accepted under both names).
    public var rebalanceLockMaxLiveTime: Int64 = 60_000
    /// SQL92 selectors (expressionType SQL92) are served; otherwise such pulls fail with SYSTEM_ERROR.
    public var enablePropertyFilter = false
    /// SQL92 selectors also filter the group's %RETRY% topic.
    public var filterSupportRetry = false
    /// Half messages younger than this are not checked yet (ms).
    public var transactionTimeOut: Int64 = 6000
    /// Checks per half message before it is discarded to TRANS_CHECK_MAX_TIME_TOPIC.
    public var transactionCheckMax: Int32 = 15
    /// Period of the transaction check service (ms).
    public var transactionCheckInterval: Int64 = 30_000
    /// Half messages (TRAN_MSG=true) are refused with NO_PERMISSION.
    public var rejectTransactionMessage = false
    /// Topics may be created or updated with the attribute message.type=MIXED.
    public var enableMixedMessageType = false

    // Request executors (broker.md §15): threads and queue capacity per kind of request, RocketMQ's keys
    // and defaults. A full queue answers SYSTEM_BUSY [OVERLOAD].
    public var sendMessageThreadPoolNums = min(BrokerConfig.cores, 4)
    public var pullMessageThreadPoolNums = 16 + 2 * BrokerConfig.cores
    public var litePullMessageThreadPoolNums = 16 + 2 * BrokerConfig.cores
    public var queryMessageThreadPoolNums = 8 + BrokerConfig.cores
    public var adminBrokerThreadPoolNums = 16
    public var clientManageThreadPoolNums = 32
    public var consumerManageThreadPoolNums = 32
    public var heartbeatThreadPoolNums = min(32, BrokerConfig.cores)
    public var endTransactionThreadPoolNums = max(8 + 2 * BrokerConfig.cores, 4 * min(BrokerConfig.cores, 4))
    public var sendThreadPoolQueueCapacity = 10_000
    public var pullThreadPoolQueueCapacity = 100_000
    public var litePullThreadPoolQueueCapacity = 100_000
    public var queryThreadPoolQueueCapacity = 20_000
    public var adminBrokerThreadPoolQueueCapacity = 10_000
    public var clientManagerThreadPoolQueueCapacity = 1_000_000
    public var consumerManagerThreadPoolQueueCapacity = 1_000_000
    public var heartbeatThreadPoolQueueCapacity = 50_000
    public var endTransactionPoolQueueCapacity = 100_000
    /// Broker fast failure: queued requests older than these (ms) are answered SYSTEM_BUSY
    /// [TIMEOUT_CLEAN_QUEUE], and queued sends [PCBUSY_CLEAN_QUEUE] while the page cache is busy.
    public var brokerFastFailureEnable = true
    public var waitTimeMillsInSendQueue: Int64 = 200
    public var waitTimeMillsInPullQueue: Int64 = 5_000
    public var waitTimeMillsInLitePullQueue: Int64 = 5_000
    public var waitTimeMillsInHeartbeatQueue: Int64 = 31_000
    public var waitTimeMillsInTransactionQueue: Int64 = 3_000
    /// Outbound bytes queued for one connection above which it stops being read until it drained below
    /// the low mark (RocketMQ's NettyServerConfig keys; Netty's defaults).
    public var writeBufferHighWaterMark = 64 * 1024
    /// Controller mode (RocketMQ 5, broker.md §12.4): the controller assigns the broker id and says who is
    /// master; `brokerId` and `brokerRole` from the file are then not used (ReplicasManager).
    public var enableControllerMode = false
    /// Controllers, `;`-separated (`mqcontroller` or a NameServer with `enableControllerInNamesrv`).
    public var controllerAddr = ""
    /// BROKER_HEARTBEAT to the controller every so often.
    public var brokerHeartbeatInterval: Int64 = 1000
    /// The controller declares this broker dead after so long without a heartbeat.
    public var controllerHeartBeatTimeoutMills: Int64 = 10_000
    /// How often the broker asks the controller who is master (RocketMQ's syncBrokerMetadataPeriod).
    public var syncBrokerMetadataPeriod: Int64 = 5000
    /// Among equally advanced replicas the lowest value is elected first.
    public var brokerElectionPriority: Int32 = Int32.max
    public var writeBufferLowWaterMark = 32 * 1024
    /// A connection with no read or write for this long is closed (RocketMQ's NettyServerConfig key); 0 never.
    public var serverChannelMaxIdleTimeSeconds: Int64 = 120
    /// Apus: open connections may use this share of the descriptor limit (always leaving 128 for the store's
    /// files); past it new connections are closed at accept (DescriptorLimit).
    public var serverMaxConnectionsPercent: Int64 = 80

    static var cores: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    public init() {
        brokerName = BrokerConfig.localHostName()
        namesrvAddr = ProcessInfo.processInfo.environment["NAMESRV_ADDR"] ?? ""
        brokerIP1 = BrokerConfig.firstNonLoopbackIPv4() ?? "127.0.0.1"
    }

    public var brokerAddr: String { "\(brokerIP1):\(listenPort)" }
    public var effectiveHaPort: Int { haListenPort ?? (listenPort + 1) }
    /// The gRPC port to bind: grpcServerPort, else 8081, else 0 (any) when listenPort is 0.
    public var effectiveGrpcPort: Int { grpcServerPort ?? (listenPort == 0 ? 0 : 8081) }
    public var haServerAddr: String { "\(brokerIP2 ?? brokerIP1):\(effectiveHaPort)" }
    public var namesrvAddrList: [String] {
        namesrvAddr.split(separator: ";").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    // MARK: keys

    struct Key: Sendable {
        let name: String
        /// What a value must be, for the message refusing a bad one.
        var accepts = "any text"
        let get: @Sendable (BrokerConfig) -> String
        let set: @Sendable (inout BrokerConfig, String) -> Bool
    }

    private static func string(_ n: String, _ kp: WritableKeyPath<BrokerConfig, String> & Sendable) -> Key {
        Key(name: n, get: { $0[keyPath: kp] }, set: { c, v in c[keyPath: kp] = v; return true })
    }
    /// A name that identifies the broker in routes: not empty.
    private static func name(_ n: String, _ kp: WritableKeyPath<BrokerConfig, String> & Sendable) -> Key {
        Key(name: n, accepts: "a non-empty name of letters, digits, '-', '_', '.' or '%'", get: { $0[keyPath: kp] }, set: { c, v in
            guard !v.isEmpty, v.count <= 127, v.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.%|".contains($0)) })
            else { return false }
            c[keyPath: kp] = v
            return true
        })
    }
    /// Times, periods and sizes: a whole number, never negative.
    private static func int64(_ n: String, _ kp: WritableKeyPath<BrokerConfig, Int64> & Sendable, minimum: Int64 = 0) -> Key {
        Key(name: n, accepts: "a whole number ≥ \(minimum)", get: { String($0[keyPath: kp]) }, set: { c, v in
            guard let x = Int64(v), x >= minimum else { return false }
            c[keyPath: kp] = x
            return true
        })
    }
    /// A positive count (threads, capacities, bytes): 0 or less is a bad value.
    private static func int(_ n: String, _ kp: WritableKeyPath<BrokerConfig, Int> & Sendable) -> Key {
        Key(name: n, accepts: "a whole number ≥ 1", get: { String($0[keyPath: kp]) }, set: { c, v in
            guard let x = Int(v), x > 0 else { return false }
            c[keyPath: kp] = x
            return true
        })
    }

    private static func int32(_ n: String, _ kp: WritableKeyPath<BrokerConfig, Int32> & Sendable, _ range: ClosedRange<Int32>) -> Key {
        Key(name: n, accepts: "a whole number from \(range.lowerBound) to \(range.upperBound)", get: { String($0[keyPath: kp]) }, set: { c, v in
            guard let x = Int32(v), range.contains(x) else { return false }
            c[keyPath: kp] = x
            return true
        })
    }
    /// `true` or `false` in any case, as Java's Boolean.parseBoolean reads them; anything else is refused
    /// (Java would read "ture" as false without a word).
    private static func bool(_ n: String, _ kp: WritableKeyPath<BrokerConfig, Bool> & Sendable) -> Key {
        Key(name: n, accepts: "true or false", get: { String($0[keyPath: kp]) }, set: { c, v in
            switch v.lowercased() {
            case "true": c[keyPath: kp] = true
            case "false": c[keyPath: kp] = false
            default: return false
            }
            return true
        })
    }
    private static func port(_ n: String, get: @escaping @Sendable (BrokerConfig) -> String,
                             set: @escaping @Sendable (inout BrokerConfig, Int) -> Void) -> Key {
        Key(name: n, accepts: "a port from 0 to 65535", get: get, set: { c, v in
            guard let p = Int(v), (0...65535).contains(p) else { return false }
            set(&c, p)
            return true
        })
    }

    static let keys: [Key] = [
        name("brokerClusterName", \.brokerClusterName),
        name("brokerName", \.brokerName),
        int64("brokerId", \.brokerId),
        Key(name: "namesrvAddr", accepts: "host:port entries separated by ';'", get: { $0.namesrvAddr }, set: { c, v in
            guard BrokerConfig.isAddressList(v) else { return false }
            c.namesrvAddr = v
            return true
        }),
        Key(name: "brokerIP1", accepts: "an IPv4 address", get: { $0.brokerIP1 }, set: { c, v in
            guard BrokerConfig.isIPv4(v) else { return false }
            c.brokerIP1 = v
            return true
        }),
        Key(name: "brokerIP2", accepts: "an IPv4 address", get: { $0.brokerIP2 ?? $0.brokerIP1 }, set: { c, v in
            guard BrokerConfig.isIPv4(v) else { return false }
            c.brokerIP2 = v
            return true
        }),
        port("listenPort", get: { String($0.listenPort) }, set: { c, p in c.listenPort = p }),
        port("haListenPort", get: { String($0.effectiveHaPort) }, set: { c, p in c.haListenPort = p > 0 ? p : nil }),
        port("grpcServerPort", get: { String($0.effectiveGrpcPort) }, set: { c, p in c.grpcServerPort = p }),
        bool("enableGrpcServer", \.enableGrpcServer),
        bool("autoCreateTopicEnable", \.autoCreateTopicEnable),
        bool("autoCreateSubscriptionGroup", \.autoCreateSubscriptionGroup),
        int32("defaultTopicQueueNums", \.defaultTopicQueueNums, 1...1024),
        // PermName bits: 8 priority, 4 read, 2 write, 1 inherit.
        int32("brokerPermission", \.brokerPermission, 0...15),
        bool("clusterTopicEnable", \.clusterTopicEnable),
        bool("brokerTopicEnable", \.brokerTopicEnable),
        name("regionId", \.regionId),
        bool("traceOn", \.traceOn),
        bool("slaveReadEnable", \.slaveReadEnable),
        bool("longPollingEnable", \.longPollingEnable),
        int64("shortPollingTimeMills", \.shortPollingTimeMills),
        Key(name: "registerNameServerPeriod", accepts: "a whole number of ms ≥ 0 (used within 10000...60000)",
            get: { String($0.registerNameServerPeriod) }, set: { c, v in
            guard let x = Int64(v), x >= 0 else { return false }
            c.registerNameServerPeriod = min(60_000, max(10_000, x))
            return true
        }),
        int64("registerBrokerTimeoutMills", \.registerBrokerTimeoutMills),
        int64("flushConsumerOffsetInterval", \.flushConsumerOffsetInterval, minimum: 1),
        int64("channelExpiredTimeout", \.channelExpiredTimeout),
        bool("notifyConsumerIdsChangedEnable", \.notifyConsumerIdsChangedEnable),
        bool("transferMsgByHeap", \.transferMsgByHeap),
        int64("zeroCopyThresholdBytes", \.zeroCopyThresholdBytes),
        int64("pullHoldCheckIntervalMs", \.pullHoldCheckIntervalMs, minimum: 1),
        int64("transactionTimeOut", \.transactionTimeOut),
        int64("rebalanceLockMaxLiveTime", \.rebalanceLockMaxLiveTime),
        bool("enablePropertyFilter", \.enablePropertyFilter),
        bool("filterSupportRetry", \.filterSupportRetry),
        int64("rocketmq.broker.rebalance.lockMaxLiveTime", \.rebalanceLockMaxLiveTime),
        int32("transactionCheckMax", \.transactionCheckMax, 1...Int32.max),
        int64("transactionCheckInterval", \.transactionCheckInterval, minimum: 1),
        bool("rejectTransactionMessage", \.rejectTransactionMessage),
        bool("enableMixedMessageType", \.enableMixedMessageType),
        int("sendMessageThreadPoolNums", \.sendMessageThreadPoolNums),
        int("pullMessageThreadPoolNums", \.pullMessageThreadPoolNums),
        int("litePullMessageThreadPoolNums", \.litePullMessageThreadPoolNums),
        int("queryMessageThreadPoolNums", \.queryMessageThreadPoolNums),
        int("adminBrokerThreadPoolNums", \.adminBrokerThreadPoolNums),
        int("clientManageThreadPoolNums", \.clientManageThreadPoolNums),
        int("consumerManageThreadPoolNums", \.consumerManageThreadPoolNums),
        int("heartbeatThreadPoolNums", \.heartbeatThreadPoolNums),
        int("endTransactionThreadPoolNums", \.endTransactionThreadPoolNums),
        int("sendThreadPoolQueueCapacity", \.sendThreadPoolQueueCapacity),
        int("pullThreadPoolQueueCapacity", \.pullThreadPoolQueueCapacity),
        int("litePullThreadPoolQueueCapacity", \.litePullThreadPoolQueueCapacity),
        int("queryThreadPoolQueueCapacity", \.queryThreadPoolQueueCapacity),
        int("adminBrokerThreadPoolQueueCapacity", \.adminBrokerThreadPoolQueueCapacity),
        int("clientManagerThreadPoolQueueCapacity", \.clientManagerThreadPoolQueueCapacity),
        int("consumerManagerThreadPoolQueueCapacity", \.consumerManagerThreadPoolQueueCapacity),
        int("heartbeatThreadPoolQueueCapacity", \.heartbeatThreadPoolQueueCapacity),
        int("endTransactionPoolQueueCapacity", \.endTransactionPoolQueueCapacity),
        bool("brokerFastFailureEnable", \.brokerFastFailureEnable),
        int64("waitTimeMillsInSendQueue", \.waitTimeMillsInSendQueue),
        int64("waitTimeMillsInPullQueue", \.waitTimeMillsInPullQueue),
        int64("waitTimeMillsInLitePullQueue", \.waitTimeMillsInLitePullQueue),
        int64("waitTimeMillsInHeartbeatQueue", \.waitTimeMillsInHeartbeatQueue),
        int64("waitTimeMillsInTransactionQueue", \.waitTimeMillsInTransactionQueue),
        int("writeBufferHighWaterMark", \.writeBufferHighWaterMark),
        int("writeBufferLowWaterMark", \.writeBufferLowWaterMark),
        int64("serverChannelMaxIdleTimeSeconds", \.serverChannelMaxIdleTimeSeconds),
        bool("enableControllerMode", \.enableControllerMode),
        Key(name: "controllerAddr", accepts: "host:port entries separated by ';'", get: { $0.controllerAddr }, set: { c, v in
            guard v.isEmpty || BrokerConfig.isAddressList(v) else { return false }
            c.controllerAddr = v
            return true
        }),
        int64("brokerHeartbeatInterval", \.brokerHeartbeatInterval, minimum: 10),
        int64("controllerHeartBeatTimeoutMills", \.controllerHeartBeatTimeoutMills, minimum: 1000),
        int64("syncBrokerMetadataPeriod", \.syncBrokerMetadataPeriod, minimum: 10),
        int32("brokerElectionPriority", \.brokerElectionPriority, 0...Int32.max),
        Key(name: "serverMaxConnectionsPercent", accepts: "a whole number from 1 to 100",
            get: { String($0.serverMaxConnectionsPercent) }, set: { c, v in
            guard let x = Int64(v), (1...100).contains(x) else { return false }
            c.serverMaxConnectionsPercent = x
            return true
        }),
    ]

    public static var keyNames: Set<String> { Set(keys.map(\.name)) }

    /// Broker keys read only at start (identity and address, the server's buffers, the executors, the
    /// periods of jobs scheduled once, the lock manager's lifetime): UPDATE_BROKER_CONFIG refuses them,
    /// since taking them would report a value the running broker does not use. The other keys are read
    /// on every request or round.
    public static let restartOnlyKeys: Set<String> = Set([
        "brokerClusterName", "brokerName", "brokerId", "brokerIP1", "brokerIP2", "listenPort", "haListenPort",
        "grpcServerPort", "enableGrpcServer", "registerNameServerPeriod", "flushConsumerOffsetInterval", "pullHoldCheckIntervalMs",
        "rebalanceLockMaxLiveTime", "rocketmq.broker.rebalance.lockMaxLiveTime", "brokerFastFailureEnable",
        "writeBufferHighWaterMark", "writeBufferLowWaterMark", "serverChannelMaxIdleTimeSeconds", "serverMaxConnectionsPercent",
        "enableControllerMode", "controllerAddr", "brokerHeartbeatInterval", "controllerHeartBeatTimeoutMills",
        "syncBrokerMetadataPeriod", "brokerElectionPriority",
    ]).union(keys.map(\.name).filter {
        // The request executors are built once from these (BrokerRequestExecutors).
        $0.hasSuffix("ThreadPoolNums") || $0.hasSuffix("QueueCapacity") || $0.hasPrefix("waitTimeMillsIn")
    })

    public enum SetOutcome: Sendable, Equatable { case applied, unknownKey, badValue }

    public mutating func set(_ name: String, _ value: String) -> SetOutcome {
        guard let k = Self.keys.first(where: { $0.name == name }) else { return .unknownKey }
        return k.set(&self, value.trimmingCharacters(in: .whitespaces)) ? .applied : .badValue
    }

    public func value(of name: String) -> String? { Self.keys.first { $0.name == name }?.get(self) }

    /// What `name` accepts, for the message refusing a bad value.
    public static func accepted(for name: String) -> String? { keys.first { $0.name == name }?.accepts }

    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { p in p.count <= 3 && UInt8(p) != nil }
    }

    /// `host:port[;host:port…]`, a port from 1 to 65535 each; empty means no NameServer.
    static func isAddressList(_ text: String) -> Bool {
        text.split(separator: ";").allSatisfy { entry in
            let e = entry.trimmingCharacters(in: .whitespaces)
            guard let colon = e.lastIndex(of: ":"), colon != e.startIndex, let p = Int(e[e.index(after: colon)...]) else { return false }
            return (1...65535).contains(p)
        }
    }

    /// `key=value` lines in table order.
    public var propertiesLines: [String] { Self.keys.map { "\($0.name)=\($0.get(self))" } }

    // MARK: environment

    static func localHostName() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count) == 0 else { return "DEFAULT_BROKER" }
        let name = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "DEFAULT_BROKER" : name
    }

    static func firstNonLoopbackIPv4() -> String? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return nil }
        defer { freeifaddrs(list) }
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let ifa = cursor {
            defer { cursor = ifa.pointee.ifa_next }
            guard let sa = ifa.pointee.ifa_addr, sa.pointee.sa_family == sa_family_t(AF_INET) else { continue }
            let addr = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
            let host = UInt32(bigEndian: addr)
            if host >> 24 == 127 { continue }
            return "\(host >> 24).\(host >> 16 & 0xFF).\(host >> 8 & 0xFF).\(host & 0xFF)"
        }
        return nil
    }
}

/// Store keys `-p` and GET_BROKER_CONFIG print (the store's table only sets them).
public enum StoreConfigPrinter {
    public static func lines(_ c: MessageStoreConfig) -> [String] {
        [
            "storePathRootDir=\(c.storePathRootDir)", "storePathCommitLog=\(c.commitLogPath)",
            "mappedFileSizeCommitLog=\(c.mappedFileSizeCommitLogBytes)",
            "mappedFileSizeConsumeQueue=\(c.mappedFileSizeConsumeQueueBytes)",
            "flushDiskType=\(c.flushDiskType.rawValue)", "brokerRole=\(c.brokerRole.rawValue)",
            "maxMessageSize=\(c.maxMessageSizeBytes)", "flushIntervalCommitLog=\(c.flushIntervalCommitLogMs)",
            "flushCommitLogLeastPages=\(c.flushCommitLogLeastPages)", "syncFlushTimeout=\(c.syncFlushTimeoutMs)",
            "osPageCacheBusyTimeOutMills=\(c.osPageCacheBusyTimeOutMills)",
            "flushCommitLogThoroughInterval=\(c.flushCommitLogThoroughIntervalMs)",
            "commitIntervalCommitLog=\(c.commitIntervalCommitLogMs)", "commitCommitLogLeastPages=\(c.commitCommitLogLeastPages)",
            "commitCommitLogThoroughInterval=\(c.commitCommitLogThoroughIntervalMs)",
            "flushIntervalConsumeQueue=\(c.flushIntervalConsumeQueueMs)",
            "fileReservedTime=\(c.fileReservedTimeHours)", "deleteWhen=\(c.deleteWhen)",
            "diskMaxUsedSpaceRatio=\(c.diskMaxUsedSpaceRatioPercent)",
            "diskSpaceWarningLevelRatio=\(c.diskSpaceWarningLevelRatioPercent)",
            "diskSpaceCleanForciblyRatio=\(c.diskSpaceCleanForciblyRatioPercent)",
            "cleanFileForciblyEnable=\(c.cleanFileForciblyEnable)", "cleanResourceInterval=\(c.cleanResourceIntervalMs)",
            "deleteFileBatchMax=\(c.deleteFileBatchMax)", "maxFilterMessageSize=\(c.maxFilterMessageSizeBytes)",
            "messageIndexEnable=\(c.messageIndexEnable)",
            "maxTransferBytesOnMessageInMemory=\(c.maxTransferBytesOnMessageInMemory)",
            "maxTransferCountOnMessageInMemory=\(c.maxTransferCountOnMessageInMemory)",
            "maxTransferBytesOnMessageInDisk=\(c.maxTransferBytesOnMessageInDisk)",
            "maxTransferCountOnMessageInDisk=\(c.maxTransferCountOnMessageInDisk)",
            "accessMessageInMemoryMaxRatio=\(c.accessMessageInMemoryMaxRatioPercent)",
            "ioUringEnable=\(c.ioUringEnable)",
            "haMasterAddress=\(c.haMasterAddress ?? "")", "haTransferBatchSize=\(c.haTransferBatchSizeBytes)",
            "haSlaveFallbehindMax=\(c.haSlaveFallbehindMaxBytes)", "slaveTimeout=\(c.slaveTimeoutMs)",
            "haSendHeartbeatInterval=\(c.haSendHeartbeatIntervalMs)", "haHousekeepingInterval=\(c.haHousekeepingIntervalMs)",
            "haFlowControlEnable=\(c.haFlowControlEnable)", "maxHaTransferByteInSecond=\(c.maxHaTransferByteInSecond)",
        ]
    }
}

/// Java properties text as a map (JavaProperties.map).
public func parseJavaProperties(_ text: String) -> [String: String] { JavaProperties.map(text) }
