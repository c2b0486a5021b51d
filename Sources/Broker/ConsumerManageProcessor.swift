// ConsumerManageProcessor: QUERY_CONSUMER_OFFSET (14), UPDATE_CONSUMER_OFFSET (15) and
// GET_CONSUMER_LIST_BY_GROUP (38) (spec broker.md §5, §6.2, remoting.md §9.4, §9.8).
// Built from the tables it reads (no controller); runs on the consumer-manage executor.

import Remoting
import Store

struct ConsumerManageProcessor: RemotingRequestProcessor {
    let offsets: ConsumerOffsetManager
    let groups: SubscriptionGroupManager
    let topics: TopicConfigManager
    let consumers: ConsumerManager
    let store: MessageStore

    func processRequest(_ request: RemotingCommand, channel: RemotingChannel) async throws -> RemotingCommand? {
        switch request.requestCode {
        case .queryConsumerOffset: return queryConsumerOffset(request)
        case .updateConsumerOffset: return updateConsumerOffset(request)
        case .getConsumerListByGroup: return consumerList(request)
        default: return RemotingDispatcher.notSupported(request)
        }
    }

    func queryConsumerOffset(_ request: RemotingCommand) -> RemotingCommand {
        let h: QueryConsumerOffsetRequestHeader
        do { h = try request.decodeHeader() } catch { return request.makeResponse(.systemError, remark: "\(error)") }
        if let offset = offsets.queryOffset(group: h.consumerGroup, topic: h.topic, queueId: h.queueId) {
            return request.makeResponse(.success, header: OffsetResponseHeader(offset: offset))
        }
        if h.setZeroIfNotFound ?? true, store.minOffsetInQueue(topic: h.topic, queueId: h.queueId) <= 0,
           let physical = store.commitLogOffset(topic: h.topic, queueId: h.queueId, queueOffset: 0),
           let record = store.lookMessage(physicalOffset: physical),
           record.file.isResident(at: record.filePosition, count: record.size)
        {
            return request.makeResponse(.success, header: OffsetResponseHeader(offset: 0))
        }
        return request.makeResponse(.queryNotFound, remark: "Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first")
    }

    func updateConsumerOffset(_ request: RemotingCommand) -> RemotingCommand {
        let h: UpdateConsumerOffsetRequestHeader
        do { h = try request.decodeHeader() } catch { return request.makeResponse(.invalidParameter, remark: "\(error)") }
        guard groups.find(h.consumerGroup) != nil else {
            return request.makeResponse(.subscriptionGroupNotExist, remark: "subscription group \(h.consumerGroup) does not exist")
        }
        guard topics.select(h.topic) != nil else {
            return request.makeResponse(.topicNotExist, remark: "topic \(h.topic) does not exist")
        }
        offsets.commitOffset(group: h.consumerGroup, topic: h.topic, queueId: h.queueId,
                             offset: h.commitOffset)
        return request.makeResponse(.success)
    }

    func consumerList(_ request: RemotingCommand) -> RemotingCommand {
        let h: GetConsumerListByGroupRequestHeader
        do { h = try request.decodeHeader() } catch { return request.makeResponse(.systemError, remark: "\(error)") }
        guard let info = consumers.groupInfo(h.consumerGroup), !info.channels.isEmpty else {
            return request.makeResponse(.systemError, remark: "no consumer for this group, \(h.consumerGroup)")
        }
        return request.makeResponse(.success, body: GetConsumerListByGroupResponseBody(consumerIdList: info.clientIds).encode())
    }
}
