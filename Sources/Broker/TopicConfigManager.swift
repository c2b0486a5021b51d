// TopicConfigManager: the broker's topic table — system topics at start, auto-creation from TBW102 on send,
// retry topics on heartbeat, admin create/delete — persisted to config/topics.json after every change
// (spec broker.md §2.2, store.md §11). Thread-safe behind a mutex; called from processor tasks.

import Logging
import Remoting
import Synchronization

public final class TopicConfigManager: Sendable {
    struct State {
        var table: [String: TopicConfig] = [:]
        var dataVersion = DataVersion(counter: 0, timestamp: nowMs(), stateVersion: 0)
    }

    private let state = Mutex(State())
    private let file: ConfigManager
    private let logger: Logger

    init(config: BrokerConfig, path: String, logger: Logger) {
        self.file = ConfigManager(path: path)
        self.logger = logger
        let loaded = file.load { try? TopicConfigSerializeWrapper.decode($0) }
        state.withLock { s in
            if let loaded {
                s.table = loaded.topicConfigTable
                s.dataVersion = loaded.dataVersion
            }
            func system(_ name: String, _ queues: Int32, _ perm: Int32) {
                if s.table[name] == nil {
                    s.table[name] = TopicConfig(topicName: name, readQueueNums: queues, writeQueueNums: queues, perm: perm)
                }
            }
            system(TopicValidator.selfTestTopic, 1, 6)
            if config.autoCreateTopicEnable {
                system(TopicValidator.autoCreateTopicKeyTopic, config.defaultTopicQueueNums, PermName.inherit | 6)
            } else if var tbw = s.table[TopicValidator.autoCreateTopicKeyTopic] {
                tbw.perm = PermName.read | PermName.write
                s.table[TopicValidator.autoCreateTopicKeyTopic] = tbw
            }
            system(TopicValidator.benchmarkTopic, 1024, 6)
            if config.clusterTopicEnable { system(config.brokerClusterName, 16, 6 | PermName.inherit) }
            if config.brokerTopicEnable { system(config.brokerName, 1, 6 | PermName.inherit) }
            system(TopicValidator.offsetMovedEvent, 1, 6)
            system(TopicValidator.scheduleTopic, 18, 6)
        }
    }

    public func select(_ topic: String) -> TopicConfig? { state.withLock { $0.table[topic] } }

    public var dataVersion: DataVersion { state.withLock { $0.dataVersion } }

    public var wrapper: TopicConfigSerializeWrapper {
        state.withLock { TopicConfigSerializeWrapper(topicConfigTable: $0.table, dataVersion: $0.dataVersion) }
    }

    /// A slave takes its master's table whole when its data version differs (SlaveSynchronize); true if so.
    @discardableResult
    func replaceAll(_ wrapper: TopicConfigSerializeWrapper) -> Bool {
        let changed = state.withLock { s -> Bool in
            guard s.dataVersion != wrapper.dataVersion || s.table != wrapper.topicConfigTable else { return false }
            s.table = wrapper.topicConfigTable
            s.dataVersion = wrapper.dataVersion
            return true
        }
        if changed { persist() }
        return changed
    }

    public var topicNames: [String] { state.withLock { Array($0.table.keys) } }

    /// Creates `topic` from the template `defaultTopic` (broker.md §2.2). Returns the config and whether it is new.
    func createTopicInSendMessageMethod(topic: String, defaultTopic: String, clientQueueNums: Int32, topicSysFlag: Int32,
                                        autoCreateTopicEnable: Bool) -> (TopicConfig?, created: Bool)
    {
        let result: (TopicConfig?, Bool) = state.withLock { s in
            if let existing = s.table[topic] { return (existing, false) }
            guard let template = s.table[defaultTopic], PermName.isInherited(template.perm),
                  autoCreateTopicEnable || defaultTopic != TopicValidator.autoCreateTopicKeyTopic
            else { return (nil, false) }
            let queues = max(0, min(clientQueueNums, template.writeQueueNums))
            let c = TopicConfig(topicName: topic, readQueueNums: queues, writeQueueNums: queues,
                                perm: template.perm & ~PermName.inherit, topicFilterType: template.topicFilterType,
                                topicSysFlag: topicSysFlag)
            s.table[topic] = c
            bump(&s)
            return (c, true)
        }
        if result.1 {
            logger.info("auto-created topic \(topic) from \(defaultTopic) with \(result.0?.writeQueueNums ?? 0) queues")
            persist()
        }
        return result
    }

    /// `%RETRY%<group>`-style topics: created with `queueNums` queues and perm 6 if absent.
    func createTopicIfAbsent(_ topic: String, queueNums: Int32, perm: Int32 = 6) -> (TopicConfig, created: Bool) {
        let result: (TopicConfig, Bool) = state.withLock { s in
            if let existing = s.table[topic] { return (existing, false) }
            let c = TopicConfig(topicName: topic, readQueueNums: queueNums, writeQueueNums: queueNums, perm: perm)
            s.table[topic] = c
            bump(&s)
            return (c, true)
        }
        if result.1 { persist() }
        return result
    }

    /// UPDATE_AND_CREATE_TOPIC: replaces or adds the topic. Its attributes are the current ones (none for a
    /// new topic) changed by `attributeModification` (`+key` / `-key`, TopicAttributes.alter), checked and
    /// applied under the table's lock; a refused modification changes nothing.
    func updateTopicConfig(_ config: TopicConfig, attributeModification: [String: String] = [:]) throws(TopicAttributeError) {
        var config = config
        try state.withLock { (s: inout State) throws(TopicAttributeError) in
            let current = s.table[config.topicName]
            config.attributes = try TopicAttributes.alter(current: current?.attributes ?? [:], modification: attributeModification,
                                                          creating: current == nil)
            s.table[config.topicName] = config
            bump(&s)
        }
        logger.info("topic config updated: \(config.lineFormat)")
        persist()
    }

    @discardableResult
    func deleteTopicConfig(_ topic: String) -> Bool {
        let removed = state.withLock { s in
            guard s.table.removeValue(forKey: topic) != nil else { return false }
            bump(&s)
            return true
        }
        if removed { persist() }
        return removed
    }

    /// A new data version with the table unchanged (brokerPermission changed): a NameServer takes a
    /// registration's queue data (and so the masked perm) only when the version moved, as Java's
    /// updateBrokerConfig calls `getDataVersion().nextVersion()`.
    func nextVersion() {
        state.withLock { bump(&$0) }
        persist()
    }

    private func bump(_ s: inout State) {
        s.dataVersion = DataVersion(counter: s.dataVersion.counter + 1, timestamp: nowMs(),
                                    stateVersion: s.dataVersion.stateVersion ?? 0)
    }

    func persist() {
        let text = wrapper.jsonText()
        do { try file.persist(text) } catch { logger.error("persisting \(file.path) failed: \(error)") }
    }
}
