// MQAdmin broker operations: topics and groups, runtime stats and config, topic/consume stats,
// connections, offsets and reset-by-time (admin.md §6–§9). Called by `mqadmin` sub-commands; any task.

import NIOCore
import Remoting

extension MQAdmin {
    /// UPDATE_AND_CREATE_TOPIC (17).
    public func createAndUpdateTopicConfig(brokerAddr: String, _ c: TopicConfig) async throws {
        // Keys already signed (`+k`, `-k`: mqadmin's -a, a modification) go as they are; plain keys are added.
        var modification: [String: String] = [:]
        for (k, v) in c.attributes { modification[k.hasPrefix("+") || k.hasPrefix("-") ? k : "+" + k] = v }
        let attrs = AttributeParser.parseToString(modification)
        let h = CreateTopicRequestHeader(topic: c.topicName, readQueueNums: c.readQueueNums, writeQueueNums: c.writeQueueNums,
                                         perm: c.perm, topicFilterType: c.topicFilterType, topicSysFlag: c.topicSysFlag,
                                         order: c.order, attributes: attrs.isEmpty ? nil : attrs)
        _ = try await invoke(brokerAddr, .request(.updateAndCreateTopic, header: h))
    }

    /// DELETE_TOPIC_IN_BROKER (215).
    public func deleteTopicInBroker(brokerAddr: String, topic: String) async throws {
        _ = try await invoke(brokerAddr, .request(.deleteTopicInBroker, header: TopicRequestHeader(topic: topic)))
    }

    /// UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200).
    public func createAndUpdateSubscriptionGroupConfig(brokerAddr: String, _ c: SubscriptionGroupConfig) async throws {
        _ = try await invoke(brokerAddr, .request(.updateAndCreateSubscriptionGroup, body: c.encode()))
    }

    /// DELETE_SUBSCRIPTIONGROUP (207).
    public func deleteSubscriptionGroup(brokerAddr: String, groupName: String, removeOffset: Bool) async throws {
        _ = try await invoke(brokerAddr, .request(.deleteSubscriptionGroup,
                                                  header: DeleteSubscriptionGroupRequestHeader(groupName: groupName, cleanOffset: removeOffset)))
    }

    /// GET_BROKER_HA_STATUS (907): a master's slaves and their lag, or a slave's HA client.
    public func getBrokerHAStatus(brokerAddr: String) async throws -> HARuntimeInfo {
        try Self.body(HARuntimeInfo.self, try await invoke(brokerAddr, .request(.getBrokerHAStatus)))
    }

    /// GET_BROKER_RUNTIME_INFO (28).
    public func fetchBrokerRuntimeStats(brokerAddr: String) async throws -> [String: String] {
        try Self.body(KVTable.self, try await invoke(brokerAddr, .request(.getBrokerRuntimeInfo))).table
    }

    /// GET_BROKER_CONFIG (26): `key=value` lines in the broker's order.
    public func getBrokerConfig(brokerAddr: String) async throws -> [(key: String, value: String)] {
        let r = try await invoke(brokerAddr, .request(.getBrokerConfig))
        return String(decoding: r.bodyBytes, as: UTF8.self).split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), let eq = line.firstIndex(of: "=") else { return nil }
            return (String(line[..<eq]), String(line[line.index(after: eq)...]))
        }
    }

    /// UPDATE_BROKER_CONFIG (25), body `key=value\n`.
    public func updateBrokerConfig(brokerAddr: String, key: String, value: String) async throws {
        _ = try await invoke(brokerAddr, .request(.updateBrokerConfig, body: ByteBuffer(string: "\(key)=\(value)\n")))
    }

    /// GET_TOPIC_STATS_INFO (202) to every broker of the topic's route (master preferred), merged.
    public func examineTopicStats(topic: String) async throws -> TopicStatsTable {
        let route = try await examineTopicRouteInfo(topic)
        var merged = TopicStatsTable()
        for b in route.brokerDatas {
            guard let addr = Self.selectBrokerAddr(b) else { continue }
            let r = try await invoke(addr, .request(.getTopicStatsInfo, header: TopicRequestHeader(topic: topic)))
            let t = try Self.body(TopicStatsTable.self, r)
            merged.offsetTable.merge(t.offsetTable) { $1 }
        }
        if merged.offsetTable.isEmpty { throw MQAdminError.notFound("Not found the topic stats info") }
        return merged
    }

    /// GET_CONSUME_STATS (208) to every broker of `%RETRY%<group>`'s route (else the topic's), merged.
    public func examineConsumeStats(group: String, topic: String? = nil) async throws -> ConsumeStats {
        var route: TopicRouteData
        do {
            route = try await examineTopicRouteInfo("%RETRY%" + group)
        } catch let e as MQAdminError where topic != nil && e.responseCode == .topicNotExist {
            route = try await examineTopicRouteInfo(topic ?? "")
        }
        var merged = ConsumeStats()
        for b in route.brokerDatas {
            guard let addr = Self.selectBrokerAddr(b) else { continue }
            let r = try await invoke(addr, .request(.getConsumeStats, header: GetConsumeStatsRequestHeader(consumerGroup: group, topic: topic)),
                                     timeoutMs: timeoutMs * 3)
            let s = try Self.body(ConsumeStats.self, r)
            merged.offsetTable.merge(s.offsetTable) { $1 }
            merged.consumeTps += s.consumeTps
        }
        if merged.offsetTable.isEmpty {
            // RocketMQ asks for connections to tell "offline" from "no offsets".
            _ = try await examineConsumerConnectionInfo(group: group)
            throw MQAdminError.notFound("Not found the consumer group consume stats, because return offset table is empty, maybe the consumer not consume any message")
        }
        return merged
    }

    /// GET_CONSUMER_CONNECTION_LIST (203) to a broker of `%RETRY%<group>`'s route, or to `brokerAddr`.
    public func examineConsumerConnectionInfo(group: String, brokerAddr: String? = nil) async throws -> ConsumerConnection {
        let addr: String
        if let brokerAddr {
            addr = brokerAddr
        } else {
            let route = try await examineTopicRouteInfo("%RETRY%" + group)
            guard let a = route.brokerDatas.compactMap(Self.selectBrokerAddr).randomElement() else {
                throw MQAdminError.notFound("Not found the consumer group connection")
            }
            addr = a
        }
        let r = try await invoke(addr, .request(.getConsumerConnectionList, header: ConsumerGroupRequestHeader(consumerGroup: group)))
        let c = try Self.body(ConsumerConnection.self, r)
        if c.connectionSet.isEmpty { throw MQAdminError.notFound("Not found the consumer group connection") }
        return c
    }

    /// GET_PRODUCER_CONNECTION_LIST (204) to a broker of the topic's route.
    public func examineProducerConnectionInfo(group: String, topic: String) async throws -> ProducerConnection {
        let route = try await examineTopicRouteInfo(topic)
        guard let addr = route.brokerDatas.compactMap(Self.selectBrokerAddr).randomElement() else {
            throw MQAdminError.notFound("Not found the producer group connection")
        }
        let r = try await invoke(addr, .request(.getProducerConnectionList,
                                                header: GetProducerConnectionListRequestHeader(producerGroup: group)))
        let c = try Self.body(ProducerConnection.self, r)
        if c.connectionSet.isEmpty { throw MQAdminError.notFound("Not found the producer group connection") }
        return c
    }

    // MARK: offsets

    /// SEARCH_OFFSET_BY_TIMESTAMP (29).
    public func searchOffset(brokerAddr: String, topic: String, queueId: Int32, timestamp: Int64) async throws -> Int64 {
        let r = try await invoke(brokerAddr, .request(.searchOffsetByTimestamp,
                                                      header: SearchOffsetRequestHeader(topic: topic, queueId: queueId, timestamp: timestamp)))
        return (try? r.decodeHeader(OffsetResponseHeader.self))?.offset ?? 0
    }

    /// GET_MAX_OFFSET (30) / GET_MIN_OFFSET (31).
    public func queueOffset(_ code: RequestCode, brokerAddr: String, topic: String, queueId: Int32) async throws -> Int64 {
        let r = try await invoke(brokerAddr, .request(code, header: TopicQueueRequestHeader(topic: topic, queueId: queueId)))
        return (try? r.decodeHeader(OffsetResponseHeader.self))?.offset ?? 0
    }

    /// UPDATE_CONSUMER_OFFSET (15).
    public func updateConsumeOffset(brokerAddr: String, group: String, mq: MessageQueue, offset: Int64) async throws {
        _ = try await invoke(brokerAddr, .request(.updateConsumerOffset, header: UpdateConsumerOffsetRequestHeader(
            consumerGroup: group, topic: mq.topic, queueId: mq.queueId, commitOffset: offset)))
    }

    /// INVOKE_BROKER_TO_RESET_OFFSET (222) to every broker of the topic (master preferred); the offsets set.
    /// Throws `.response(206)` when no consumer of the group is online (callers fall back to `resetOffsetByTimestampOld`).
    public func resetOffsetByTimestamp(topic: String, group: String, timestamp: Int64, isForce: Bool) async throws
        -> [MessageQueue: Int64]
    {
        let route = try await examineTopicRouteInfo(topic)
        var table: [MessageQueue: Int64] = [:]
        for b in route.brokerDatas {
            guard let addr = Self.selectBrokerAddr(b) else { continue }
            let r = try await invoke(addr, .request(.invokeBrokerToResetOffset, header: ResetOffsetRequestHeader(
                topic: topic, group: group, timestamp: timestamp, isForce: isForce)))
            if r.body != nil { table.merge(try Self.body(ResetOffsetBody.self, r).offsetTable) { $1 } }
        }
        return table
    }

    /// One row of the offline reset (RocketMQ's `resetOffsetByTimestampOld`).
    public struct RollbackStats: Sendable {
        public var brokerName: String
        public var queueId: Int32
        public var brokerOffset: Int64
        public var consumerOffset: Int64
        public var timestampOffset: Int64
        public var rollbackOffset: Int64
    }

    /// Without online consumers: per queue of the group's consume stats, find the offset for the time and
    /// write it with UPDATE_CONSUMER_OFFSET (admin.md §9.5 old method).
    public func resetOffsetByTimestampOld(group: String, topic: String, timestamp: Int64, force: Bool) async throws
        -> [RollbackStats]
    {
        let route = try await examineTopicRouteInfo(topic)
        var rows: [RollbackStats] = []
        for b in route.brokerDatas {
            guard let addr = Self.selectBrokerAddr(b) else { continue }
            let r = try await invoke(addr, .request(.getConsumeStats, header: GetConsumeStatsRequestHeader(consumerGroup: group, topic: topic)),
                                     timeoutMs: timeoutMs * 3)
            let stats = try Self.body(ConsumeStats.self, r)
            for mq in stats.offsetTable.keys.sorted() where mq.topic == topic {
                guard let w = stats.offsetTable[mq] else { continue }
                let target = timestamp == -1
                    ? try await queueOffset(.getMaxOffset, brokerAddr: addr, topic: topic, queueId: mq.queueId)
                    : try await searchOffset(brokerAddr: addr, topic: topic, queueId: mq.queueId, timestamp: timestamp)
                var row = RollbackStats(brokerName: mq.brokerName, queueId: mq.queueId, brokerOffset: w.brokerOffset,
                                        consumerOffset: w.consumerOffset, timestampOffset: target, rollbackOffset: w.consumerOffset)
                if force || target <= w.consumerOffset {
                    row.rollbackOffset = target
                    try await updateConsumeOffset(brokerAddr: addr, group: group, mq: mq, offset: target)
                }
                rows.append(row)
            }
        }
        return rows
    }
}
