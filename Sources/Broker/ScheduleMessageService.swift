// ScheduleMessageService: delay levels (broker.md §7). A message sent with DELAY=n is stored in
// SCHEDULE_TOPIC_XXXX queue n-1 (`transformDelayLevelMessage`, called by the send paths); the store puts its
// deliver time in the ConsumeQueue unit's tag field. This service walks each level's queue from its saved
// offset every 100 ms, and re-puts every due message to its REAL_TOPIC/REAL_QID as a new record (same body,
// flag, properties minus DELAY, born time/host, reconsumeTimes; WAIT=false). Offsets are persisted to
// config/delayOffset.json every flushDelayOffsetInterval and at stop. Runs as one task on the controller.

import Common
import Logging
import Remoting
import Store
import Synchronization

final class ScheduleMessageService: Sendable {
    static let scheduleTopic = MessageStoreConfig.scheduleTopic
    private let store: MessageStore
    private let levelsMs: [Int64]
    /// Next ConsumeQueue offset to examine, per level (1-based key as in delayOffset.json).
    private let offsets = Mutex<[Int32: Int64]>([:])
    private let file: ConfigManager
    private let logger: Logger

    init(store: MessageStore, path: String, logger: Logger) {
        self.store = store
        self.levelsMs = store.config.delayLevelTableMs
        self.file = ConfigManager(path: path)
        self.logger = logger
        // {"offsetTable":{1:17,2:0}} (fastjson bare numeric keys; 4.x files have no dataVersion).
        let loaded: [Int32: Int64]? = file.load { Self.parseOffsetTable($0) }
        offsets.withLock { $0 = loaded ?? [:] }
    }

    /// The delayOffset.json text: `{"offsetTable":{1:17,2:0}}`, also GET_ALL_DELAY_OFFSET's body.
    static func parseOffsetTable(_ text: String) -> [Int32: Int64]? {
        guard let table = (try? JSONValue.parse(text))?["offsetTable"]?.objectValue else { return nil }
        var out: [Int32: Int64] = [:]
        for (key, value) in table.members {
            if let level = key.text.flatMap({ Int32($0) }), let offset = value.int64Value { out[level] = offset }
        }
        return out
    }

    /// A slave takes its master's delay offsets (SlaveSynchronize).
    func replaceOffsets(_ table: [Int32: Int64]) {
        offsets.withLock { $0 = table }
        persist()
    }

    var maxLevel: Int32 { Int32(levelsMs.count) }

    /// Rewrites a message with DELAY > 0 for the schedule topic: REAL_TOPIC/REAL_QID added, level capped.
    /// Returns the new topic and queue, or nil when the message is not delayed.
    static func transformDelayLevelMessage(topic: String, queueId: Int32, properties: inout String, sysFlag: Int32,
                                           maxLevel: Int32) -> (topic: String, queueId: Int32)? {
        let tx = sysFlag & 0xC
        guard tx == 0 || tx == 0x8, maxLevel > 0 else { return nil }
        // Most sends carry no DELAY: look it up without decoding every pair.
        guard MessageProperties.value(of: MessageProperties.delayTimeLevel, in: properties) != nil else { return nil }
        let decoded = MessageProperties.decode(properties)
        guard let level = decoded[MessageProperties.delayTimeLevel].flatMap({ Int32($0) }), level > 0 else { return nil }
        let capped = min(level, maxLevel)
        var pairs = decoded.filter { $0.key != MessageProperties.delayTimeLevel }.map { ($0.key, $0.value) }
        pairs.append((MessageProperties.delayTimeLevel, String(capped)))
        if decoded[MessageProperties.realTopic] == nil { pairs.append((MessageProperties.realTopic, topic)) }
        if decoded[MessageProperties.realQueueId] == nil { pairs.append((MessageProperties.realQueueId, String(queueId))) }
        properties = MessageProperties.encode(pairs)
        return (scheduleTopic, capped - 1)
    }

    /// One pass over every level: delivers what is due. Returns the number of messages delivered.
    @discardableResult
    func deliverDue(nowMs: Int64) async -> Int {
        var delivered = 0
        for level in 1...max(1, maxLevel) where level <= maxLevel {
            let queueId = level - 1
            let minOffset = store.minOffsetInQueue(topic: Self.scheduleTopic, queueId: queueId)
            let maxOffset = store.maxOffsetInQueue(topic: Self.scheduleTopic, queueId: queueId)
            var offset = min(max(offsets.withLock { $0[level] ?? 0 }, minOffset), maxOffset)
            while offset < maxOffset {
                guard let unit = store.consumeQueueUnit(topic: Self.scheduleTopic, queueId: queueId, queueOffset: offset) else { break }
                let delayMs = levelsMs[Int(level) - 1]
                // A deliver time further out than the level's delay means the clock went back: deliver now.
                let due = unit.tagsCode > nowMs + delayMs ? nowMs : unit.tagsCode
                if due > nowMs { break }
                guard let record = store.lookMessage(physicalOffset: unit.physicalOffset, size: Int(unit.size)),
                      let message = StoredMessage(record) else {
                    offset += 1 // the record is gone (retention): skip it
                    continue
                }
                if let out = Self.messageToDeliver(message) {
                    let result = await store.putMessage(out)
                    guard result.isStored else {
                        logger.warning("delayed message redelivery failed (\(result.status.rawValue)); retrying", metadata: ["topic": "\(out.topic)"])
                        break
                    }
                    delivered += 1
                }
                offset += 1
            }
            offsets.withLock { $0[level] = offset }
        }
        return delivered
    }

    /// The message to put back to its real topic, or nil if it has none (or it was a half message).
    static func messageToDeliver(_ m: StoredMessage) -> MessageToStore? {
        guard let plan = MessageRouter.routeRestored(MessageProperties.decode(m.properties), .delayedDelivery) else { return nil }
        return MessageToStore(topic: plan.topic, queueId: plan.queueId, body: m.body, properties: plan.properties,
                              flag: m.flag, sysFlag: m.sysFlag, bornTimestampMs: m.bornTimestampMs, bornHost: m.bornHost,
                              reconsumeTimes: m.reconsumeTimes, preparedTransactionOffset: m.preparedTransactionOffset)
    }

    /// Writes config/delayOffset.json.
    func persist() {
        do {
            try file.persist(offsetTableJSON)
        } catch {
            logger.error("cannot write \(file.path): \(error)")
        }
    }

    var offsetTableJSON: String {
        let table = offsets.withLock { $0 }
        var w = JSONWriter(style: .fastjson)
        w.beginObject()
        w.key("offsetTable")
        w.beginObject()
        for (level, offset) in table.sorted(by: { $0.key < $1.key }) {
            w.numericKey(Int64(level))
            w.value(offset)
        }
        w.endObject()
        w.endObject()
        return w.text
    }

    var offsetTable: [Int32: Int64] { offsets.withLock { $0 } }
}
