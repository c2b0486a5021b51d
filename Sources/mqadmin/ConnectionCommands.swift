// consumerConnection and producerConnection: which clients of a group are connected (admin.md §9.3–§9.4).
// Registered by MQAdminStartup.

import Admin
import Remoting

enum ConnectionCommands {
    static let all = [producerConnection, consumerConnection]

    static let consumerConnection = SubCommand("consumerConnection", "Query consumer's socket connection, client version and subscription", [
        OptionSpec("g", "consumerGroup", true, "consumer group name", required: true),
        OptionSpec("b", "brokerAddr", true, "broker address"),
    ]) { ctx in
        let c = try await ctx.admin.examineConsumerConnectionInfo(group: try ctx.options.required("g"),
                                                                 brokerAddr: ctx.options.value("b"))
        let row = { (a: String, b: String, c: String, d: String) in l(a, 36) + " " + l(b, 22) + " " + l(c, 10) + " " + d }
        outln(row("#ClientId", "#ClientAddr", "#Language", "#Version"))
        for conn in c.connectionSet.sorted(by: { $0.clientId < $1.clientId }) {
            outln(row(conn.clientId, conn.clientAddr, conn.language, versionName(conn.version)))
        }
        outln()
        outln("Below is subscription:")
        outln(l("#Topic", 20) + " " + "#SubExpression")
        for topic in c.subscriptionTable.keys.sorted() {
            outln(l(topic, 20) + " " + (c.subscriptionTable[topic]?.subString ?? ""))
        }
        outln()
        outln("ConsumeType: \(c.consumeType ?? "null")")
        outln("MessageModel: \(c.messageModel ?? "null")")
        outln("ConsumeFromWhere: \(c.consumeFromWhere ?? "null")")
    }

    static let producerConnection = SubCommand("producerConnection", "Query producer's socket connection and client version", [
        OptionSpec("g", "producerGroup", true, "producer group name", required: true),
        OptionSpec("t", "topic", true, "topic name", required: true),
    ]) { ctx in
        let c = try await ctx.admin.examineProducerConnectionInfo(group: try ctx.options.required("g"),
                                                                 topic: try ctx.options.required("t"))
        for (i, conn) in c.connectionSet.sorted(by: { $0.clientId < $1.clientId }).enumerated() {
            let index = String(i + 1)
            outln(String(repeating: "0", count: max(0, 4 - index.count)) + index + "  " + l(conn.clientId, 32) + " "
                  + l(conn.clientAddr, 22) + " " + l(conn.language, 8) + " " + versionName(conn.version))
        }
    }
}
