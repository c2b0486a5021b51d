// SubscriptionGroupManager: consumer group settings — pre-created system groups, auto-creation on heartbeat
// and pull, admin update/delete — persisted to config/subscriptionGroup.json (spec broker.md §6.3).
// Thread-safe behind a mutex; called from processor tasks.

import Logging
import Remoting
import Synchronization

public final class SubscriptionGroupManager: Sendable {
    private let state = Mutex(SubscriptionGroupWrapper())
    private let file: ConfigManager
    private let logger: Logger

    static let systemGroups = [
        "TOOLS_CONSUMER", "FILTERSRV_CONSUMER", "SELF_TEST_C_GROUP", "CID_ONS-HTTP-PROXY", "CID_ONSAPI_PULL",
        "CID_ONSAPI_PERMISSION", "CID_ONSAPI_OWNER", "CID_RMQ_SYS_TRANS",
    ]

    init(path: String, logger: Logger) {
        file = ConfigManager(path: path)
        self.logger = logger
        let loaded = file.load { try? SubscriptionGroupWrapper.decode($0) }
        state.withLock { s in
            if let loaded { s = loaded }
            for g in Self.systemGroups where s.subscriptionGroupTable[g] == nil {
                s.subscriptionGroupTable[g] = SubscriptionGroupConfig(groupName: g)
            }
        }
    }

    /// A slave takes its master's groups whole (SlaveSynchronize).
    func replaceAll(_ wrapper: SubscriptionGroupWrapper) {
        let changed = state.withLock { s -> Bool in
            guard s != wrapper else { return false }
            s = wrapper
            return true
        }
        if changed { persist() }
    }

    public func find(_ group: String) -> SubscriptionGroupConfig? { state.withLock { $0.subscriptionGroupTable[group] } }

    /// The group, auto-created with defaults when allowed and the name is valid.
    func findOrCreate(_ group: String, autoCreate: Bool) -> SubscriptionGroupConfig? {
        if let g = find(group) { return g }
        guard autoCreate, TopicValidator.validateGroup(group) == nil else { return nil }
        let created = state.withLock { s -> SubscriptionGroupConfig in
            if let g = s.subscriptionGroupTable[group] { return g }
            let g = SubscriptionGroupConfig(groupName: group)
            s.subscriptionGroupTable[group] = g
            bump(&s)
            return g
        }
        logger.info("auto-created subscription group \(group)")
        persist()
        return created
    }

    func update(_ config: SubscriptionGroupConfig) {
        state.withLock { s in
            s.subscriptionGroupTable[config.groupName] = config
            bump(&s)
        }
        persist()
    }

    func delete(_ group: String) {
        state.withLock { s in
            s.subscriptionGroupTable.removeValue(forKey: group)
            bump(&s)
        }
        persist()
    }

    public var wrapper: SubscriptionGroupWrapper { state.withLock { $0 } }

    private func bump(_ s: inout SubscriptionGroupWrapper) {
        s.dataVersion = DataVersion(counter: s.dataVersion.counter + 1, timestamp: nowMs(),
                                    stateVersion: s.dataVersion.stateVersion ?? 0)
    }

    func persist() {
        do { try file.persist(wrapper.jsonText()) } catch { logger.error("persisting \(file.path) failed: \(error)") }
    }
}
