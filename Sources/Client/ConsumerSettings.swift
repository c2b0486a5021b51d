// Consumer vocabulary shared by PushConsumer and LitePullConsumer: message model, where to start,
// listener status and context, and subscription parsing (client.md §8.1, §8.3). Values; any task.

import Common
import Foundation
import Remoting
import Synchronization

public enum ConsumeMessageModel: String, Sendable {
    case clustering = "CLUSTERING"
    case broadcasting = "BROADCASTING"
}

/// Where a queue with no committed offset starts (`ConsumeFromWhere`, client.md §8.7).
public enum ConsumeFromWhereSetting: Sendable, Equatable {
    case lastOffset
    case firstOffset
    /// Epoch milliseconds.
    case timestamp(Int64)

    var wireName: String {
        switch self {
        case .lastOffset: "CONSUME_FROM_LAST_OFFSET"
        case .firstOffset: "CONSUME_FROM_FIRST_OFFSET"
        case .timestamp: "CONSUME_FROM_TIMESTAMP"
        }
    }
}

public enum ConsumeConcurrentlyStatus: String, Sendable {
    case consumeSuccess = "CONSUME_SUCCESS"
    case reconsumeLater = "RECONSUME_LATER"
}

public struct ConsumeConcurrentlyContext: Sendable {
    public let messageQueue: MessageQueue
    /// `ConsumeMessageThread_<group>_<n>`: the worker running the listener.
    public let threadName: String
}

public typealias MessageListenerConcurrently =
    @Sendable (_ messages: [MessageExt], _ context: ConsumeConcurrentlyContext) async -> ConsumeConcurrentlyStatus

/// What an orderly listener answers (client.md §8.12). Java's deprecated COMMIT/ROLLBACK and
/// `autoCommit=false` are not offered: SUCCESS always commits past the batch.
public enum ConsumeOrderlyStatus: String, Sendable {
    case success = "SUCCESS"
    /// Put the messages back and consume them again after the context's suspend time, before anything later
    /// in the queue.
    case suspendCurrentQueueAMoment = "SUSPEND_CURRENT_QUEUE_A_MOMENT"
}

public struct ConsumeOrderlyContext: Sendable {
    public let messageQueue: MessageQueue
    /// How long SUSPEND_CURRENT_QUEUE_A_MOMENT waits; -1 = the consumer's suspendCurrentQueueTimeMillis.
    public var suspendCurrentQueueTimeMillis: Int64 = -1
    public init(messageQueue: MessageQueue) { self.messageQueue = messageQueue }
}

/// An orderly listener sees the messages of one queue one batch at a time, in queue order, never two batches
/// of a queue at once; in clustering only while this client holds the queue's broker lock.
public typealias MessageListenerOrderly =
    @Sendable (_ messages: [MessageExt], _ context: inout ConsumeOrderlyContext) async -> ConsumeOrderlyStatus

/// What a consumer selects (RocketMQ's MessageSelector): a tag expression, or an SQL92 selector over the
/// message properties, served by brokers with `enablePropertyFilter=true` (broker.md §4.2).
public struct MessageSelector: Sendable, Equatable {
    /// "TAG" or "SQL92", as on the wire.
    public let expressionType: String
    public let expression: String

    /// "*" or "TagA || TagB".
    public static func byTag(_ expression: String) -> MessageSelector { MessageSelector(expressionType: "TAG", expression: expression) }
    /// e.g. "a > 5 AND b = 'abc'"; missing properties are null and never match a comparison.
    public static func bySql(_ sql: String) -> MessageSelector { MessageSelector(expressionType: "SQL92", expression: sql) }
}

/// SQL92 selectors next to Common's tag expressions.
extension FilterAPI {
    static func buildSubscriptionData(topic: String, selector: MessageSelector) -> SubscriptionData {
        guard selector.expressionType == "SQL92" else { return buildSubscriptionData(topic: topic, expression: selector.expression) }
        // No tags and no client-side filter: the broker evaluates the selector.
        return SubscriptionData(topic: topic, subString: selector.expression, subVersion: WallClock.nowMs(),
                                expressionType: "SQL92")
    }
}

/// A FIFO drained by a fixed number of worker tasks (the consume "thread pool").
final class WorkQueue<Item: Sendable>: Sendable {
    private struct State {
        var items: [Item] = []
        var head = 0
        var waiters: [CheckedContinuation<Item?, Never>] = []
        var closed = false
    }
    private let state = Mutex<State>(State())

    init() {}

    func push(_ item: Item) {
        let waiter: CheckedContinuation<Item?, Never>? = state.withLock { s in
            guard !s.closed else { return nil }
            if !s.waiters.isEmpty { return s.waiters.removeFirst() }
            s.items.append(item)
            return nil
        }
        waiter?.resume(returning: item)
    }

    func next() async -> Item? {
        await withCheckedContinuation { (c: CheckedContinuation<Item?, Never>) in
            let immediate: Item?? = state.withLock { s in
                if s.head < s.items.count {
                    let it = s.items[s.head]
                    s.head += 1
                    if s.head > 1024 && s.head * 2 > s.items.count { s.items.removeFirst(s.head); s.head = 0 }
                    return .some(it)
                }
                if s.closed { return .some(nil) }
                s.waiters.append(c)
                return nil
            }
            if let immediate { c.resume(returning: immediate) }
        }
    }

    func close() {
        let waiters = state.withLock { s in
            s.closed = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume(returning: nil) }
    }
}
