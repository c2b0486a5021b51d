// BrokerEnvironment: the broker's tables and services seen through the narrow protocols processors are
// built from (RoutingTables, SendMessageEnvironment), so a processor never holds the whole controller and
// can be built over plain values in a unit test.

import Remoting
import Store

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
