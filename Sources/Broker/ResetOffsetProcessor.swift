// ResetOffsetProcessor: INVOKE_BROKER_TO_RESET_OFFSET (222) — computes each queue's offset for a timestamp
// (or takes the given offset for one queue), commits it for the group and pushes RESET_CONSUMER_CLIENT_OFFSET
// (220, one-way) to the group's online consumers; a group with no consumer online gets 206 so the admin
// tool falls back to per-queue offset updates (admin.md §9.5, remoting.md §10). Built from the tables it
// reads and changes; runs on the admin executor.

import Remoting
import Store

struct ResetOffsetProcessor: RemotingRequestProcessor {
    let topics: TopicConfigManager
    let consumers: ConsumerManager
    let offsets: ConsumerOffsetManager
    let store: MessageStore
    let brokerName: String

    func processRequest(_ request: RemotingCommand, channel: RemotingChannel) async throws -> RemotingCommand? {
        guard request.requestCode == .invokeBrokerToResetOffset else { return RemotingDispatcher.notSupported(request) }
        let h: ResetOffsetRequestHeader
        do { h = try request.decodeHeader() } catch { return request.makeResponse(.systemError, remark: "\(error)") }
        guard let topicConfig = topics.select(h.topic) else {
            return request.makeResponse(.systemError, remark: "[reset-offset] reset offset failed, no topic in this broker. topic=\(h.topic)")
        }
        guard let info = consumers.groupInfo(h.group), !info.channels.isEmpty else {
            return request.makeResponse(.consumerNotOnline, remark: "Consumer not in online")
        }
        var table: [MessageQueue: Int64] = [:]
        let queues: [Int32] = h.queueId >= 0 ? [h.queueId] : Array(0..<topicConfig.writeQueueNums)
        for q in queues {
            let target: Int64
            if h.queueId >= 0, let given = h.offset, given >= 0 {
                target = given
            } else if h.timestamp == -1 {
                target = store.maxOffsetInQueue(topic: h.topic, queueId: q)
            } else {
                target = store.offsetInQueue(topic: h.topic, queueId: q, timestampMs: h.timestamp)
            }
            let current = offsets.queryOffset(group: h.group, topic: h.topic, queueId: q) ?? -1
            guard h.isForce || target < current else { continue }
            offsets.commitOffset(group: h.group, topic: h.topic, queueId: q, offset: target)
            table[MessageQueue(topic: h.topic, brokerName: brokerName, queueId: q)] = target
        }
        let body = ResetOffsetBody(offsetTable: table)
        let notice = RemotingCommand.request(
            .resetConsumerClientOffset,
            header: ResetOffsetRequestHeader(topic: h.topic, group: h.group, timestamp: h.timestamp, isForce: h.isForce),
            body: body.encode())
        for client in info.channels.values {
            try? await client.channel.invokeOneway(notice)
        }
        return request.makeResponse(.success, body: body.encode())
    }
}
