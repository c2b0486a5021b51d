// ConsumerOffsetManager: committed consumer offsets, `topic@group` → queueId → next offset, plus the last
// pull offsets (not persisted). Persisted to config/consumerOffset.json by the controller's periodic task
// and at stop (spec broker.md §5). Thread-safe behind a mutex; called from processor tasks.

import Logging
import Remoting
import Synchronization

public final class ConsumerOffsetManager: Sendable {
    struct State {
        var offsets: [String: [Int32: Int64]] = [:]
        var pullOffsets: [String: [Int32: Int64]] = [:]
        var dirty = false
    }
    private let state = Mutex(State())
    private let file: ConfigManager
    private let logger: Logger

    init(path: String, logger: Logger) {
        file = ConfigManager(path: path)
        self.logger = logger
        if let loaded = file.load({ try? ConsumerOffsetSerializeWrapper.decode($0) }) {
            state.withLock { $0.offsets = loaded.offsetTable }
        }
    }

    static func key(topic: String, group: String) -> String { "\(topic)@\(group)" }

    public func commitOffset(group: String, topic: String, queueId: Int32, offset: Int64) {
        state.withLock { s in
            s.offsets[Self.key(topic: topic, group: group), default: [:]][queueId] = offset
            s.dirty = true
        }
    }

    /// The committed offset, or nil (the client then applies ConsumeFromWhere).
    public func queryOffset(group: String, topic: String, queueId: Int32) -> Int64? {
        state.withLock { $0.offsets[Self.key(topic: topic, group: group)]?[queueId] }
    }

    func commitPullOffset(group: String, topic: String, queueId: Int32, offset: Int64) {
        state.withLock { $0.pullOffsets[Self.key(topic: topic, group: group), default: [:]][queueId] = offset }
    }

    func pullOffset(group: String, topic: String, queueId: Int32) -> Int64? {
        state.withLock { $0.pullOffsets[Self.key(topic: topic, group: group)]?[queueId] }
    }

    /// Topics the group has offsets for.
    func topics(ofGroup group: String) -> [String] {
        state.withLock { s in
            s.offsets.keys.compactMap { k in
                guard let at = k.lastIndex(of: "@"), k[k.index(after: at)...] == group else { return nil }
                return String(k[..<at])
            }
        }
    }

    func removeGroup(_ group: String) {
        state.withLock { s in
            for k in s.offsets.keys where k.hasSuffix("@" + group) { s.offsets.removeValue(forKey: k) }
            s.dirty = true
        }
        persist()
    }

    func removeTopic(_ topic: String) {
        state.withLock { s in
            for k in s.offsets.keys where k.hasPrefix(topic + "@") { s.offsets.removeValue(forKey: k) }
            s.dirty = true
        }
    }

    /// Every committed offset, as GET_ALL_CONSUMER_OFFSET answers it.
    var serializeWrapper: ConsumerOffsetSerializeWrapper {
        ConsumerOffsetSerializeWrapper(offsetTable: state.withLock { $0.offsets },
                                       dataVersion: DataVersion(counter: 0, timestamp: nowMs(), stateVersion: 0))
    }

    /// A slave takes its master's table whole (SlaveSynchronize).
    func replaceAll(_ table: [String: [Int32: Int64]]) {
        state.withLock { s in
            s.offsets = table
            s.dirty = true
        }
        persist()
    }

    /// Writes the table if anything changed since the last write (or always when `force`).
    func persist(force: Bool = false) {
        let snapshot: [String: [Int32: Int64]]? = state.withLock { s in
            guard s.dirty || force else { return nil }
            s.dirty = false
            return s.offsets
        }
        guard let snapshot else { return }
        let text = ConsumerOffsetSerializeWrapper(offsetTable: snapshot,
                                                  dataVersion: DataVersion(counter: 0, timestamp: nowMs(), stateVersion: 0))
            .jsonText()
        do { try file.persist(text) } catch { logger.error("persisting \(file.path) failed: \(error)") }
    }
}
