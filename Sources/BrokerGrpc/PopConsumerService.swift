// PopConsumerService: POP consumption for the 5.x SimpleConsumer (RocketMQ's PopMessageProcessor,
// AckMessageProcessor and ChangeInvisibleTimeProcessor, kept in memory). Per (group, topic, queue): the next
// offset never delivered, and the messages delivered but not acked (in flight) with the time they become
// visible again and their delivery attempt. A receive first takes in-flight messages whose invisible time
// passed (attempt + 1), then new ones from the store. The group's committed offset (ConsumerOffsetManager)
// is the lowest in-flight offset, or the next offset when none is in flight: it advances past acked
// messages only, so after a restart every unacked message is delivered again (attempt counts restart at 1).

import Broker
import Common
import Store
import Synchronization

/// One message a receive hands out.
struct PoppedMessage: Sendable {
    var message: StoredMessage
    var handle: ReceiptHandle
    var attempt: Int32
    var invisibleMs: Int64
}

final class PopConsumerService: Sendable {
    struct QueueKey: Hashable, Sendable {
        var group: String
        var topic: String
        var queueId: Int32
    }

    struct InFlight: Sendable {
        var attempt: Int32
        var visibleAtMs: Int64
        var deliverySeq: Int64
    }

    struct QueueState: Sendable {
        var nextOffset: Int64
        var inFlight: [Int64: InFlight] = [:]
        var committed: Int64 { inFlight.keys.min() ?? nextOffset }
    }

    enum AckOutcome: Sendable, Equatable { case acked, invalidHandle }

    /// One queue's state behind its own lock: a receive reading the store for one queue (maybe from disk)
    /// does not hold up the others.
    final class QueueBox: Sendable {
        let state: Mutex<QueueState?> = Mutex(nil)
    }

    private let store: MessageStore
    private let offsets: ConsumerOffsetManager
    private let queues = Mutex<[QueueKey: QueueBox]>([:])
    private let seq = Atomic<Int64>(1)
    /// Most messages one receive returns (the proxy's cap on batch_size).
    static let maxBatch = 32

    init(store: MessageStore, offsets: ConsumerOffsetManager) {
        self.store = store
        self.offsets = offsets
    }

    private func nextSeq() -> Int64 { seq.wrappingAdd(1, ordering: .relaxed).oldValue }

    private func box(_ key: QueueKey, create: Bool) -> QueueBox? {
        queues.withLock { table in
            if let b = table[key] { return b }
            guard create else { return nil }
            let b = QueueBox()
            table[key] = b
            return b
        }
    }

    /// A group's first POP of a queue starts at its committed offset, else at the queue's first message.
    private func initialState(_ key: QueueKey) -> QueueState {
        let committed = offsets.queryOffset(group: key.group, topic: key.topic, queueId: key.queueId)
        let minOffset = store.minOffsetInQueue(topic: key.topic, queueId: key.queueId)
        return QueueState(nextOffset: max(committed ?? minOffset, minOffset))
    }

    /// Up to `maxCount` messages of one queue: expired in-flight ones first, then new ones matching `tags`
    /// (nil: all). Each becomes invisible for `invisibleMs`. `orderly` (a FIFO group, the subscription
    /// group's consumeMessageOrderly): a queue with a message in flight gives nothing until it is acked or
    /// its time passed, and then that message comes again before any later one, as RocketMQ 5's orderly
    /// POP locks a queue.
    func pop(group: String, topic: String, queueId: Int32, maxCount: Int, invisibleMs: Int64, tags: [String]?,
             orderly: Bool = false) -> [PoppedMessage] {
        let key = QueueKey(group: group, topic: topic, queueId: queueId)
        let now = WallClock.nowMs()
        let codes = Set((tags ?? []).map(FilterAPI.javaHashCode))
        guard let box = box(key, create: true) else { return [] }
        return box.state.withLock { stored -> [PoppedMessage] in
            var state = stored ?? initialState(key)
            var out: [PoppedMessage] = []
            if orderly, state.inFlight.values.contains(where: { $0.visibleAtMs > now }) {
                stored = state
                return []
            }
            // Messages whose invisible time passed, lowest offset first, delivered again.
            for offset in state.inFlight.filter({ $0.value.visibleAtMs <= now }).keys.sorted() where out.count < maxCount {
                guard var f = state.inFlight[offset] else { continue }
                let got = store.getMessage(topic: topic, queueId: queueId, offset: offset, maxMsgNums: 1)
                guard let first = got.messages.first, got.queueOffsets.first == offset, let m = StoredMessage(first) else {
                    state.inFlight[offset] = nil  // gone from the store (retention): nothing to deliver again
                    continue
                }
                f.attempt += 1
                f.visibleAtMs = now + invisibleMs
                f.deliverySeq = nextSeq()
                state.inFlight[offset] = f
                out.append(PoppedMessage(message: m, handle: ReceiptHandle(queueId: queueId, queueOffset: offset, deliverySeq: f.deliverySeq),
                                         attempt: f.attempt, invisibleMs: invisibleMs))
            }
            // New messages from the next offset; those the filter skips count as consumed. An orderly queue
            // redelivering gives only what was in flight.
            if out.count < maxCount && !(orderly && !out.isEmpty) {
                let got = store.getMessage(topic: topic, queueId: queueId, offset: state.nextOffset,
                                           maxMsgNums: maxCount - out.count, tagsCodes: codes)
                switch got.status {
                case .found, .noMatchedMessage, .messageWasRemoving, .offsetFoundNull, .offsetTooSmall, .offsetOverflowBadly:
                    for (buffer, offset) in zip(got.messages, got.queueOffsets) {
                        guard let m = StoredMessage(buffer) else { continue }
                        if let tags, !tags.contains(MessageProperties.value(of: MessageProperties.tags, in: m.properties) ?? "") {
                            continue  // a tag whose hash collides with a subscribed one
                        }
                        let f = InFlight(attempt: 1, visibleAtMs: now + invisibleMs, deliverySeq: nextSeq())
                        state.inFlight[offset] = f
                        out.append(PoppedMessage(message: m, handle: ReceiptHandle(queueId: queueId, queueOffset: offset, deliverySeq: f.deliverySeq),
                                                 attempt: 1, invisibleMs: invisibleMs))
                    }
                    if got.nextBeginOffset > state.nextOffset { state.nextOffset = got.nextBeginOffset }
                default:
                    break
                }
            }
            stored = state
            offsets.commitOffset(group: group, topic: topic, queueId: queueId, offset: state.committed)
            return out
        }
    }

    /// Acks one delivery: the message is consumed; the committed offset moves past it if it was the lowest.
    func ack(group: String, topic: String, handle: ReceiptHandle) -> AckOutcome {
        let key = QueueKey(group: group, topic: topic, queueId: handle.queueId)
        guard let box = box(key, create: false) else { return .invalidHandle }
        return box.state.withLock { stored -> AckOutcome in
            guard var state = stored, let f = state.inFlight[handle.queueOffset], f.deliverySeq == handle.deliverySeq else {
                return .invalidHandle
            }
            state.inFlight[handle.queueOffset] = nil
            stored = state
            offsets.commitOffset(group: group, topic: topic, queueId: handle.queueId, offset: state.committed)
            return .acked
        }
    }

    /// Sets a delivery's invisible time to `invisibleMs` from now; returns its new handle, or nil when the
    /// handle is not the message's current delivery.
    func changeInvisibleDuration(group: String, topic: String, handle: ReceiptHandle, invisibleMs: Int64) -> ReceiptHandle? {
        let key = QueueKey(group: group, topic: topic, queueId: handle.queueId)
        guard let box = box(key, create: false) else { return nil }
        return box.state.withLock { stored -> ReceiptHandle? in
            guard var state = stored, var f = state.inFlight[handle.queueOffset], f.deliverySeq == handle.deliverySeq else {
                return nil
            }
            f.visibleAtMs = WallClock.nowMs() + invisibleMs
            f.deliverySeq = nextSeq()
            state.inFlight[handle.queueOffset] = f
            stored = state
            return ReceiptHandle(queueId: handle.queueId, queueOffset: handle.queueOffset, deliverySeq: f.deliverySeq)
        }
    }

    /// The in-flight delivery a handle names (its attempt), for ForwardMessageToDeadLetterQueue.
    func inFlight(group: String, topic: String, handle: ReceiptHandle) -> InFlight? {
        let key = QueueKey(group: group, topic: topic, queueId: handle.queueId)
        return box(key, create: false)?.state.withLock { stored in
            guard let f = stored?.inFlight[handle.queueOffset], f.deliverySeq == handle.deliverySeq else { return nil }
            return f
        }
    }
}
