// PopLongPolling: held receives wait here for a message of their topic (the broker's arrival listener
// wakes them, as PullRequestHoldService wakes held pulls) or for their time. A waiter registered just after
// an arrival misses it, so a receive waits at most `recheckMs` at a time and looks again (that also catches
// in-flight messages becoming visible again).

import Store
import Synchronization

final class PopLongPolling: Sendable {
    private struct Waiters {
        var byTopic: [String: [UInt64: CheckedContinuation<Void, Never>]] = [:]
        var nextId: UInt64 = 0
    }
    private let waiters = Mutex(Waiters())
    /// The longest one wait lasts before the receive looks again by itself.
    static let recheckMs: Int64 = 1000

    /// From the dispatcher thread: wakes every receive waiting on the message's topic.
    func arrived(_ a: MessageArrival) {
        let woken = waiters.withLock { w -> [UInt64: CheckedContinuation<Void, Never>]? in
            w.byTopic.isEmpty ? nil : w.byTopic.removeValue(forKey: a.topic)
        }
        woken?.values.forEach { $0.resume() }
    }

    /// Returns when a message of `topic` arrives, or after `ms` (at most recheckMs), whichever is first.
    func wait(topic: String, ms: Int64) async {
        let ms = max(1, min(ms, Self.recheckMs))
        let id = waiters.withLock { w -> UInt64 in
            w.nextId &+= 1
            return w.nextId
        }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            waiters.withLock { $0.byTopic[topic, default: [:]][id] = c }
            Task { [self] in
                try? await Task.sleep(for: .milliseconds(ms))
                self.resume(topic: topic, id: id)
            }
        }
    }

    /// Resumes one waiter if it is still waiting (an arrival may have taken it already).
    private func resume(topic: String, id: UInt64) {
        let c = waiters.withLock { w -> CheckedContinuation<Void, Never>? in
            let c = w.byTopic[topic]?.removeValue(forKey: id)
            if w.byTopic[topic]?.isEmpty == true { w.byTopic[topic] = nil }
            return c
        }
        c?.resume()
    }

    /// At shutdown: every waiter returns now.
    func wakeAll() {
        let all = waiters.withLock { w -> [CheckedContinuation<Void, Never>] in
            let all = w.byTopic.values.flatMap { $0.values }
            w.byTopic = [:]
            return all
        }
        all.forEach { $0.resume() }
    }
}
