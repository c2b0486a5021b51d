// Subscription-group sub-commands: updateSubGroup, deleteSubGroup (admin.md §7). Registered by MQAdminStartup.

import Admin
import Remoting

enum GroupCommands {
    static let all = [updateSubGroup, deleteSubGroup]

    static let updateSubGroup = SubCommand("updateSubGroup", "Update or create subscription group", [
        OptionSpec("b", "brokerAddr", true, "create subscription group to which broker"),
        OptionSpec("c", "clusterName", true, "create subscription group to which cluster"),
        OptionSpec("g", "groupName", true, "consumer group name", required: true),
        OptionSpec("s", "consumeEnable", true, "consume enable"),
        OptionSpec("m", "consumeFromMinEnable", true, "from min offset"),
        OptionSpec("d", "consumeBroadcastEnable", true, "broadcast"),
        OptionSpec("o", "consumeMessageOrderly", true, "consume message orderly"),
        OptionSpec("q", "retryQueueNums", true, "retry queue nums"),
        OptionSpec("r", "retryMaxTimes", true, "retry max times"),
        OptionSpec("i", "brokerId", true, "consumer from which broker id"),
        OptionSpec("w", "whichBrokerWhenConsumeSlowly", true, "which broker id when consume slowly"),
        OptionSpec("a", "notifyConsumerIdsChanged", true, "notify consumerId changed"),
    ]) { ctx in
        let o = ctx.options
        var c = SubscriptionGroupConfig(groupName: try o.required("g"))
        c.consumeEnable = o.bool("s", default: true)
        c.consumeFromMinEnable = o.bool("m", default: false)
        c.consumeBroadcastEnable = o.bool("d", default: false)
        c.consumeMessageOrderly = o.bool("o", default: false)
        c.retryQueueNums = try o.int32("q", default: 1)
        c.retryMaxTimes = try o.int32("r", default: 16)
        c.brokerId = try o.int64("i", default: 0)
        c.whichBrokerWhenConsumeSlowly = try o.int64("w", default: 1)
        c.notifyConsumerIdsChangedEnable = o.bool("a", default: true)
        let admin = try ctx.admin
        let targets: [String]
        if let b = o.value("b") {
            targets = [b]
        } else if let cluster = o.value("c") {
            targets = try await admin.masterAddrs(ofCluster: cluster)
        } else {
            throw ParseError(description: "Missing one of the options: b, c")
        }
        for addr in targets {
            try await admin.createAndUpdateSubscriptionGroupConfig(brokerAddr: addr, c)
            outln("create subscription group to \(addr) success.")
        }
        out("SubscriptionGroupConfig{groupName=\(c.groupName), consumeEnable=\(c.consumeEnable), consumeFromMinEnable=\(c.consumeFromMinEnable), consumeBroadcastEnable=\(c.consumeBroadcastEnable), consumeMessageOrderly=\(c.consumeMessageOrderly), retryQueueNums=\(c.retryQueueNums), retryMaxTimes=\(c.retryMaxTimes), groupRetryPolicy=GroupRetryPolicy{type=CUSTOMIZED, exponentialRetryPolicy=null, customizedRetryPolicy=null}, brokerId=\(c.brokerId), whichBrokerWhenConsumeSlowly=\(c.whichBrokerWhenConsumeSlowly), notifyConsumerIdsChangedEnable=\(c.notifyConsumerIdsChangedEnable), groupSysFlag=\(c.groupSysFlag), consumeTimeoutMinute=\(c.consumeTimeoutMinute), subscriptionDataSet=null, attributes={}}")
    }

    static let deleteSubGroup = SubCommand("deleteSubGroup", "Delete subscription group from broker.", [
        OptionSpec("b", "brokerAddr", true, "delete subscription group from which broker"),
        OptionSpec("c", "clusterName", true, "delete subscription group from which cluster"),
        OptionSpec("g", "groupName", true, "subscription group name", required: true),
        OptionSpec("r", "removeOffset", true, "remove offset"),
    ]) { ctx in
        let o = ctx.options
        let group = try o.required("g")
        let removeOffset = o.bool("r", default: false)
        let admin = try ctx.admin
        if let addr = o.value("b") {
            try await admin.deleteSubscriptionGroup(brokerAddr: addr, groupName: group, removeOffset: removeOffset)
            outln("delete subscription group [\(group)] from broker [\(addr)] success.")
        } else if let cluster = o.value("c") {
            for addr in try await admin.masterAddrs(ofCluster: cluster) {
                try await admin.deleteSubscriptionGroup(brokerAddr: addr, groupName: group, removeOffset: removeOffset)
                outln("delete subscription group [\(group)] from broker [\(addr)] in cluster [\(cluster)] success.")
            }
            // Also the group's retry and dead-letter topics, in brokers and NameServers.
            let addrs = try await admin.allAddrs(ofCluster: cluster)
            for topic in ["%RETRY%" + group, "%DLQ%" + group] {
                for addr in addrs { try? await admin.deleteTopicInBroker(brokerAddr: addr, topic: topic) }
                try? await admin.deleteTopicInNameServer(topic: topic, clusterName: cluster)
                try? await admin.deleteKVConfig(namespace: "ORDER_TOPIC_CONFIG", key: topic)
            }
        } else {
            throw ParseError(description: "Missing one of the options: b, c")
        }
    }
}
