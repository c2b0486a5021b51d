// ProcessQueue: fetched-but-not-yet-consumed messages of one queue, sorted by queue offset, with count
// and byte totals for flow control; `removeMessages` returns the offset to commit — the smallest offset
// still in flight, or one past the highest ever put (client.md §8.10). Behind a Mutex; any task.

import Foundation
import Synchronization

final class ProcessQueue: Sendable {
    private struct State {
        var msgTree: [Int64: MessageExt] = [:]
        var msgSize: Int64 = 0
        var queueOffsetMax: Int64 = -1
        var lastPullTimestamp = Date()
    }
    private let state = Mutex<State>(State())
    private let droppedFlag = Atomic<Bool>(false)

    var dropped: Bool {
        get { droppedFlag.load(ordering: .acquiring) }
        set { droppedFlag.store(newValue, ordering: .releasing) }
    }

    func putMessages(_ msgs: [MessageExt]) {
        state.withLock { s in
            for m in msgs where s.msgTree[m.queueOffset] == nil {
                s.msgTree[m.queueOffset] = m
                s.msgSize += Int64(m.body.count)
                s.queueOffsetMax = max(s.queueOffsetMax, m.queueOffset)
            }
        }
    }

    /// Removes consumed messages; returns the offset to commit, or -1 if the queue was already empty.
    func removeMessages(_ msgs: [MessageExt]) -> Int64 {
        state.withLock { s in
            guard !s.msgTree.isEmpty else { return -1 }
            for m in msgs {
                if let old = s.msgTree.removeValue(forKey: m.queueOffset) { s.msgSize -= Int64(old.body.count) }
            }
            return s.msgTree.keys.min() ?? s.queueOffsetMax + 1
        }
    }

    var messageCount: Int { state.withLock { $0.msgTree.count } }
    var messageBytes: Int64 { state.withLock { $0.msgSize } }
    /// Largest minus smallest cached offset.
    var maxSpan: Int64 {
        state.withLock { s in
            guard let lo = s.msgTree.keys.min(), let hi = s.msgTree.keys.max() else { return 0 }
            return hi - lo
        }
    }
    func contains(_ offset: Int64) -> Bool { state.withLock { $0.msgTree[offset] != nil } }
    func clear() { state.withLock { $0.msgTree = [:]; $0.msgSize = 0 } }
    func markPulled() { state.withLock { $0.lastPullTimestamp = Date() } }
    var idleSeconds: TimeInterval { state.withLock { Date().timeIntervalSince($0.lastPullTimestamp) } }
}
