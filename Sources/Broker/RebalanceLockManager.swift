// RebalanceLockManager: the broker's table of queue locks held by orderly consumers (spec broker.md §10,
// RocketMQ's RebalanceLockManager). A queue is granted to a client if nobody holds it, if that client
// already does (its lock is renewed), or if the holder let it lag past rebalanceLockMaxLiveTime. Only
// in memory, as in RocketMQ: after a restart clients simply lock again. Thread-safe (one Mutex).

import Logging
import Remoting
import Synchronization

final class RebalanceLockManager: Sendable {
    private struct LockEntry {
        var clientId: String
        var lastUpdateMs: Int64
    }

    private let table = Mutex<[String: [MessageQueue: LockEntry]]>([:])
    private let maxLiveTimeMs: Int64
    private let logger: Logger
    private let nowMs: @Sendable () -> Int64

    init(maxLiveTimeMs: Int64, logger: Logger, nowMs: @escaping @Sendable () -> Int64 = { Broker.nowMs() }) {
        self.maxLiveTimeMs = maxLiveTimeMs
        self.logger = logger
        self.nowMs = nowMs
    }

    private func expired(_ e: LockEntry, now: Int64) -> Bool { now - e.lastUpdateMs > maxLiveTimeMs }

    /// The queues of `mqs` that `clientId` holds after this call (granted now or renewed).
    func tryLockBatch(group: String, mqs: Set<MessageQueue>, clientId: String) -> Set<MessageQueue> {
        let now = nowMs()
        var granted = Set<MessageQueue>()
        var takenOver: [(MessageQueue, String)] = []
        var refused: [(MessageQueue, String)] = []
        table.withLock { t in
            var queues = t[group] ?? [:]
            for mq in mqs {
                if let e = queues[mq], e.clientId != clientId, !expired(e, now: now) {
                    refused.append((mq, e.clientId))
                    continue
                }
                if let e = queues[mq], e.clientId != clientId { takenOver.append((mq, e.clientId)) }
                queues[mq] = LockEntry(clientId: clientId, lastUpdateMs: now)
                granted.insert(mq)
            }
            t[group] = queues
        }
        for (mq, old) in takenOver {
            logger.warning("tryLockBatch, message queue lock expired, I got it: group=\(group) \(mq.topic)/\(mq.brokerName)/\(mq.queueId) old=\(old) new=\(clientId)")
        }
        for (mq, holder) in refused {
            logger.info("tryLockBatch, message queue locked by other client: group=\(group) \(mq.topic)/\(mq.brokerName)/\(mq.queueId) holder=\(holder) asking=\(clientId)")
        }
        return granted
    }

    /// Releases the queues of `mqs` that `clientId` holds; others are left alone.
    func unlockBatch(group: String, mqs: Set<MessageQueue>, clientId: String) {
        table.withLock { t in
            guard var queues = t[group] else { return }
            for mq in mqs where queues[mq]?.clientId == clientId { queues[mq] = nil }
            t[group] = queues.isEmpty ? nil : queues
        }
    }

    /// True if no queue of `group` is locked any more (the send path's test for an orderly group's retries).
    func isLockAllExpired(group: String) -> Bool {
        let now = nowMs()
        return table.withLock { t in (t[group] ?? [:]).values.allSatisfy { expired($0, now: now) } }
    }

    /// Who holds `mq` for `group` now, if anyone (tests, diagnostics).
    func holder(group: String, mq: MessageQueue) -> String? {
        let now = nowMs()
        return table.withLock { t in t[group]?[mq].flatMap { expired($0, now: now) ? nil : $0.clientId } }
    }
}
