// AdminBrokerProcessor: topic and group administration, stats, broker config and queue offset lookups
// (spec remoting.md §9.10, §9.12; broker.md §13). Built over BrokerAdminEnvironment (the tables, the store
// and the registration, not the server or its lifecycle); runs on the admin executor. Changes go through the
// managers, which persist them; topic changes are registered with the NameServers at once.

import NIOCore
import Remoting
import Store

struct AdminBrokerProcessor: RemotingRequestProcessor {
    let broker: any BrokerAdminEnvironment

    static let codes: [RequestCode] = [
        .updateAndCreateTopic, .deleteTopicInBroker, .getAllTopicConfig, RequestCode(351),
        .updateAndCreateSubscriptionGroup, .getAllSubscriptionGroupConfig, .deleteSubscriptionGroup,
        .getSubscriptionGroupConfig, .getBrokerRuntimeInfo, .getTopicStatsInfo, .getConsumeStats, .getBrokerConfig,
        .updateBrokerConfig, .searchOffsetByTimestamp, .getMaxOffset, .getMinOffset, .getEarliestMsgStoretime,
        .lockBatchMQ, .unlockBatchMQ, .getAllConsumerOffset, .getAllDelayOffset, .getBrokerHAStatus,
        .getBrokerEpochCache,
    ]

    func processRequest(_ request: RemotingCommand, channel: RemotingChannel) async throws -> RemotingCommand? {
        do {
            switch request.requestCode {
            case .lockBatchMQ: return try lockBatchMQ(request)
            case .unlockBatchMQ: return try unlockBatchMQ(request)
            case .updateAndCreateTopic: return try updateAndCreateTopic(request)
            case .deleteTopicInBroker: return try deleteTopic(request)
            case .getAllTopicConfig:
                let w = broker.topicConfigManager.wrapper
                return request.makeResponse(.success, header: GetAllTopicConfigResponseHeader(totalTopicNum: Int32(w.topicConfigTable.count)),
                                            body: w.encode())
            case RequestCode(351):
                let h: TopicRequestHeader = try request.decodeHeader()
                guard let c = broker.topicConfigManager.select(h.topic) else {
                    return request.makeResponse(.topicNotExist, remark: "No topic in this broker. topic: \(h.topic)")
                }
                return request.makeResponse(.success, body: c.encode())
            case .updateAndCreateSubscriptionGroup:
                guard let body = request.body else { return request.makeResponse(.invalidParameter, remark: "no body") }
                let c = try SubscriptionGroupConfig.decode(body)
                if let why = TopicValidator.validateGroup(c.groupName) { return request.makeResponse(.invalidParameter, remark: why) }
                broker.subscriptionGroupManager.update(c)
                return request.makeResponse(.success)
            case .getAllSubscriptionGroupConfig:
                return request.makeResponse(.success, body: broker.subscriptionGroupManager.wrapper.encode())
            case .getAllConsumerOffset:
                return request.makeResponse(.success, body: broker.consumerOffsetManager.serializeWrapper.encode())
            case .getBrokerHAStatus:
                return request.makeResponse(.success, body: broker.haRuntimeInfo.encode())
            case .getBrokerEpochCache:
                guard let cache = broker.epochEntryCache else {
                    // Java's answer on a broker outside controller mode.
                    return request.makeResponse(.systemError, remark: "this request only for controllerMode ")
                }
                return request.makeResponse(.success, body: cache.encode())
            case .getAllDelayOffset:
                return request.makeResponse(.success, body: ByteBuffer(string: broker.delayOffsetJSON))
            case .getSubscriptionGroupConfig:
                let h: GetSubscriptionGroupConfigRequestHeader = try request.decodeHeader()
                guard let c = broker.subscriptionGroupManager.find(h.group) else {
                    return request.makeResponse(.subscriptionGroupNotExist, remark: "No group in this broker")
                }
                return request.makeResponse(.success, body: c.encode())
            case .deleteSubscriptionGroup:
                let h: DeleteSubscriptionGroupRequestHeader = try request.decodeHeader()
                broker.subscriptionGroupManager.delete(h.groupName)
                if h.cleanOffset { broker.consumerOffsetManager.removeGroup(h.groupName) }
                broker.stats.groupGetNums.remove(group: h.groupName)
                return request.makeResponse(.success)
            case .getBrokerRuntimeInfo: return request.makeResponse(.success, body: runtimeInfo().encode())
            case .getTopicStatsInfo: return try topicStats(request)
            case .getConsumeStats: return try consumeStats(request)
            case .getBrokerConfig:
                let text = broker.allConfigLines.joined(separator: "\n") + "\n"
                let version = broker.topicConfigManager.dataVersion.jsonText()
                return request.makeResponse(.success, header: GetBrokerConfigResponseHeader(version: version),
                                            body: ByteBuffer(string: text))
            case .updateBrokerConfig: return await updateBrokerConfig(request)
            case .searchOffsetByTimestamp:
                let h: SearchOffsetRequestHeader = try request.decodeHeader()
                let boundary: OffsetBoundary = h.boundaryType?.uppercased() == "UPPER" ? .upper : .lower
                let offset = broker.store.offsetInQueue(topic: h.topic, queueId: h.queueId, timestampMs: h.timestamp,
                                                            boundary: boundary)
                return request.makeResponse(.success, header: OffsetResponseHeader(offset: offset))
            case .getMaxOffset:
                let h: TopicQueueRequestHeader = try request.decodeHeader()
                return request.makeResponse(.success, header: OffsetResponseHeader(
                    offset: broker.store.maxOffsetInQueue(topic: h.topic, queueId: h.queueId)))
            case .getMinOffset:
                let h: TopicQueueRequestHeader = try request.decodeHeader()
                return request.makeResponse(.success, header: OffsetResponseHeader(
                    offset: broker.store.minOffsetInQueue(topic: h.topic, queueId: h.queueId)))
            case .getEarliestMsgStoretime:
                let h: TopicQueueRequestHeader = try request.decodeHeader()
                return request.makeResponse(.success, header: TimestampResponseHeader(
                    timestamp: broker.store.earliestMessageTime(topic: h.topic, queueId: h.queueId) ?? -1))
            default:
                return RemotingDispatcher.notSupported(request)
            }
        } catch let error as RemotingError {
            return request.makeResponse(.systemError, remark: "\(error)")
        }
    }

    func updateAndCreateTopic(_ request: RemotingCommand) throws -> RemotingCommand {
        let h: CreateTopicRequestHeader = try request.decodeHeader()
        if let why = TopicValidator.validateTopic(h.topic) { return request.makeResponse(.invalidParameter, remark: why) }
        if TopicValidator.notAllowedSendTopics.contains(h.topic) {
            return request.makeResponse(.invalidParameter, remark: "The topic[\(h.topic)] is conflict with system topic.")
        }
        guard h.readQueueNums > 0, h.writeQueueNums > 0, h.readQueueNums <= 1024, h.writeQueueNums <= 1024 else {
            return request.makeResponse(.invalidParameter, remark: "queue numbers must be within [1, 1024]")
        }
        // Topic attributes (Java 5: AttributeParser, then AttributeUtil.alterCurrentAttributes against the current
        // ones): a wrong format, an unsupported key or value, or an unchangeable attribute refuses the request
        // with the key named and the topic unchanged. Java answers SYSTEM_ERROR from a catch-all; this is a bad
        // parameter, so INVALID_PARAMETER.
        let modification: [String: String]
        do throws(AttributeFormatError) {
            modification = try AttributeParser.parseToMap(h.attributes)
        } catch {
            return request.makeResponse(.invalidParameter, remark: error.description)
        }
        if !broker.brokerConfig.enableMixedMessageType, modification["+" + TopicAttributes.messageType.name] == "MIXED" {
            return request.makeResponse(.invalidParameter, remark: "MIXED message type is not supported.")
        }
        do throws(TopicAttributeError) {
            try broker.topicConfigManager.updateTopicConfig(TopicConfig(
                topicName: h.topic, readQueueNums: h.readQueueNums, writeQueueNums: h.writeQueueNums, perm: h.perm,
                topicFilterType: h.topicFilterType, topicSysFlag: h.topicSysFlag ?? 0, order: h.order),
                attributeModification: modification)
        } catch {
            return request.makeResponse(.invalidParameter, remark: error.description)
        }
        broker.registerBrokerAllSoon()
        return request.makeResponse(.success)
    }

    func deleteTopic(_ request: RemotingCommand) throws -> RemotingCommand {
        let h: DeleteTopicRequestHeader = try request.decodeHeader()
        if let why = TopicValidator.validateTopic(h.topic) { return request.makeResponse(.invalidParameter, remark: why) }
        broker.topicConfigManager.deleteTopicConfig(h.topic)
        broker.consumerOffsetManager.removeTopic(h.topic)
        broker.store.deleteTopics([h.topic])
        broker.stats.groupGetNums.remove(topic: h.topic)
        broker.registerBrokerAllSoon()
        return request.makeResponse(.success)
    }

    func topicStats(_ request: RemotingCommand) throws -> RemotingCommand {
        let h: TopicRequestHeader = try request.decodeHeader()
        guard let c = broker.topicConfigManager.select(h.topic) else {
            return request.makeResponse(.topicNotExist, remark: "topic[\(h.topic)] not exist")
        }
        let store = broker.store
        var table = TopicStatsTable()
        for q in 0..<max(c.readQueueNums, c.writeQueueNums) {
            let maxOffset = store.maxOffsetInQueue(topic: h.topic, queueId: q)
            let last = maxOffset > 0 ? store.messageStoreTime(topic: h.topic, queueId: q, queueOffset: maxOffset - 1) ?? 0 : 0
            table.offsetTable[MessageQueue(topic: h.topic, brokerName: broker.brokerConfig.brokerName, queueId: q)] =
                TopicOffset(minOffset: store.minOffsetInQueue(topic: h.topic, queueId: q), maxOffset: maxOffset,
                            lastUpdateTimestamp: last)
        }
        return request.makeResponse(.success, body: table.encode())
    }

    func consumeStats(_ request: RemotingCommand) throws -> RemotingCommand {
        let h: GetConsumeStatsRequestHeader = try request.decodeHeader()
        let topics = consumeStatsTopics(h)
        let now = nowMs()
        let store = broker.store
        let offsets = broker.consumerOffsetManager
        var stats = ConsumeStats()
        for topic in topics {
            guard let c = broker.topicConfigManager.select(topic) else { continue }
            for q in 0..<c.readQueueNums {
                let brokerOffset = store.maxOffsetInQueue(topic: topic, queueId: q)
                let consumerOffset = max(0, offsets.queryOffset(group: h.consumerGroup, topic: topic, queueId: q) ?? 0)
                let pull = max(consumerOffset, offsets.pullOffset(group: h.consumerGroup, topic: topic, queueId: q) ?? 0)
                let last = consumerOffset > 0
                    ? store.messageStoreTime(topic: topic, queueId: q, queueOffset: consumerOffset - 1) ?? 0 : 0
                stats.offsetTable[MessageQueue(topic: topic, brokerName: broker.brokerConfig.brokerName, queueId: q)] =
                    OffsetWrapper(brokerOffset: brokerOffset, consumerOffset: consumerOffset, pullOffset: pull, lastTimestamp: last)
            }
            stats.consumeTps += broker.stats.groupGetNums.tps(group: h.consumerGroup, topic: topic, nowMs: now)
        }
        return request.makeResponse(.success, body: stats.encode())
    }

    /// Java's getTopicsForCollectingConsumeStats: the listed topics as given; else the requested topic, or
    /// every topic the group has committed offsets for (its `%RETRY%` topic among them once it committed
    /// there); then, while the group is online, only the topics it subscribes to (a clustering consumer
    /// subscribes to its `%RETRY%` topic, so that stays; a topic it stopped consuming goes).
    func consumeStatsTopics(_ h: GetConsumeStatsRequestHeader) -> Set<String> {
        if !h.topicList.isEmpty { return Set(h.topicList) }
        var topics: Set<String> = h.topic.map { [$0] } ?? Set(broker.consumerOffsetManager.topics(ofGroup: h.consumerGroup))
        if let subscriptions = broker.consumerManager.groupInfo(h.consumerGroup)?.subscriptions, !subscriptions.isEmpty {
            topics = topics.filter { subscriptions[$0] != nil }
        }
        return topics
    }

    func runtimeInfo() -> KVTable {
        let s = broker.stats
        let store = broker.store
        let uptimeS = max(1, Double(nowMs() - s.bootTimestampMs) / 1000)
        let putTps = String(format: "%.2f", Double(s.putMessagesTotal) / uptimeS)
        let getTps = String(format: "%.2f", Double(s.getMessagesTotal) / uptimeS)
        let table: [String: String] = [
            "brokerVersionDesc": "V5_3_3", "brokerVersion": String(MQVersion.current), "brokerActive": "true",
            "bootTimestamp": String(s.bootTimestampMs),
            "msgPutTotalTodayNow": String(s.putMessagesTotal), "msgGetTotalTodayNow": String(s.getMessagesTotal),
            "msgPutTotalTodayMorning": "0", "msgGetTotalTodayMorning": "0", "msgPutTotalYesterdayMorning": "0",
            "msgGetTotalYesterdayMorning": "0", "putMessageSizeTotal": String(s.putBytesTotal),
            "putMessageTimesTotal": String(s.putMessagesTotal),
            "putTps": "\(putTps) \(putTps) \(putTps)", "getTransferredTps": "\(getTps) \(getTps) \(getTps)",
            "getFoundTps": "\(getTps) \(getTps) \(getTps)",
            "commitLogMinOffset": String(store.minPhysicalOffset), "commitLogMaxOffset": String(store.maxPhysicalOffset),
            "dispatchBehindBytes": String(store.dispatchBehindBytes),
            // Apus, SYNC_FLUSH: fdatasync calls of the group commit and the puts they completed (puts per sync).
            "groupCommitSyncs": String(store.groupCommitStatistics.syncs),
            "groupCommitRequests": String(store.groupCommitStatistics.requests),
            "earliestMessageTimeStamp": "0", "startAcceptSendRequestTimeStamp": "0",
            "pullRequestsHeld": String(broker.pullRequestsHeld),
            "sendThreadPoolQueueSize": "0", "sendThreadPoolQueueHeadWaitTimeMills": "0",
            "pullThreadPoolQueueSize": "0", "pullThreadPoolQueueHeadWaitTimeMills": "0", "pageCacheLockTimeMills": "0",
            "commitLogDiskRatio": String(MessageStore.diskUsedRatio(path: store.config.storePathRootDir) ?? -1),
            "runtime": "[ \(Int(uptimeS) / 86400) days, \(Int(uptimeS) / 3600 % 24) hours, \(Int(uptimeS) / 60 % 60) minutes, \(Int(uptimeS) % 60) seconds ]",
        ]
        return KVTable(table: table.merging(Self.haRuntimeKeys(broker.haRuntimeInfo)) { a, _ in a })
    }

    /// Replication in brokerStatus (Apus; Java shows it only through haStatus): a master's slaves with their
    /// acknowledged offsets and lag in bytes; a slave's master and its own end.
    static func haRuntimeKeys(_ ha: HARuntimeInfo) -> [String: String] {
        if ha.master {
            var out = ["haConnectedSlaveNum": String(ha.haConnectionInfo.count), "haInSyncSlaveNum": String(ha.inSyncSlaveNums)]
            for (i, c) in ha.haConnectionInfo.enumerated() {
                out["haSlave\(i)"] = "\(c.addr) ackOffset=\(c.slaveAckOffset) behindBytes=\(c.diff) inSync=\(c.inSync)"
            }
            return out
        }
        let c = ha.haClientRuntimeInfo
        // A slave does not know its master's end; the master's lines (or haStatus on it) show the lag.
        return ["haMasterAddress": c.masterAddr, "haSlaveMaxOffset": String(c.maxOffset), "haConnected": String(c.isActivated)]
    }

    func updateBrokerConfig(_ request: RemotingCommand) async -> RemotingCommand {
        let text = String(decoding: request.bodyBytes, as: UTF8.self)
        let props = parseJavaProperties(text)
        if let refusal = broker.applyConfigUpdate(props) {
            broker.logger.warning("broker config update \(props) refused: \(refusal.remark)")
            return request.makeResponse(refusal.code, remark: refusal.remark)
        }
        broker.logger.info("broker config updated: \(props.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })")
        if props["brokerPermission"] != nil {
            // As Java: a new data version (the NameServers ignore queue data whose version they have) and a
            // registration with every NameServer now, so a drained broker's routes lose the write bit at once
            // instead of at the next periodic registration.
            broker.topicConfigManager.nextVersion()
            await broker.registerBrokerAllAndWait()
        }
        return request.makeResponse(.success)
    }
}
