// ConsumeMessage: the body of `consumeMessage` — read a range of each queue (or one queue) with plain
// pulls, printing `Consume ok` and `MSGID: … BODY: …` lines; offsets are never committed (admin.md §10.8).
// Called by MessageCommands.consumeMessage.

import Admin
import Remoting

enum ConsumeMessage {
    static func run(_ ctx: CommandContext) async throws {
        let o = ctx.options
        let admin = try ctx.admin
        let topic = try o.required("t")
        let group = o.value("g") ?? "TOOLS_CONSUMER"
        let count = try o.int64("c", default: 128)
        guard count > 0 else { throw ParseError(description: "Please input a positive messageNumber!") }
        if o.has("i") && !o.has("b") { throw ParseError(description: "Please set the brokerName before queueId!") }
        if o.has("o") && !o.has("i") { throw ParseError(description: "please set queueId before offset!") }
        let now = nowMs()
        let begin = try o.value("s").map { try parseTimestamp($0) } ?? 0
        let end = try o.value("e").map { try parseTimestamp($0) } ?? 0
        if begin > now || end > now { throw ParseError(description: "Please do not input a future time") }
        if end > 0 && begin > end { throw ParseError(description: "Please make sure that the beginTimestamp is less than or equal to the endTimestamp") }
        let route = try await admin.examineTopicRouteInfo(topic)

        func bounds(_ mq: MessageQueue) async throws -> (Int64, Int64) {
            guard let b = route.brokerDatas.first(where: { $0.brokerName == mq.brokerName }), let addr = MQAdmin.selectBrokerAddr(b) else {
                throw MQAdminError.notFound("The broker[\(mq.brokerName)] not exist")
            }
            var minOffset = try await admin.queueOffset(.getMinOffset, brokerAddr: addr, topic: topic, queueId: mq.queueId)
            var maxOffset = try await admin.queueOffset(.getMaxOffset, brokerAddr: addr, topic: topic, queueId: mq.queueId)
            if begin > 0 { minOffset = try await admin.searchOffset(brokerAddr: addr, topic: topic, queueId: mq.queueId, timestamp: begin) }
            if end > 0 { maxOffset = try await admin.searchOffset(brokerAddr: addr, topic: topic, queueId: mq.queueId, timestamp: end) }
            return (minOffset, maxOffset)
        }

        if let brokerName = o.value("b"), o.has("i") {
            let mq = MessageQueue(topic: topic, brokerName: brokerName, queueId: try o.int32("i", default: 0))
            let offset = try o.int64("o", default: 0)
            var (minOffset, maxOffset) = try await bounds(mq)
            if offset > maxOffset {
                outln("\(mqText(mq)) no matched msg, offset=\(offset)")
                return
            }
            minOffset = max(minOffset, offset)
            if maxOffset - minOffset > count {
                outln("The oldler \(count) message will be provided")
                maxOffset = minOffset + count - 1
            }
            try await pullRange(admin, route: route, mq, minOffset, maxOffset, group: group)
            return
        }
        var countLeft = count
        var queues: [MessageQueue] = []
        for q in route.queueDatas.sorted(by: { $0.brokerName < $1.brokerName }) where PermName.isReadable(q.perm) {
            for id in 0..<q.readQueueNums { queues.append(MessageQueue(topic: topic, brokerName: q.brokerName, queueId: id)) }
        }
        for mq in queues {
            if countLeft <= 0 { return }
            var (minOffset, maxOffset) = try await bounds(mq)
            if maxOffset - minOffset > countLeft {
                outln("The older \(countLeft) message of the \(mq.queueId) queue will be provided")
                maxOffset = minOffset + countLeft - 1
                countLeft = 0
            } else {
                countLeft -= maxOffset - minOffset + 1
            }
            try await pullRange(admin, route: route, mq, minOffset, maxOffset, group: group)
        }
    }

    static func pullRange(_ admin: MQAdmin, route: TopicRouteData, _ mq: MessageQueue, _ minOffset: Int64, _ maxOffset: Int64,
                          group: String) async throws {
        var offset = minOffset
        while offset <= maxOffset {
            let r = try await admin.pull(brokerName: mq.brokerName, topic: mq.topic, queueId: mq.queueId, offset: offset,
                                         maxNums: Int32(clamping: maxOffset - offset + 1), group: group, route: route)
            offset = r.nextBeginOffset
            switch r.pullStatus {
            case "FOUND":
                out("Consume ok\n")
                for m in r.messages {
                    outln("MSGID: \(m.msgId) \(MessageText.messageExt(m)) BODY: \(String(decoding: m.body, as: UTF8.self))")
                }
            case "NO_MATCHED_MSG":
                outln("\(mqText(mq)) no matched msg. status=\(r.pullStatus), offset=\(offset)")
            default:
                outln("\(mqText(mq)) print msg finished. status=\(r.pullStatus), offset=\(offset)")
                return
            }
        }
    }
}
