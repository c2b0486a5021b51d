// BrokerEnvironment: the broker's tables and services seen through the narrow protocols processors are
// built from (RoutingTables, SendMessageEnvironment, PullMessageEnvironment, ...), so a processor never holds the whole controller and
// can be built over plain values in a unit test.

import Logging
import Remoting
import Store

/// The broker's current settings (UPDATE_BROKER_CONFIG may change them between two reads).
protocol BrokerConfigSource: Sendable {
    var brokerConfig: BrokerConfig { get }
}

extension BrokerController: BrokerConfigSource {}

/// Live lookups into the broker's topic, group and lock tables (a class: one reference to pass per send).
final class BrokerRoutingTables: RoutingTables {
    let topics: TopicConfigManager
    let groups: SubscriptionGroupManager
    let locks: RebalanceLockManager

    init(topics: TopicConfigManager, groups: SubscriptionGroupManager, locks: RebalanceLockManager) {
        self.topics = topics
        self.groups = groups
        self.locks = locks
    }

    func topicConfig(_ topic: String) -> TopicConfig? { topics.select(topic) }
    func subscriptionGroup(_ group: String) -> SubscriptionGroupConfig? { groups.find(group) }
    func groupHoldsQueueLocks(_ group: String) -> Bool { !locks.isLockAllExpired(group: group) }
}

/// What sends and send-backs need of a running broker.
struct BrokerSendEnvironment: SendMessageEnvironment {
    let controller: BrokerController

    var routingSettings: RoutingSettings { controller.routingSettings }
    var tables: any RoutingTables { controller.routingTables }
    var messageStore: any MessageStoring { controller.store }
    func makeUniqueKey() -> String { controller.uniqIDSetter.createUniqID() }
    func recordPut(messages: Int, bytes: Int, ok: Bool) { controller.stats.recordPut(messages: messages, bytes: bytes, ok: ok) }

    func create(_ creations: [RouteCreation]) {
        var registerNow = false
        for c in creations {
            switch c {
            case .topicFromTemplate(let topic, let template, let queueNums, let topicSysFlag):
                let c = controller.brokerConfig
                if controller.topicConfigManager.createTopicInSendMessageMethod(
                    topic: topic, defaultTopic: template, clientQueueNums: queueNums, topicSysFlag: topicSysFlag,
                    autoCreateTopicEnable: c.autoCreateTopicEnable).created {
                    registerNow = true
                }
            case .topic(let topic, let queueNums, let perm):
                if controller.topicConfigManager.createTopicIfAbsent(topic, queueNums: queueNums, perm: perm).created {
                    registerNow = true
                }
            case .subscriptionGroup(let group):
                _ = controller.subscriptionGroupManager.findOrCreate(group, autoCreate: true)
            }
        }
        // A new topic is registered at once, so consumers and tools can route to it.
        if registerNow { controller.registerBrokerAllSoon() }
    }
}

/// What pulls need of a running broker.
struct BrokerPullEnvironment: PullMessageEnvironment {
    let controller: BrokerController

    var brokerConfig: BrokerConfig { controller.brokerConfig }
    var logger: Logger { controller.logger }
    func subscriptionGroup(_ name: String, autoCreate: Bool) -> SubscriptionGroupConfig? {
        controller.subscriptionGroupManager.findOrCreate(name, autoCreate: autoCreate)
    }
    func topicConfig(_ topic: String) -> TopicConfig? { controller.topicConfigManager.select(topic) }
    func consumerGroupInfo(_ group: String) -> ConsumerGroupInfo? { controller.consumerManager.groupInfo(group) }
    func compileSQLFilter(_ text: String) -> Result<SQLFilterExpression, SQLFilterExpression.CompileError> {
        controller.sqlFilterCache.compile(text)
    }
    func getMessage(topic: String, queueId: Int32, offset: Int64, maxMsgNums: Int, tagsCodes: Set<Int32>,
                    propertiesFilter: (([String: String]) -> Bool)?) -> GetMessageResult {
        controller.store.getMessage(topic: topic, queueId: queueId, offset: offset, maxMsgNums: maxMsgNums,
                                    tagsCodes: tagsCodes, propertiesFilter: propertiesFilter)
    }
    func commitPullOffset(group: String, topic: String, queueId: Int32, offset: Int64) {
        controller.consumerOffsetManager.commitPullOffset(group: group, topic: topic, queueId: queueId, offset: offset)
    }
    func commitOffset(group: String, topic: String, queueId: Int32, offset: Int64) {
        controller.consumerOffsetManager.commitOffset(group: group, topic: topic, queueId: queueId, offset: offset)
    }
    func suspend(_ request: PullRequest) { controller.pullRequestHoldService.suspend(request) }
    func recordGet(group: String, topic: String, result: GetMessageResult) {
        controller.stats.recordGet(messages: result.messageCount, bytes: result.bufferTotalSize)
        controller.stats.groupGetNums.record(group: group, topic: topic, messages: result.messageCount, nowMs: nowMs())
    }
    func attachBody(_ result: GetMessageResult, to response: inout RemotingCommand, zeroCopy: Bool, thresholdBytes: Int) {
        PullBodyWriter.attach(result, to: &response, zeroCopy: zeroCopy, thresholdBytes: thresholdBytes,
                              coldReads: controller.store.coldReads)
    }
    func executor(for code: RequestCode?) -> RequestExecutor {
        code == .litePullMessage ? controller.executors.litePull : controller.executors.pull
    }
    var isSlave: Bool { controller.store.isSlave }
}

/// What heartbeats and client registration need of a running broker.
struct BrokerClientEnvironment: ClientManageEnvironment {
    let controller: BrokerController

    var brokerConfig: BrokerConfig { controller.brokerConfig }
    var consumers: ConsumerManager { controller.consumerManager }
    var producers: ProducerManager { controller.producerManager }
    func subscriptionGroup(_ name: String, autoCreate: Bool) -> SubscriptionGroupConfig? {
        controller.subscriptionGroupManager.findOrCreate(name, autoCreate: autoCreate)
    }
    func createTopicIfAbsent(_ topic: String, queueNums: Int32) -> Bool {
        controller.topicConfigManager.createTopicIfAbsent(topic, queueNums: queueNums).created
    }
    func notifyConsumerIdsChanged(group: String) { controller.notifyConsumerIdsChanged(group: group) }
    func registerBrokerAllSoon() { controller.registerBrokerAllSoon() }
    func compileSQLFilter(_ text: String) -> Result<SQLFilterExpression, SQLFilterExpression.CompileError> {
        controller.sqlFilterCache.compile(text)
    }
}

/// What administration reaches: the broker's tables, store, stats and settings, and its NameServer
/// registration; not its server, executors or lifecycle.
protocol BrokerAdminEnvironment: BrokerConfigSource {
    var store: MessageStore { get }
    var topicConfigManager: TopicConfigManager { get }
    var subscriptionGroupManager: SubscriptionGroupManager { get }
    var consumerOffsetManager: ConsumerOffsetManager { get }
    var consumerManager: ConsumerManager { get }
    var rebalanceLockManager: RebalanceLockManager { get }
    var stats: BrokerStats { get }
    var logger: Logger { get }
    /// Broker keys then store keys, as `key=value` lines.
    var allConfigLines: [String] { get }
    /// Pulls parked by long polling now.
    var pullRequestsHeld: Int { get }
    /// config/delayOffset.json's text (GET_ALL_DELAY_OFFSET).
    var delayOffsetJSON: String { get }
    /// The replication state (GET_BROKER_HA_STATUS).
    var haRuntimeInfo: HARuntimeInfo { get }
    /// GET_BROKER_EPOCH_CACHE's answer in controller mode; nil outside it.
    var epochEntryCache: EpochEntryCache? { get }
    /// Applies UPDATE_BROKER_CONFIG's properties, or says why none was applied.
    func applyConfigUpdate(_ properties: [String: String]) -> BrokerConfigRefusal?
    func registerBrokerAllSoon()
    func registerBrokerAllAndWait() async
}

extension BrokerController: BrokerAdminEnvironment {
    var pullRequestsHeld: Int { pullRequestHoldService.parkedCount }
    var delayOffsetJSON: String { scheduleMessageService.offsetTableJSON }

    var epochEntryCache: EpochEntryCache? {
        guard let mode = controllerMode else { return nil }
        let c = brokerConfig
        // Each entry ends where the next starts; the last at the CommitLog end (Java's EpochEntry.endOffset).
        let max = store.maxPhysicalOffset
        let entries = mode.epochs.all
        let list = entries.enumerated().map { i, e in
            EpochEntryCache.EpochEntry(epoch: e.epoch, startOffset: e.startOffset,
                                       endOffset: i + 1 < entries.count ? entries[i + 1].startOffset : max)
        }
        return EpochEntryCache(clusterName: c.brokerClusterName, brokerName: c.brokerName, brokerId: mode.controllerBrokerId,
                               epochList: list, maxOffset: max)
    }

    var haRuntimeInfo: HARuntimeInfo {
        let max = store.maxPhysicalOffset
        if let ha = haService, !store.isSlave {
            let fallBehind = store.config.haSlaveFallbehindMaxBytes
            let connections = ha.slaves.map {
                HARuntimeInfo.Connection(addr: $0.remote, slaveAckOffset: $0.ackOffset, diff: $0.lagBytes,
                                         inSync: $0.ackOffset >= 0 && $0.lagBytes < fallBehind,
                                         transferredByteInSecond: $0.transferredByteInSecond, transferFromWhere: $0.transferFromWhere)
            }
            return HARuntimeInfo(master: true, masterCommitLogMaxOffset: max,
                                 inSyncSlaveNums: Int32(connections.filter(\.inSync).count), haConnectionInfo: connections)
        }
        var client = HARuntimeInfo.Client()
        if let c = haClient {
            client.masterAddr = c.master ?? ""
            client.maxOffset = max
            client.isActivated = c.isConnected
            client.lastReadTimestamp = c.lastReadMs
            client.lastWriteTimestamp = c.lastWriteMs
            client.transferredByteInSecond = c.transferredByteInSecond
            client.masterFlushOffset = c.reportedOffset
        }
        return HARuntimeInfo(master: false, masterCommitLogMaxOffset: 0, inSyncSlaveNums: 0, haClientRuntimeInfo: client)
    }
}
