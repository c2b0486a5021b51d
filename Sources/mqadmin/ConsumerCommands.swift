// consumerProgress (lag per queue or per group) and resetOffsetByTime (admin.md §9.1, §9.5).
// Registered by MQAdminStartup.

import Admin
import Remoting

enum ConsumerCommands {
    static let consumerProgress = SubCommand("consumerProgress", "Query consumer's progress, speed", [
        OptionSpec("g", "groupName", true, "consumer group name"),
        OptionSpec("t", "topicName", true, "topic name"),
        OptionSpec("s", "showClientIP", true, "Show Client IP per Queue"),
        OptionSpec("c", "cluster", true, "Cluster name or lmq parent topic, lmq is used to find the route."),
    ]) { ctx in
        let admin = try ctx.admin
        guard let group = ctx.options.value("g") else {
            try await printAllGroups(admin)
            return
        }
        let stats = try await admin.examineConsumeStats(group: group, topic: ctx.options.value("t"))
        let showIP = ctx.options.bool("s", default: false)
        // Queue owners need GET_CONSUMER_RUNNING_INFO relayed to clients, which Apus brokers do not do: `N/A`.
        let owners: [MessageQueue: String] = [:]
        if showIP {
            outln(l("#Topic", 64) + "  " + l("#Broker Name", 32) + "  " + l("#QID", 4) + "  " + l("#Broker Offset", 20) + "  "
                  + l("#Consumer Offset", 20) + "  " + l("#Client IP", 20) + " " + l("#Diff", 20) + " " + l("#Inflight", 20) + "#LastTime")
        } else {
            outln(l("#Topic", 64) + "  " + l("#Broker Name", 32) + "  " + l("#QID", 4) + "  " + l("#Broker Offset", 20) + "  "
                  + l("#Consumer Offset", 20) + "  " + l("#Diff", 20) + " " + l("#Inflight", 20) + "#LastTime")
        }
        var diffTotal: Int64 = 0
        var inflightTotal: Int64 = 0
        for mq in stats.offsetTable.keys.sorted() {
            guard let w = stats.offsetTable[mq] else { continue }
            let diff = w.brokerOffset - w.consumerOffset
            let inflight = w.pullOffset - w.consumerOffset
            diffTotal += diff
            inflightTotal += inflight
            let last = w.lastTimestamp > 0 ? localTime(w.lastTimestamp, millis: false) : "N/A"
            var line = l(trunc(mq.topic, 64), 64) + "  " + l(trunc(mq.brokerName, 32), 32) + "  " + l(mq.queueId, 4) + "  "
                + l(w.brokerOffset, 20) + "  " + l(w.consumerOffset, 20) + "  "
            if showIP { line += l(owners[mq] ?? "N/A", 20) + " " }
            line += l(diff, 20) + " " + l(inflight, 20) + " " + last
            outln(line)
        }
        outln()
        outln("Consume TPS: \(fixed(stats.consumeTps, 2))")
        outln("Consume Diff Total: \(diffTotal)")
        outln("Consume Inflight Total: \(inflightTotal)")
    }

    static func printAllGroups(_ admin: MQAdmin) async throws {
        outln(l("#Group", 64) + "  " + l("#Count", 6) + "  " + l("#Version", 24) + " " + l("#Type", 5) + "  " + l("#Model", 14)
              + "  " + l("#TPS", 7) + "  " + "#Diff Total")
        var groups = Set<String>()
        for t in try await admin.fetchAllTopicList() where t.hasPrefix("%RETRY%") {
            let g = String(t.dropFirst("%RETRY%".count))
            groups.insert(String(g.split(separator: "+", maxSplits: 1).first ?? Substring(g)))
        }
        for g in groups.sorted() {
            var tps: Double = 0
            var diff: Int64 = 0
            if let s = try? await admin.examineConsumeStats(group: g) {
                tps = s.consumeTps
                diff = s.offsetTable.values.reduce(0) { $0 + $1.brokerOffset - $1.consumerOffset }
            }
            let conn = try? await admin.examineConsumerConnectionInfo(group: g)
            let count = conn?.connectionSet.count ?? 0
            let version = count == 0 ? "OFFLINE" : versionName(conn?.connectionSet.map(\.version).min() ?? 0)
            let push = conn?.consumeType == "CONSUME_PASSIVELY"
            let type = count == 0 ? "" : (push ? "PUSH" : "PULL")
            let model = count > 0 && push ? (conn?.messageModel ?? "") : ""
            outln(l(trunc(g, 64), 64) + "  " + l(String(count), 6) + "  " + l(version, 24) + " " + l(type, 5) + "  " + l(model, 14)
                  + "  " + l(String(Int64(tps)), 7) + "  " + String(diff))
        }
    }

    static let resetOffsetByTime = SubCommand("resetOffsetByTime", "Reset consumer offset by timestamp(without client restart).", [
        OptionSpec("g", "group", true, "set the consumer group", required: true),
        OptionSpec("t", "topic", true, "set the topic", required: true),
        OptionSpec("s", "timestamp", true, "set the timestamp[now|currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]", required: true),
        OptionSpec("f", "force", true, "set the force rollback by timestamp switch[true|false]. Deprecated."),
        OptionSpec("c", "cluster", true, "Cluster name or lmq parent topic, lmq is used to find the route."),
        OptionSpec("b", "broker", true, "broker addr"),
        OptionSpec("q", "queue", true, "queue id"),
        OptionSpec("o", "offset", true, "Expect consume offset"),
    ]) { ctx in
        let o = ctx.options
        let group = try o.required("g")
        let topic = try o.required("t")
        let text = try o.required("s")
        let timestamp = try parseTimestamp(text, allowNow: true)
        let force = o.bool("f", default: true)
        let admin = try ctx.admin
        if let broker = o.value("b"), o.has("q") {
            let queueId = try o.int32("q", default: 0)
            outln("start reset consumer offset by specified, group[\(group)], topic[\(topic)], queueId[\(queueId)], broker[\(broker)], timestamp(string)[\(text)], timestamp(long)[\(timestamp)]")
            let offset = o.has("o") ? try o.int64("o", default: 0)
                : try await admin.searchOffset(brokerAddr: broker, topic: topic, queueId: queueId, timestamp: timestamp)
            outln("reset consumer offset to \(offset)")
            if offset > 0 {
                let mq = MessageQueue(topic: topic, brokerName: "", queueId: queueId)
                try await admin.updateConsumeOffset(brokerAddr: broker, group: group, mq: mq, offset: offset)
            }
            return
        }
        let table: [MessageQueue: Int64]
        do {
            table = try await admin.resetOffsetByTimestamp(topic: topic, group: group, timestamp: timestamp, isForce: force)
        } catch let e as MQAdminError where e.responseCode == .consumerNotOnline {
            let rows = try await admin.resetOffsetByTimestampOld(group: group, topic: topic, timestamp: timestamp, force: force)
            outln("reset consumer offset by specified consumerGroup[\(group)], topic[\(topic)], force[\(force)], timestamp(string)[\(text)], timestamp(long)[\(timestamp)]")
            outln(l("#brokerName", 20) + "  " + l("#queueId", 20) + "  " + l("#brokerOffset", 20) + "  " + l("#consumerOffset", 20)
                  + "  " + l("#timestampOffset", 20) + "  " + l("#resetOffset", 20))
            for row in rows {
                outln(l(row.brokerName, 20) + "  " + l(row.queueId, 20) + "  " + l(row.brokerOffset, 20) + "  "
                      + l(row.consumerOffset, 20) + "  " + l(row.timestampOffset, 20) + "  " + l(row.rollbackOffset, 20))
            }
            return
        }
        outln("start reset consumer offset by specified, group[\(group)], topic[\(topic)], force[\(force)], timestamp(string)[\(text)], timestamp(long)[\(timestamp)]")
        outln(l("#brokerName", 40) + "  " + l("#queueId", 40) + "  " + l("#offset", 40))
        for mq in table.keys.sorted() {
            outln(l(trunc(mq.brokerName, 32), 40) + "  " + l(mq.queueId, 40) + "  " + l(table[mq] ?? 0, 40))
        }
    }
}
