// ProcessQueue: fetched-but-not-yet-consumed messages of one queue, sorted by queue offset, with count
// and byte totals for flow control; `removeMessages` returns the offset to commit — the smallest offset
// still in flight, or one past the highest ever put (client.md §8.10). Orderly consumption (§8.12) also
// keeps here the broker lock's state, the messages taken by the running consume loop, and whether a loop
// is scheduled. Behind a Mutex; any task.

import Common
import Foundation
import Synchronization

final class ProcessQueue: Sendable {
    private struct State {
        var msgTree: [Int64: MessageExt] = [:]
        var msgSize: Int64 = 0
        var queueOffsetMax: Int64 = -1
        var lastPullTimestamp = Date()
        // Orderly consumption.
        var consumingTree: [Int64: MessageExt] = [:]
        var consuming = false
        var locked = false
        var lastLockTimestampMs: Int64 = 0
        var loopRunning = false
        // Concurrent consumption: listener calls running on this queue's messages.
        var listenerCalls = 0
    }
    /// A lock not renewed for this long is treated as lost (rocketmq.client.rebalance.lockMaxLiveTime).
    static let lockMaxLiveTimeMs: Int64 = 30_000
    private let state = Mutex<State>(State())
    private let droppedFlag = Atomic<Bool>(false)

    var dropped: Bool {
        get { droppedFlag.load(ordering: .acquiring) }
        set { droppedFlag.store(newValue, ordering: .releasing) }
    }

    /// Caches pulled messages; true if an orderly consume loop should be started for them (none is
    /// consuming this queue yet), as Java's `dispatchToConsume`.
    @discardableResult
    func putMessages(_ msgs: [MessageExt]) -> Bool {
        state.withLock { s in
            for m in msgs where s.msgTree[m.queueOffset] == nil {
                s.msgTree[m.queueOffset] = m
                s.msgSize += Int64(m.body.count)
                s.queueOffsetMax = max(s.queueOffsetMax, m.queueOffset)
            }
            guard !s.msgTree.isEmpty, !s.consuming else { return false }
            s.consuming = true
            return true
        }
    }

    // MARK: orderly

    /// The `count` lowest cached messages, moved to the consuming set; empty (and no longer consuming) if
    /// nothing is cached.
    func takeMessages(_ count: Int) -> [MessageExt] {
        state.withLock { s in
            let keys = s.msgTree.keys.sorted().prefix(max(1, count))
            if keys.isEmpty { s.consuming = false; return [] }
            var out: [MessageExt] = []
            for k in keys {
                if let m = s.msgTree.removeValue(forKey: k) { out.append(m); s.consumingTree[k] = m }
            }
            return out
        }
    }

    /// Forgets the consuming set; returns the offset to commit (one past its highest), or -1 if it was empty.
    func commit() -> Int64 {
        state.withLock { s in
            guard let hi = s.consumingTree.keys.max() else { return -1 }
            for m in s.consumingTree.values { s.msgSize -= Int64(m.body.count) }
            s.consumingTree = [:]
            return hi + 1
        }
    }

    /// Puts `msgs` back in front of the cache (with their updated reconsume counts) to be taken again.
    func makeMessagesToConsumeAgain(_ msgs: [MessageExt]) {
        state.withLock { s in
            for m in msgs {
                s.consumingTree[m.queueOffset] = nil
                s.msgTree[m.queueOffset] = m
            }
        }
    }

    var locked: Bool { state.withLock { $0.locked } }

    func setLocked(_ locked: Bool, nowMs: Int64) {
        state.withLock { s in
            s.locked = locked
            if locked { s.lastLockTimestampMs = nowMs }
        }
    }

    func lockExpired(nowMs: Int64) -> Bool { state.withLock { nowMs - $0.lastLockTimestampMs > Self.lockMaxLiveTimeMs } }

    /// Claims the queue's single consume loop; false if one is running (Java's per-queue consume lock).
    func beginConsumeLoop() -> Bool {
        state.withLock { s in
            if s.loopRunning { return false }
            s.loopRunning = true
            return true
        }
    }

    func endConsumeLoop() { state.withLock { $0.loopRunning = false } }

    var consumeLoopRunning: Bool { state.withLock { $0.loopRunning } }

    /// Concurrent consumption: a listener call on this queue's messages begins; false (nothing counted)
    /// once the queue is dropped. The caller checks `dropped` again before committing, after this count
    /// went up, so whoever drops the queue and then waits for `listenerCallsRunning` to reach 0 knows no
    /// offset from before the drop can be committed afterwards (offset reset).
    func beginListenerCall() -> Bool {
        guard !dropped else { return false }
        state.withLock { $0.listenerCalls += 1 }
        return true
    }

    func endListenerCall() { state.withLock { $0.listenerCalls -= 1 } }

    var listenerCallsRunning: Bool { state.withLock { $0.listenerCalls > 0 } }

    /// Cached plus consuming messages (orderly removal waits for them before unlocking).
    var hasCachedMessages: Bool { state.withLock { !$0.msgTree.isEmpty || !$0.consumingTree.isEmpty } }

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
