// MessageStoreConfig: the store's settings with RocketMQ's key names and defaults (store.md §12), plus
// Apus's io_uring keys. Properties carry their unit in the name; `MessageStoreConfig.keys` is the one
// table mapping each operator key (and legacy spelling) to its property. Parsed once by the executable.

import Common

public enum FlushDiskType: String, Sendable {
    case asyncFlush = "ASYNC_FLUSH"
    case syncFlush = "SYNC_FLUSH"
}

public enum BrokerRole: String, Sendable {
    case asyncMaster = "ASYNC_MASTER"
    case syncMaster = "SYNC_MASTER"
    case slave = "SLAVE"
}

public struct MessageStoreConfig: Sendable {
    public var storePathRootDir: String
    public var storePathCommitLog: String?
    public var mappedFileSizeCommitLogBytes: Int64 = 1_073_741_824
    public var mappedFileSizeConsumeQueueBytes: Int64 = 6_000_000
    public var flushDiskType: FlushDiskType = .asyncFlush
    public var brokerRole: BrokerRole = .asyncMaster
    public var maxMessageSizeBytes: Int32 = 4_194_304
    public var checkCRCOnRecover = true
    public var warmMappedFileEnable = false
    /// Apus: fill the page cache for the next CommitLog segment in the allocator thread (read faults,
    /// nothing dirtied). Off by default: measured slower, since every page still takes a write fault
    /// and the zeroing competes with dispatch for the second core. Ignored when warm-up is on.
    public var preFaultMappedFileEnable = false
    public var dataReadAheadEnable = true
    public var flushIntervalCommitLogMs: Int64 = 500
    public var flushCommitLogLeastPages: Int64 = 4
    public var flushCommitLogThoroughIntervalMs: Int64 = 10_000
    public var flushCommitLogTimed = true
    /// RocketMQ's TransientStorePool (store.md §3.12): appends go to resident buffers, committed to the
    /// file by CommitRealTimeService. Honoured only under ASYNC_FLUSH on a master, as in RocketMQ 4.x.
    public var transientStorePoolEnable = false
    public var transientStorePoolSize: Int64 = 5
    public var commitIntervalCommitLogMs: Int64 = 200
    public var commitCommitLogLeastPages: Int64 = 4
    public var commitCommitLogThoroughIntervalMs: Int64 = 200
    /// Apus: nice value (0...19) of the store's service threads (dispatch, commit, flush, allocation,
    /// cleaning). Above 0, threads that put messages (the broker's event loops) run ahead of them when
    /// the CPU is saturated; dispatch and commit then lag during a burst and catch up after it.
    public var storeServiceThreadNice: Int64 = 0
    public var syncFlushTimeoutMs: Int64 = 5_000
    // Master/slave replication (broker.md §12). The HA listen port is the broker's (`haListenPort`).
    /// A slave's fixed master HA address (`ip:port`); without it the slave uses its registration's answer.
    public var haMasterAddress: String?
    /// Bytes a master sends in one HA batch (at most one file's part).
    public var haTransferBatchSizeBytes: Int64 = 32_768
    /// SYNC_MASTER: a slave further behind than this is not usable (SLAVE_NOT_AVAILABLE; 5.x haMaxGapNotInSync).
    public var haSlaveFallbehindMaxBytes: Int64 = 268_435_456
    /// SYNC_MASTER: how long a put waits for a slave's acknowledgement before FLUSH_SLAVE_TIMEOUT.
    public var slaveTimeoutMs: Int64 = 3_000
    /// A slave reports its offset at least this often; a master with nothing to send heartbeats as often.
    public var haSendHeartbeatIntervalMs: Int64 = 5_000
    /// Either side closes an HA connection that read nothing for this long.
    public var haHousekeepingIntervalMs: Int64 = 20_000
    public var haFlowControlEnable = false
    // Controller mode's quorum writes (broker.md §12.2 5.x, §12.4); read by the broker's HAService.
    /// SYNC_MASTER: acknowledgements a put needs, the master's own included (1: none from replicas).
    public var inSyncReplicas: Int64 = 1
    /// Controller mode: fewer SyncStateSet members than this and a SYNC_MASTER put is refused
    /// (IN_SYNC_REPLICAS_NOT_ENOUGH).
    public var minInSyncReplicas: Int64 = 1
    /// Controller mode: a put waits for every member of the SyncStateSet (then `inSyncReplicas` is not used).
    public var allAckInSyncStateSet = false
    /// Controller mode: `inSyncReplicas` is lowered to the SyncStateSet's size (never below `minInSyncReplicas`).
    public var enableAutoInSyncReplicas = false
    /// Controller mode: a replica not caught up with the master for this long leaves the SyncStateSet.
    public var haMaxTimeSlaveNotCatchupMs: Int64 = 15_000
    public var maxHaTransferByteInSecond: Int64 = 104_857_600
    /// The put lock held longer than this counts as a busy page cache: puts are refused
    /// (OS_PAGE_CACHE_BUSY) and the broker answers queued sends [PCBUSY_CLEAN_QUEUE] (store.md §3).
    public var osPageCacheBusyTimeOutMills: Int64 = 1_000
    public var flushIntervalConsumeQueueMs: Int64 = 1_000
    public var flushConsumeQueueLeastPages: Int64 = 2
    public var flushConsumeQueueThoroughIntervalMs: Int64 = 60_000
    public var fileReservedTimeHours: Int64 = 72
    public var deleteWhen = "04"
    public var diskMaxUsedSpaceRatioPercent: Int64 = 75
    public var diskSpaceWarningLevelRatioPercent: Int64 = 90
    public var diskSpaceCleanForciblyRatioPercent: Int64 = 85
    public var cleanFileForciblyEnable = true
    public var cleanResourceIntervalMs: Int64 = 10_000
    public var deleteCommitLogFilesIntervalMs: Int64 = 100
    public var deleteConsumeQueueFilesIntervalMs: Int64 = 100
    public var deleteFileBatchMax: Int64 = 10
    public var messageIndexEnable = true
    public var messageIndexSafe = false
    public var maxHashSlotNum: Int64 = 5_000_000
    public var maxIndexNum: Int64 = 20_000_000
    public var maxMsgsNumBatch: Int64 = 64
    public var maxTransferBytesOnMessageInMemory: Int64 = 262_144
    public var maxTransferCountOnMessageInMemory: Int64 = 32
    public var maxTransferBytesOnMessageInDisk: Int64 = 65_536
    public var maxTransferCountOnMessageInDisk: Int64 = 8
    public var accessMessageInMemoryMaxRatioPercent: Int64 = 40
    public var maxFilterMessageSizeBytes: Int64 = 16_000
    public var autoMessageVersionOnTopicLen = true

    /// Whether the TransientStorePool is in use (RocketMQ 4.x's isTransientStorePoolEnable).
    public var isTransientStorePoolEnabled: Bool {
        transientStorePoolEnable && flushDiskType == .asyncFlush && brokerRole != .slave && transientStorePoolSize > 0
    }
    /// Delay of each level, 1-based (store.md §12, broker.md §7); units s, m, h, d.
    public var messageDelayLevel = "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h"
    public var readUnCommitted = false
    /// Apus: use io_uring for flush, preallocation and cold reads (falls back to syscalls if refused).
    public var ioUringEnable = true
    /// Apus: submission queue entries of each store ring.
    public var ioUringEntries: Int64 = 64
    /// Apus: kernel submission-polling thread for the flush ring (costs a core while busy).
    public var ioUringSqPoll = false
    /// Apus: idle time before the SQPOLL thread sleeps.
    public var ioUringSqThreadIdleMs: Int64 = 1_000
    /// Store host written into records and message ids: brokerIP1:listenPort (store.md §13).
    public var storeHost: MessageHost = .loopback

    public init(storePathRootDir: String) {
        self.storePathRootDir = storePathRootDir
    }

    public var commitLogPath: String { storePathCommitLog ?? storePathRootDir + "/commitlog" }
    public var consumeQueuePath: String { storePathRootDir + "/consumequeue" }
    public var indexPath: String { storePathRootDir + "/index" }
    public var checkpointPath: String { storePathRootDir + "/checkpoint" }
    public var abortPath: String { storePathRootDir + "/abort" }
    public var lockPath: String { storePathRootDir + "/lock" }

    /// Topic of delayed messages; queue `level - 1` holds level `level` (broker.md §7).
    public static let scheduleTopic = "SCHEDULE_TOPIC_XXXX"

    /// Milliseconds of each delay level (index 0 = level 1).
    public var delayLevelTableMs: [Int64] { Self.parseDelayLevels(messageDelayLevel) ?? [] }

    /// Parses "1s 5s 10m 2h 1d"; nil if a token is not a number followed by s, m, h or d.
    public static func parseDelayLevels(_ text: String) -> [Int64]? {
        var out: [Int64] = []
        for token in text.split(separator: " ") {
            guard let unit = token.last, let n = Int64(token.dropLast()), n >= 0 else { return nil }
            switch unit {
            case "s": out.append(n * 1000)
            case "m": out.append(n * 60_000)
            case "h": out.append(n * 3_600_000)
            case "d": out.append(n * 86_400_000)
            default: return nil
            }
        }
        return out.isEmpty ? nil : out
    }

    /// The CQ file size rounded up to whole units, as RocketMQ's getter does.
    public var consumeQueueFileBytes: Int64 {
        let u = StoreLimits.consumeQueueUnitBytes
        return (mappedFileSizeConsumeQueueBytes + u - 1) / u * u
    }
}

extension MessageStoreConfig {
    /// One operator key: its RocketMQ name, an older spelling that still means it, and how to set it.
    public struct Key: Sendable {
        public let name: String
        public let legacyName: String?
        public let unit: String
        /// What a value must be, for the message refusing a bad one.
        public var accepts: String
        let apply: @Sendable (inout MessageStoreConfig, String) -> Bool

        init(name: String, legacyName: String?, unit: String, accepts: String? = nil,
             apply: @escaping @Sendable (inout MessageStoreConfig, String) -> Bool) {
            self.name = name
            self.legacyName = legacyName
            self.unit = unit
            self.accepts = accepts ?? (unit.isEmpty ? "any text" : unit)
            self.apply = apply
        }
    }

    /// Sizes, times and counts are whole numbers, never negative unless a key says so.
    private static func int(_ name: String, legacy: String? = nil, unit: String = "", minimum: Int64 = 0, maximum: Int64 = .max,
                            _ kp: WritableKeyPath<MessageStoreConfig, Int64> & Sendable) -> Key {
        let range = maximum == .max ? "≥ \(minimum)" : "from \(minimum) to \(maximum)"
        return Key(name: name, legacyName: legacy, unit: unit, accepts: "a whole number \(range)\(unit.isEmpty ? "" : " (\(unit))")") { c, v in
            guard let n = Int64(v), n >= minimum, n <= maximum else { return false }
            c[keyPath: kp] = n
            return true
        }
    }

    /// `true` or `false` in any case (Java's parseBoolean); anything else is refused rather than read as false.
    private static func bool(_ name: String, _ kp: WritableKeyPath<MessageStoreConfig, Bool> & Sendable) -> Key {
        Key(name: name, legacyName: nil, unit: "", accepts: "true or false") { c, v in
            switch v.lowercased() {
            case "true": c[keyPath: kp] = true
            case "false": c[keyPath: kp] = false
            default: return false
            }
            return true
        }
    }

    /// Every key the store understands (store.md §12 and Apus's io_uring keys).
    public static let keys: [Key] = [
        Key(name: "storePathRootDir", legacyName: nil, unit: "path") { c, v in c.storePathRootDir = v; return true },
        Key(name: "storePathCommitLog", legacyName: nil, unit: "path") { c, v in c.storePathCommitLog = v; return true },
        // A segment must hold at least one page (a record needs room, and a 0-byte segment refused every send).
        int("mappedFileSizeCommitLog", legacy: "mapedFileSizeCommitLog", unit: "bytes", minimum: 4096, \.mappedFileSizeCommitLogBytes),
        int("mappedFileSizeConsumeQueue", legacy: "mapedFileSizeConsumeQueue", unit: "bytes", minimum: Int64(StoreLimits.consumeQueueUnitBytes),
            \.mappedFileSizeConsumeQueueBytes),
        Key(name: "flushDiskType", legacyName: nil, unit: "", accepts: "ASYNC_FLUSH or SYNC_FLUSH") { c, v in
            guard let t = FlushDiskType(rawValue: v) else { return false }
            c.flushDiskType = t
            return true
        },
        Key(name: "brokerRole", legacyName: nil, unit: "", accepts: "ASYNC_MASTER, SYNC_MASTER or SLAVE") { c, v in
            guard let r = BrokerRole(rawValue: v) else { return false }
            c.brokerRole = r
            return true
        },
        Key(name: "maxMessageSize", legacyName: nil, unit: "bytes", accepts: "a whole number of bytes from 10 to 2147483647") { c, v in
            guard let n = Int32(v), n >= 10 else { return false }
            c.maxMessageSizeBytes = n
            return true
        },
        bool("checkCRCOnRecover", \.checkCRCOnRecover),
        bool("warmMapedFileEnable", \.warmMappedFileEnable),
        bool("preFaultMappedFileEnable", \.preFaultMappedFileEnable),
        bool("dataReadAheadEnable", \.dataReadAheadEnable),
        int("flushIntervalCommitLog", unit: "ms", \.flushIntervalCommitLogMs),
        int("flushCommitLogLeastPages", unit: "pages", \.flushCommitLogLeastPages),
        int("flushCommitLogThoroughInterval", unit: "ms", \.flushCommitLogThoroughIntervalMs),
        bool("flushCommitLogTimed", \.flushCommitLogTimed),
        bool("transientStorePoolEnable", \.transientStorePoolEnable),
        int("transientStorePoolSize", unit: "buffers", \.transientStorePoolSize),
        int("commitIntervalCommitLog", unit: "ms", \.commitIntervalCommitLogMs),
        int("commitCommitLogLeastPages", unit: "pages", \.commitCommitLogLeastPages),
        int("commitCommitLogThoroughInterval", unit: "ms", \.commitCommitLogThoroughIntervalMs),
        int("storeServiceThreadNice", unit: "nice", maximum: 19, \.storeServiceThreadNice),
        int("syncFlushTimeout", unit: "ms", \.syncFlushTimeoutMs),
        Key(name: "haMasterAddress", legacyName: nil, unit: "ip:port", accepts: "ip:port, or empty") { c, v in
            if !v.isEmpty {
                guard let colon = v.lastIndex(of: ":"), colon != v.startIndex, let p = Int(v[v.index(after: colon)...]),
                      (1...65535).contains(p) else { return false }
            }
            c.haMasterAddress = v.isEmpty ? nil : v
            return true
        },
        int("haTransferBatchSize", unit: "bytes", minimum: 1, \.haTransferBatchSizeBytes),
        int("haSlaveFallbehindMax", unit: "bytes", \.haSlaveFallbehindMaxBytes),
        int("haMaxGapNotInSync", unit: "bytes", \.haSlaveFallbehindMaxBytes),
        int("slaveTimeout", unit: "ms", \.slaveTimeoutMs),
        int("haSendHeartbeatInterval", unit: "ms", minimum: 1, \.haSendHeartbeatIntervalMs),
        int("haHousekeepingInterval", unit: "ms", minimum: 1, \.haHousekeepingIntervalMs),
        bool("haFlowControlEnable", \.haFlowControlEnable),
        int("inSyncReplicas", unit: "replicas", minimum: 1, \.inSyncReplicas),
        int("minInSyncReplicas", unit: "replicas", minimum: 1, \.minInSyncReplicas),
        bool("allAckInSyncStateSet", \.allAckInSyncStateSet),
        bool("enableAutoInSyncReplicas", \.enableAutoInSyncReplicas),
        int("haMaxTimeSlaveNotCatchup", unit: "ms", minimum: 1, \.haMaxTimeSlaveNotCatchupMs),
        int("maxHaTransferByteInSecond", unit: "bytes/s", minimum: 1, \.maxHaTransferByteInSecond),
        int("osPageCacheBusyTimeOutMills", unit: "ms", \.osPageCacheBusyTimeOutMills),
        int("flushIntervalConsumeQueue", unit: "ms", \.flushIntervalConsumeQueueMs),
        int("flushConsumeQueueLeastPages", unit: "pages", \.flushConsumeQueueLeastPages),
        int("flushConsumeQueueThoroughInterval", unit: "ms", \.flushConsumeQueueThoroughIntervalMs),
        int("fileReservedTime", unit: "hours", \.fileReservedTimeHours),
        Key(name: "deleteWhen", legacyName: nil, unit: "hours", accepts: "hours of the day (0-23) separated by ';'") { c, v in
            guard v.split(separator: ";").allSatisfy({ Int(String($0).trimmingWhitespace()).map { (0...23).contains($0) } ?? false })
            else { return false }
            c.deleteWhen = v
            return true
        },
        int("diskMaxUsedSpaceRatio", unit: "%", maximum: 100, \.diskMaxUsedSpaceRatioPercent),
        int("diskSpaceWarningLevelRatio", unit: "%", maximum: 100, \.diskSpaceWarningLevelRatioPercent),
        int("diskSpaceCleanForciblyRatio", unit: "%", maximum: 100, \.diskSpaceCleanForciblyRatioPercent),
        bool("cleanFileForciblyEnable", \.cleanFileForciblyEnable),
        int("cleanResourceInterval", unit: "ms", \.cleanResourceIntervalMs),
        int("deleteCommitLogFilesInterval", unit: "ms", \.deleteCommitLogFilesIntervalMs),
        int("deleteConsumeQueueFilesInterval", unit: "ms", \.deleteConsumeQueueFilesIntervalMs),
        int("deleteFileBatchMax", unit: "files", \.deleteFileBatchMax),
        bool("messageIndexEnable", \.messageIndexEnable),
        bool("messageIndexSafe", \.messageIndexSafe),
        int("maxHashSlotNum", unit: "slots", \.maxHashSlotNum),
        int("maxIndexNum", unit: "entries", \.maxIndexNum),
        int("maxMsgsNumBatch", unit: "messages", \.maxMsgsNumBatch),
        int("maxTransferBytesOnMessageInMemory", unit: "bytes", \.maxTransferBytesOnMessageInMemory),
        int("maxTransferCountOnMessageInMemory", unit: "messages", \.maxTransferCountOnMessageInMemory),
        int("maxTransferBytesOnMessageInDisk", unit: "bytes", \.maxTransferBytesOnMessageInDisk),
        int("maxTransferCountOnMessageInDisk", unit: "messages", \.maxTransferCountOnMessageInDisk),
        int("accessMessageInMemoryMaxRatio", unit: "%", maximum: 100, \.accessMessageInMemoryMaxRatioPercent),
        int("maxFilterMessageSize", unit: "bytes", \.maxFilterMessageSizeBytes),
        bool("autoMessageVersionOnTopicLen", \.autoMessageVersionOnTopicLen),
        Key(name: "messageDelayLevel", legacyName: nil, unit: "s/m/h/d list", accepts: "levels like '1s 5s 10m 2h 1d'") { c, v in
            guard MessageStoreConfig.parseDelayLevels(v) != nil else { return false }
            c.messageDelayLevel = v
            return true
        },
        bool("readUnCommitted", \.readUnCommitted),
        bool("ioUringEnable", \.ioUringEnable),
        int("ioUringEntries", unit: "entries", \.ioUringEntries),
        bool("ioUringSqPoll", \.ioUringSqPoll),
        int("ioUringSqThreadIdleMs", unit: "ms", \.ioUringSqThreadIdleMs),
    ]

    /// What applying a properties map did: keys it did not know, and values it could not parse
    /// (RocketMQ ignores both silently; the executable warns).
    public struct ApplyReport: Sendable {
        public var unknownKeys: [String] = []
        public var unparsable: [String] = []
    }

    /// Applies operator properties. A modern key wins over its legacy spelling when both appear.
    /// Values are trimmed, as RocketMQ does. Keys not in `keys` are reported, not fatal.
    @discardableResult
    public mutating func apply(_ properties: [String: String], knownElsewhere: Set<String> = []) -> ApplyReport {
        var report = ApplyReport()
        var used = Set<String>()
        for key in Self.keys {
            let raw = properties[key.name] ?? key.legacyName.flatMap { properties[$0] }
            if properties[key.name] != nil { used.insert(key.name) }
            if let legacy = key.legacyName, properties[legacy] != nil { used.insert(legacy) }
            guard let value = raw?.trimmingWhitespace() else { continue }
            // Named as the operator wrote it, with the value: "mapedFileSizeCommitLog=0".
            let written = properties[key.name] != nil ? key.name : (key.legacyName ?? key.name)
            if !key.apply(&self, value) { report.unparsable.append("\(written)=\(value) (expected \(key.accepts))") }
        }
        report.unknownKeys = properties.keys.filter { !used.contains($0) && !knownElsewhere.contains($0) }.sorted()
        return report
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
