// Topic sub-commands: updateTopic, deleteTopic, topicList, topicRoute, topicStatus, topicClusterList
// (admin.md §6). Registered by MQAdminStartup.

import Admin
import Remoting

enum TopicCommands {
    static let updateAndDelete = [updateTopic, deleteTopic]
    static let routeAndStatus = [topicRoute, topicStatus, topicClusterList]

    static let updateTopic = SubCommand("updateTopic", "Update or create topic", [
        OptionSpec("b", "brokerAddr", true, "create topic to which broker"),
        OptionSpec("c", "clusterName", true, "create topic to which cluster"),
        OptionSpec("t", "topic", true, "topic name", required: true),
        OptionSpec("r", "readQueueNums", true, "set read queue nums"),
        OptionSpec("w", "writeQueueNums", true, "set write queue nums"),
        OptionSpec("p", "perm", true, "set topic's permission(2|4|6), intro[2:W 4:R; 6:RW]"),
        OptionSpec("o", "order", true, "set topic's order(true|false)"),
        OptionSpec("u", "unit", true, "is unit topic (true|false)"),
        OptionSpec("s", "hasUnitSub", true, "has unit sub (true|false)"),
        OptionSpec("a", "attributes", true, "attribute(+a=b,+c=d,-e)"),
    ]) { ctx in
        let o = ctx.options
        let perm = try o.int32("p", default: 6)
        guard (0...7).contains(perm) else { throw ParseError(description: "perm must be in [0, 7]: \(perm)") }
        var sysFlag: Int32 = 0
        if o.bool("u", default: false) { sysFlag |= 1 }
        if o.bool("s", default: false) { sysFlag |= 2 }
        // As Java's tool: the modification is checked for its format here, and sent as given (signs kept);
        // the broker checks keys and values against the topic's current attributes.
        let attrText = String(String((o.value("a") ?? "").drop(while: \.isWhitespace).reversed()).drop(while: \.isWhitespace).reversed())
        let modification: [String: String]
        do throws(AttributeFormatError) {
            modification = try AttributeParser.parseToMap(attrText)
        } catch {
            throw MQAdminError.badArgument(error.description)
        }
        let attrs = attrText.isEmpty ? [] : attrText.split(separator: ",").map { item -> (String, String) in
            let kv = item.split(separator: "=", maxSplits: 1)
            return (String(kv[0]), kv.count > 1 ? String(kv[1]) : "")
        }
        let config = TopicConfig(topicName: try o.required("t"), readQueueNums: try o.int32("r", default: 8),
                                 writeQueueNums: try o.int32("w", default: 8), perm: perm, topicFilterType: "SINGLE_TAG",
                                 topicSysFlag: sysFlag, order: o.bool("o", default: false),
                                 attributes: modification)
        let admin = try ctx.admin
        let configLine = "TopicConfig [topicName=\(config.topicName), readQueueNums=\(config.readQueueNums), writeQueueNums=\(config.writeQueueNums), perm=\(permText(config.perm)), topicFilterType=SINGLE_TAG, topicSysFlag=\(sysFlag), order=\(config.order), attributes=\(javaMap(attrs))]"
        if let addr = o.value("b") {
            try await admin.createAndUpdateTopicConfig(brokerAddr: addr, config)
            if config.order {
                let info = try await admin.examineBrokerClusterInfo()
                let name = info.brokerAddrTable.values.first { $0.brokerAddrs.values.contains(addr) }?.brokerName ?? addr
                var entries = ((try? await admin.getKVConfig(namespace: "ORDER_TOPIC_CONFIG", key: config.topicName)) ?? nil)?
                    .split(separator: ";").map(String.init).filter { !$0.hasPrefix(name + ":") } ?? []
                entries.append("\(name):\(config.writeQueueNums)")
                let value = entries.joined(separator: ";")
                try await admin.putKVConfig(namespace: "ORDER_TOPIC_CONFIG", key: config.topicName, value: value)
                outln("set broker orderConf. isOrder=true, orderConf=[\(value)]")
            }
            outln("create topic to \(addr) success.")
            outln(configLine)
        } else if let cluster = o.value("c") {
            for addr in try await admin.masterAddrs(ofCluster: cluster) {
                try await admin.createAndUpdateTopicConfig(brokerAddr: addr, config)
                outln("create topic to \(addr) success.")
            }
            if config.order {
                let info = try await admin.examineBrokerClusterInfo()
                let value = (info.clusterAddrTable[cluster] ?? []).sorted().map { "\($0):\(config.writeQueueNums)" }
                    .joined(separator: ";")
                try await admin.putKVConfig(namespace: "ORDER_TOPIC_CONFIG", key: config.topicName, value: value)
                outln("set cluster orderConf. isOrder=true, orderConf=[\(value)]")
            }
            outln(configLine)
        } else {
            throw ParseError(description: "Missing one of the options: b, c")
        }
    }

    static let deleteTopic = SubCommand("deleteTopic", "Delete topic from broker and NameServer.", [
        OptionSpec("t", "topic", true, "topic name", required: true),
        OptionSpec("c", "clusterName", true, "delete topic from which cluster", required: true),
    ]) { ctx in
        let topic = try ctx.options.required("t")
        let cluster = try ctx.options.required("c")
        let admin = try ctx.admin
        for addr in try await admin.masterAddrs(ofCluster: cluster) {
            try await admin.deleteTopicInBroker(brokerAddr: addr, topic: topic)
        }
        outln("delete topic [\(topic)] from cluster [\(cluster)] success.")
        try await admin.deleteTopicInNameServer(topic: topic, clusterName: cluster)
        outln("delete topic [\(topic)] from NameServer success.")
    }

    static let topicList = SubCommand("topicList", "Fetch all topic list from name server", [
        OptionSpec("c", "clusterModel", false, "clusterModel"),
    ]) { ctx in
        let admin = try ctx.admin
        let topics = try await admin.fetchAllTopicList()
        guard ctx.options.has("c") else {
            for t in topics.sorted() { outln(t) }
            return
        }
        let info = try await admin.examineBrokerClusterInfo()
        outln(l("#Cluster Name", 20) + "  " + l("#Topic", 48) + "  " + l("#Consumer Group", 48))
        for t in topics.sorted() where !t.hasPrefix("%RETRY%") && !t.hasPrefix("%DLQ%") {
            var cluster = ""
            if let route = try? await admin.examineTopicRouteInfo(t), let first = route.brokerDatas.first?.brokerName {
                cluster = info.clusterAddrTable.first { $0.value.contains(first) }?.key ?? ""
            }
            // QUERY_TOPIC_CONSUME_BY_WHO is not served by Apus brokers yet: one row with an empty group.
            outln(l(trunc(cluster, 20), 20) + "  " + l(trunc(t, 64), 64) + "  " + l("", 64))
        }
    }

    static let topicRoute = SubCommand("topicRoute", "Examine topic route info", [
        OptionSpec("t", "topic", true, "topic name", required: true),
        OptionSpec("l", "list", false, "Use list format to print data"),
    ]) { ctx in
        let route = try await ctx.admin.examineTopicRouteInfo(try ctx.options.required("t"))
        if ctx.options.has("l") {
            printRouteList(route)
        } else {
            outln(RoutePrettyJSON.text(route))
        }
    }

    static func printRouteList(_ route: TopicRouteData) {
        let f = { (a: String, b: String, c: String, d: String, e: String, g: String) in
            l(a, 45) + " " + l(b, 32) + " " + l(c, 50) + " " + l(d, 10) + " " + l(e, 11) + " " + l(g, 5)
        }
        outln(f("#ClusterName", "#BrokerName", "#BrokerAddrs", "#ReadQueue", "#WriteQueue", "#Perm"))
        var totalRead: Int64 = 0
        var totalWrite: Int64 = 0
        for b in route.brokerDatas.sorted(by: { $0.brokerName < $1.brokerName }) {
            let q = route.queueDatas.first { $0.brokerName == b.brokerName }
            let addrs = javaMap(b.brokerAddrs.sorted { $0.key < $1.key }.map { (String($0.key), $0.value) })
            totalRead += Int64(q?.readQueueNums ?? 0)
            totalWrite += Int64(q?.writeQueueNums ?? 0)
            outln(f(b.cluster, b.brokerName, addrs, String(q?.readQueueNums ?? 0), String(q?.writeQueueNums ?? 0),
                    String(q?.perm ?? 0)))
        }
        outln(String(repeating: "-", count: 158))
        outln(f("Total:", String(Set(route.brokerDatas.map(\.brokerName)).count), "", String(totalRead), String(totalWrite), ""))
    }

    static let topicStatus = SubCommand("topicStatus", "Examine topic Status info", [
        OptionSpec("t", "topic", true, "topic name", required: true),
        OptionSpec("c", "cluster", true, "cluster name or lmq parent topic, lmq is used to find the route."),
    ]) { ctx in
        let stats = try await ctx.admin.examineTopicStats(topic: try ctx.options.required("t"))
        outln(l("#Broker Name", 32) + "  " + l("#QID", 4) + "  " + l("#Min Offset", 20) + "  " + l("#Max Offset", 20)
              + "    " + "#Last Updated")
        for mq in stats.offsetTable.keys.sorted() {
            guard let o = stats.offsetTable[mq] else { continue }
            let last = o.lastUpdateTimestamp > 0 ? human2(o.lastUpdateTimestamp) : ""
            outln(l(trunc(mq.brokerName, 32), 32) + "  " + l(mq.queueId, 4) + "  " + l(o.minOffset, 20) + "  "
                  + l(o.maxOffset, 20) + "    " + last)
        }
        outln()
        outln("Topic Put TPS: \(javaDouble(stats.topicPutTps))")
    }

    static let topicClusterList = SubCommand("topicClusterList", "Get cluster info for topic", [
        OptionSpec("t", "topic", true, "The topic you want to query", required: true),
    ]) { ctx in
        let admin = try ctx.admin
        let info = try await admin.examineBrokerClusterInfo()
        let route = try await admin.examineTopicRouteInfo(try ctx.options.required("t"))
        guard let first = route.brokerDatas.first?.brokerName else { return }
        for (cluster, names) in info.clusterAddrTable.sorted(by: { $0.key < $1.key }) where names.contains(first) {
            outln(cluster)
        }
    }
}
