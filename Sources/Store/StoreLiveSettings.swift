// StoreLiveSettings: the store settings that may change while the store runs (UPDATE_BROKER_CONFIG, as
// Java's Configuration.update sets MessageStoreConfig fields its services read on every round), and the
// one list of which keys those are. Everything else in MessageStoreConfig (paths, file sizes, flush type,
// role, ring sizes, index sizes) shapes objects built in MessageStore.init and changes only with a restart.
//
// Readers: the flush, commit, clean and ConsumeQueue-flush threads take `current` once per round; pulls
// once per request. The put path reads only `osPageCacheBusyTimeOutMs`, an atomic, so a put takes no lock
// for settings. Writers: `update`, from the broker's admin executor, rarely.

import Synchronization

public final class StoreLiveSettings: Sendable {
    /// Keys `update` accepts: the ones a store service reads on each round or request.
    public static let liveKeys: Set<String> = [
        "flushIntervalCommitLog", "flushCommitLogLeastPages", "flushCommitLogThoroughInterval",
        "commitIntervalCommitLog", "commitCommitLogLeastPages", "commitCommitLogThoroughInterval",
        "flushIntervalConsumeQueue",
        "fileReservedTime", "deleteWhen", "diskMaxUsedSpaceRatio", "diskSpaceWarningLevelRatio",
        "diskSpaceCleanForciblyRatio", "cleanFileForciblyEnable", "cleanResourceInterval", "deleteFileBatchMax",
        "maxTransferBytesOnMessageInMemory", "maxTransferCountOnMessageInMemory",
        "maxTransferBytesOnMessageInDisk", "maxTransferCountOnMessageInDisk",
        "accessMessageInMemoryMaxRatio", "maxFilterMessageSize", "osPageCacheBusyTimeOutMills",
    ]

    private let state: Mutex<MessageStoreConfig>
    /// Read by every put (MessageStore.isOSPageCacheBusy); written by `update` after `state`.
    private let pageCacheBusyTimeoutMs: Atomic<Int64>

    init(_ config: MessageStoreConfig) {
        state = Mutex(config)
        pageCacheBusyTimeoutMs = Atomic(config.osPageCacheBusyTimeOutMills)
    }

    /// The settings as they stand (the start-up ones with every accepted update applied).
    public var current: MessageStoreConfig { state.withLock { $0 } }

    var osPageCacheBusyTimeOutMs: Int64 { pageCacheBusyTimeoutMs.load(ordering: .relaxed) }

    /// Whether `name` (or its legacy spelling) is a store key at all.
    public static func isStoreKey(_ name: String) -> Bool { MessageStoreConfig.key(named: name) != nil }

    /// Checks every key and value first; applies all of them, or none when one is refused.
    public func update(_ properties: [String: String]) throws(StoreSettingError) {
        var next = current
        for name in properties.keys.sorted() {
            let raw = (properties[name] ?? "").trimmingWhitespace()
            guard let key = MessageStoreConfig.key(named: name) else { throw .unknownKey(name) }
            guard Self.liveKeys.contains(key.name) else { throw .restartOnly(name) }
            guard key.apply(&next, raw), Self.isSane(key, next) else { throw .badValue(name, raw) }
        }
        let accepted = next
        state.withLock { $0 = accepted }
        pageCacheBusyTimeoutMs.store(accepted.osPageCacheBusyTimeOutMills, ordering: .relaxed)
    }

    /// Bounds a running service needs (a 0 ms interval would spin its thread; a ratio is a percentage;
    /// `deleteWhen` is hours of the day separated by `;`).
    private static func isSane(_ key: MessageStoreConfig.Key, _ c: MessageStoreConfig) -> Bool {
        switch key.name {
        case "deleteWhen":
            let hours = c.deleteWhen.split(separator: ";")
            return !hours.isEmpty && hours.allSatisfy { Int($0.trimmingCharacters()).map { (0...23).contains($0) } ?? false }
        case "diskMaxUsedSpaceRatio": return (0...100).contains(c.diskMaxUsedSpaceRatioPercent)
        case "diskSpaceWarningLevelRatio": return (0...100).contains(c.diskSpaceWarningLevelRatioPercent)
        case "diskSpaceCleanForciblyRatio": return (0...100).contains(c.diskSpaceCleanForciblyRatioPercent)
        case "accessMessageInMemoryMaxRatio": return (0...100).contains(c.accessMessageInMemoryMaxRatioPercent)
        case "fileReservedTime": return c.fileReservedTimeHours >= 0
        case "deleteFileBatchMax": return c.deleteFileBatchMax >= 1
        default:
            switch key.unit {
            case "ms": return c[int64: key.name].map { $0 >= 1 } ?? true
            default: return c[int64: key.name].map { $0 >= 0 } ?? true
            }
        }
    }
}

/// Why `StoreLiveSettings.update` refused a change (nothing was changed).
public enum StoreSettingError: Error, Equatable, Sendable {
    case unknownKey(String)
    /// A store key read only when the store opens.
    case restartOnly(String)
    case badValue(String, String)

    public var key: String {
        switch self { case .unknownKey(let k), .restartOnly(let k), .badValue(let k, _): return k }
    }
}

extension MessageStoreConfig {
    /// The table entry for `name` or its legacy spelling.
    static func key(named name: String) -> Key? {
        keys.first { $0.name == name || $0.legacyName == name }
    }

    /// The Int64 value of a numeric live key, for the sanity check (nil for other keys).
    subscript(int64 name: String) -> Int64? {
        switch name {
        case "flushIntervalCommitLog": return flushIntervalCommitLogMs
        case "flushCommitLogLeastPages": return flushCommitLogLeastPages
        case "flushCommitLogThoroughInterval": return flushCommitLogThoroughIntervalMs
        case "commitIntervalCommitLog": return commitIntervalCommitLogMs
        case "commitCommitLogLeastPages": return commitCommitLogLeastPages
        case "commitCommitLogThoroughInterval": return commitCommitLogThoroughIntervalMs
        case "flushIntervalConsumeQueue": return flushIntervalConsumeQueueMs
        case "cleanResourceInterval": return cleanResourceIntervalMs
        case "maxTransferBytesOnMessageInMemory": return maxTransferBytesOnMessageInMemory
        case "maxTransferCountOnMessageInMemory": return maxTransferCountOnMessageInMemory
        case "maxTransferBytesOnMessageInDisk": return maxTransferBytesOnMessageInDisk
        case "maxTransferCountOnMessageInDisk": return maxTransferCountOnMessageInDisk
        case "maxFilterMessageSize": return maxFilterMessageSizeBytes
        case "osPageCacheBusyTimeOutMills": return osPageCacheBusyTimeOutMills
        default: return nil
        }
    }
}
