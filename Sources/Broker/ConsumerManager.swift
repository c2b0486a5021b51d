// ConsumerManager and ProducerManager: which client channels belong to which group, the subscriptions
// consumers declared by heartbeat, and expiry of silent channels (spec broker.md §6). Tables behind mutexes;
// called from processor tasks, the channel-close listener and the controller's expiry task. They report
// which consumer groups changed; the controller sends NOTIFY_CONSUMER_IDS_CHANGED.

import Common
import Remoting
import Synchronization

public struct ClientChannelInfo: Sendable {
    public let channel: RemotingChannel
    public let clientId: String
    public let language: LanguageCode
    public let version: Int32
    public var lastUpdateMs: Int64
}

public struct ConsumerGroupInfo: Sendable {
    public var channels: [RemotingChannel: ClientChannelInfo] = [:]
    public var subscriptions: [String: SubscriptionData] = [:]
    public var consumeType = "CONSUME_PASSIVELY"
    public var messageModel = "CLUSTERING"
    public var consumeFromWhere = "CONSUME_FROM_LAST_OFFSET"

    public var clientIds: [String] { channels.values.map(\.clientId).sorted() }
}

public final class ConsumerManager: Sendable {
    private let groups = Mutex<[String: ConsumerGroupInfo]>([:])

    public init() {}

    /// Registers or refreshes a consumer; true when the group's members or subscriptions changed.
    func register(group: String, client: ClientChannelInfo, data: ConsumerData) -> Bool {
        groups.withLock { table in
            var info = table[group] ?? ConsumerGroupInfo()
            var changed = info.channels[client.channel] == nil
            info.channels[client.channel] = client
            info.consumeType = data.consumeType.name
            info.messageModel = data.messageModel.name
            info.consumeFromWhere = data.consumeFromWhere.name
            var subs: [String: SubscriptionData] = [:]
            for s in data.subscriptionDataSet {
                if let old = info.subscriptions[s.topic], old.subVersion >= s.subVersion, old.subString == s.subString {
                    subs[s.topic] = old
                } else {
                    subs[s.topic] = s
                    changed = changed || info.subscriptions[s.topic]?.subString != s.subString
                }
            }
            if Set(subs.keys) != Set(info.subscriptions.keys) { changed = true }
            info.subscriptions = subs
            table[group] = info
            return changed
        }
    }

    /// Removes one channel from a group; true when it was a member.
    func unregister(group: String, channel: RemotingChannel) -> Bool {
        groups.withLock { table in
            guard var info = table[group], info.channels.removeValue(forKey: channel) != nil else { return false }
            table[group] = info.channels.isEmpty ? nil : info
            return true
        }
    }

    /// Removes a closed channel everywhere; returns the groups it left.
    func channelClosed(_ channel: RemotingChannel) -> [String] {
        groups.withLock { table in
            var left: [String] = []
            for (g, var info) in table where info.channels.removeValue(forKey: channel) != nil {
                left.append(g)
                table[g] = info.channels.isEmpty ? nil : info
            }
            return left
        }
    }

    /// Drops channels silent for longer than `timeoutMs`; returns them with their groups.
    func scanNotActive(nowMs: Int64, timeoutMs: Int64) -> [(group: String, channel: RemotingChannel)] {
        groups.withLock { table in
            var expired: [(String, RemotingChannel)] = []
            for (g, var info) in table {
                for (ch, c) in info.channels where nowMs - c.lastUpdateMs > timeoutMs {
                    info.channels.removeValue(forKey: ch)
                    expired.append((g, ch))
                }
                table[g] = info.channels.isEmpty ? nil : info
            }
            return expired
        }
    }

    public func groupInfo(_ group: String) -> ConsumerGroupInfo? { groups.withLock { $0[group] } }

    public func subscription(group: String, topic: String) -> SubscriptionData? {
        groups.withLock { $0[group]?.subscriptions[topic] }
    }

    public var groupNames: [String] { groups.withLock { Array($0.keys) } }
}

public final class ProducerManager: Sendable {
    private let groups = Mutex<[String: [RemotingChannel: ClientChannelInfo]]>([:])
    /// Round-robin position for transaction checks.
    private let nextChannel = Atomic<Int>(0)

    public init() {}

    func register(group: String, client: ClientChannelInfo) {
        groups.withLock { $0[group, default: [:]][client.channel] = client }
    }

    func unregister(group: String, channel: RemotingChannel) {
        groups.withLock { table in
            table[group]?.removeValue(forKey: channel)
            if table[group]?.isEmpty == true { table[group] = nil }
        }
    }

    func channelClosed(_ channel: RemotingChannel) {
        groups.withLock { table in
            for g in table.keys {
                table[g]?.removeValue(forKey: channel)
                if table[g]?.isEmpty == true { table[g] = nil }
            }
        }
    }

    /// Producer channels idle for more than 120 s (fixed in RocketMQ) are dropped; returns them.
    func scanNotActive(nowMs: Int64, timeoutMs: Int64 = 120_000) -> [RemotingChannel] {
        groups.withLock { table in
            var expired: [RemotingChannel] = []
            for g in table.keys {
                for (ch, c) in table[g] ?? [:] where nowMs - c.lastUpdateMs > timeoutMs {
                    table[g]?.removeValue(forKey: ch)
                    expired.append(ch)
                }
                if table[g]?.isEmpty == true { table[g] = nil }
            }
            return expired
        }
    }

    public func channels(group: String) -> [ClientChannelInfo] { groups.withLock { Array(($0[group] ?? [:]).values) } }

    /// One channel of the group for a transaction check: round-robin over those that are open and
    /// writable, else the last one tried (as RocketMQ's `getAvailableChannel`).
    func availableChannel(group: String) -> RemotingChannel? {
        let list = groups.withLock { ($0[group] ?? [:]).keys.sorted { $0.remoteAddress < $1.remoteAddress } }
        guard !list.isEmpty else { return nil }
        let start = nextChannel.wrappingAdd(1, ordering: .relaxed).oldValue
        for k in 0..<list.count {
            let ch = list[((start &+ k) & Int.max) % list.count]
            if ch.isActive && ch.channel.isWritable { return ch }
        }
        return list[(start & Int.max) % list.count]
    }
}
