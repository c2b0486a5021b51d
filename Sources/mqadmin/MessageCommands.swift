// Message sub-commands: queryMsgById, queryMsgByKey, queryMsgByUniqueKey, queryMsgByOffset, sendMessage,
// consumeMessage (admin.md §10). Registered by MQAdminStartup.

import Admin
import Remoting

enum MessageCommands {
    static let queries = [queryMsgById, queryMsgByKey, queryMsgByUniqueKey, queryMsgByOffset]
    static let sendAndConsume = [sendMessage, consumeMessage]

    static let noConsumer = "\n\nWARN: No Consumer"

    static let queryMsgById = SubCommand("queryMsgById", "Query Message by Id", [
        OptionSpec("t", "topic", true, "topic name", required: true),
        OptionSpec("i", "msgId", true, "Message Id", required: true),
        OptionSpec("f", "bodyFormat", true, "print message body by the specified format"),
        OptionSpec("c", "cluster", true, "Cluster name or lmq parent topic, lmq is used to find the route."),
    ]) { ctx in
        let admin = try ctx.admin
        let topic = try ctx.options.required("t")
        var notFound = false
        for id in try ctx.options.required("i").split(separator: ",").map({ String($0).trimmingSpaces }) {
            if MQAdmin.storeTarget(ofOffsetMsgId: id) != nil {
                let m = try await admin.viewMessage(offsetMsgId: id, topic: topic)
                out(MessageText.detail(m, bodyFormat: ctx.options.value("f")))
                outln(noConsumer)
            } else {
                let found = try await admin.queryMessage(topic: topic, key: id, maxNum: 32, begin: nowMs() - 3 * 86_400_000,
                                                         end: Int64.max, uniqueKey: true)
                guard let m = found.first else {
                    outln("\nMessage not found!")
                    notFound = true
                    continue
                }
                out(MessageText.detail(m, bodyFormat: ctx.options.value("f")))
                outln(noConsumer)
            }
        }
        if notFound { throw MQAdminError.notFound("Message not found") }
    }

    static let queryMsgByKey = SubCommand("queryMsgByKey", "Query Message by Key", [
        OptionSpec("t", "topic", true, "Topic name", required: true),
        OptionSpec("k", "msgKey", true, "Message Key", required: true),
        OptionSpec("b", "beginTimestamp", true, "Begin timestamp(ms). default:0, eg:1676730526212"),
        OptionSpec("e", "endTimestamp", true, "End timestamp(ms). default:Long.MAX_VALUE, eg:1676730526212"),
        OptionSpec("m", "maxNum", true, "The maximum number of messages returned by the query, default:64"),
        OptionSpec("c", "cluster", true, "Cluster name or lmq parent topic, lmq is used to find the route."),
    ]) { ctx in
        let o = ctx.options
        let found = try await ctx.admin.queryMessage(
            topic: try o.required("t"), key: try o.required("k"), maxNum: try o.int32("m", default: 64),
            begin: try o.int64("b", default: 0), end: try o.int64("e", default: Int64.max), uniqueKey: false)
        outln(l("#Message ID", 50) + " " + r("#QID", 4) + " " + r("#Offset", 40))
        for m in found {
            outln(l(m.msgId, 50) + " " + r(String(m.queueId), 4) + " " + r(String(m.queueOffset), 40))
        }
    }

    static let queryMsgByUniqueKey = SubCommand("queryMsgByUniqueKey", "Query Message by Unique key", [
        OptionSpec("i", "msgId", true, "Message Id", required: true),
        OptionSpec("t", "topic", true, "The topic of msg", required: true),
        OptionSpec("a", "showAll", false, "Print all message, the limit is 32"),
        OptionSpec("c", "cluster", true, "Cluster name or lmq parent topic, lmq is used to find the route."),
    ]) { ctx in
        let key = try ctx.options.required("i")
        let found = try await ctx.admin.queryMessage(topic: try ctx.options.required("t"), key: key, maxNum: 32, begin: 0,
                                                     end: Int64.max, uniqueKey: true)
            .sorted { $0.storeTimestamp < $1.storeTimestamp }
        guard !found.isEmpty else { throw MQAdminError.notFound("query message by key finished, but no message.") }
        for (i, m) in (ctx.options.has("a") ? found : [found[0]]).enumerated() {
            out(MessageText.detail(m, offsetID: false, bodyFileName: i == 0 ? m.msgId : "\(m.msgId)_\(i)"))
            out(noConsumer)
        }
        outln()
    }

    static let queryMsgByOffset = SubCommand("queryMsgByOffset", "Query Message by offset", [
        OptionSpec("t", "topic", true, "topic name", required: true),
        OptionSpec("b", "brokerName", true, "Broker Name", required: true),
        OptionSpec("i", "queueId", true, "Queue Id", required: true),
        OptionSpec("o", "offset", true, "Queue Offset", required: true),
        OptionSpec("f", "bodyFormat", true, "print message body by the specified format"),
    ]) { ctx in
        let o = ctx.options
        let r = try await ctx.admin.pull(brokerName: try o.required("b"), topic: try o.required("t"),
                                         queueId: try o.int32("i", default: 0), offset: try o.int64("o", default: 0), maxNums: 1)
        guard r.pullStatus == "FOUND", let m = r.messages.first else { return }
        out(MessageText.detail(m, bodyFormat: o.value("f")))
        outln(noConsumer)
    }

    static let sendMessage = SubCommand("sendMessage", "Send a message", [
        OptionSpec("t", "topic", true, "Topic name", required: true),
        OptionSpec("p", "body", true, "UTF-8 string format of the message body", required: true),
        OptionSpec("k", "key", true, "Message keys"),
        OptionSpec("c", "tags", true, "Message tags"),
        OptionSpec("b", "broker", true, "Send message to target broker"),
        OptionSpec("i", "qid", true, "Send message to target queue"),
        OptionSpec("m", "msgTraceEnable", true, "Message Trace Enable, Default: false"),
    ]) { ctx in
        let o = ctx.options
        if o.has("i") && !o.has("b") {
            outln("Broker name must be set if the queue is chosen!")
            throw MQAdminError.badArgument("Broker name must be set if the queue is chosen!")
        }
        let result = try await ctx.admin.sendMessage(
            topic: try o.required("t"), body: Array(try o.required("p").utf8), tags: o.value("c"), keys: o.value("k"),
            brokerName: o.value("b"), queueId: o.has("i") ? try o.int32("i", default: 0) : nil,
            producerGroup: String(nowMs()))
        outln(l("#Broker Name", 32) + "  " + l("#QID", 4) + "  " + l("#Send Result", 20) + "    " + "#MsgId")
        outln(l(result.brokerName, 32) + "  " + l(result.queueId, 4) + "  " + l(result.sendStatus, 20) + "    " + result.msgId)
    }

    static let consumeMessage = SubCommand("consumeMessage", "Consume message", [
        OptionSpec("t", "topic", true, "Topic name", required: true),
        OptionSpec("b", "brokerName", true, "Broker name"),
        OptionSpec("i", "queueId", true, "Queue Id"),
        OptionSpec("o", "offset", true, "Queue offset"),
        OptionSpec("g", "consumerGroup", true, "Consumer group name"),
        OptionSpec("s", "beginTimestamp ", true, "Begin timestamp[currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]"),
        OptionSpec("e", "endTimestamp ", true, "End timestamp[currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]"),
        OptionSpec("c", "MessageNumber", true, "Number of message to be consumed"),
    ]) { ctx in
        try await ConsumeMessage.run(ctx)
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
