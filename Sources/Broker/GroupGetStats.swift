// GroupGetStats: messages pulled per `topic@group` over the last minute, the consume TPS of
// GET_CONSUME_STATS (Java: BrokerStatsManager's GROUP_GET_NUMS item set, read with
// getStatsDataInMinute). The pull processor records each FOUND pull (any executor thread); the broker's
// 10 s job takes snapshots (keeping 7, so the oldest is about a minute old); admin requests read a rate.
//
// Java rates between its first and last snapshot only, so a group that just consumed shows 0 for up to
// 10 s; here the live total stands in for the last snapshot, so the rate counts what was pulled up to the
// request. The span is at least one second, so a burst right after the first pull does not read as a
// rate of thousands per second.

import Synchronization

final class GroupGetStats: Sendable {
    /// Snapshots kept per key (one per sample period): Java's csListMinute keeps 7 at 10 s.
    static let snapshotsMax = 7
    static let samplePeriodMs: Int64 = 10_000

    private struct Item {
        var total: Int64
        /// Oldest first; the first is taken when the key appears, with a total of 0.
        var snapshots: [(timeMs: Int64, total: Int64)]
    }

    private let items = Mutex<[String: Item]>([:])

    private static func key(group: String, topic: String) -> String { topic + "@" + group }

    /// Counts `messages` pulled by `group` from `topic`.
    func record(group: String, topic: String, messages: Int, nowMs: Int64) {
        guard messages > 0 else { return }
        let k = Self.key(group: group, topic: topic)
        items.withLock { table in
            table[k, default: Item(total: 0, snapshots: [(nowMs, 0)])].total += Int64(messages)
        }
    }

    /// One snapshot per key; keys with nothing pulled over the whole window are forgotten.
    func sample(nowMs: Int64) {
        items.withLock { table in
            for (k, var item) in table {
                item.snapshots.append((nowMs, item.total))
                if item.snapshots.count > Self.snapshotsMax { item.snapshots.removeFirst(item.snapshots.count - Self.snapshotsMax) }
                if item.snapshots.count == Self.snapshotsMax, item.snapshots[0].total == item.total {
                    table[k] = nil
                } else {
                    table[k] = item
                }
            }
        }
    }

    /// Messages per second pulled by `group` from `topic` since the oldest snapshot (about a minute).
    func tps(group: String, topic: String, nowMs: Int64) -> Double {
        guard let item = items.withLock({ $0[Self.key(group: group, topic: topic)] }), let first = item.snapshots.first else { return 0 }
        let spanMs = max(1000, nowMs - first.timeMs)
        return Double(item.total - first.total) * 1000 / Double(spanMs)
    }

    /// Drops the keys of a deleted topic or group (Java: onTopicDeleted / onGroupDeleted).
    func remove(topic: String? = nil, group: String? = nil) {
        items.withLock { table in
            table = table.filter { k, _ in
                guard let at = k.lastIndex(of: "@") else { return true }
                if let topic, k[..<at] == topic { return false }
                if let group, k[k.index(after: at)...] == group { return false }
                return true
            }
        }
    }
}
