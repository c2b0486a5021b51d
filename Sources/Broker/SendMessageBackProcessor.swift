// SendMessageBackProcessor: CONSUMER_SEND_MSG_BACK (36), broker.md §9. A consumer returns a message it could
// not consume; the broker stores a copy for the group's retry topic %RETRY%<group> through the delay level
// (3 + reconsumeTimes by default, so retries come 10 s ... 2 h later), or, once reconsumeTimes reached the
// maximum (or the client asked with a negative level), into the dead-letter topic %DLQ%<group>.
// Runs on the dispatcher's per-request task.

import Remoting
import Store

struct SendMessageBackProcessor: RemotingRequestProcessor {
    let controller: BrokerController

    func processRequest(_ request: RemotingCommand, channel: RemotingChannel) async throws -> RemotingCommand? {
        let header: ConsumerSendMsgBackRequestHeader
        do {
            header = try request.decodeHeader()
        } catch {
            return request.makeResponse(.systemError, remark: "\(error)")
        }
        let config = controller.brokerConfig
        guard let group = controller.subscriptionGroupManager.findOrCreate(header.group, autoCreate: config.autoCreateSubscriptionGroup) else {
            return request.makeResponse(.subscriptionGroupNotExist, remark: "subscription group not exist, \(header.group)")
        }
        guard config.brokerPermission & 2 != 0 else {
            return request.makeResponse(.noPermission, remark: "the broker[\(config.brokerName)] sending message is forbidden")
        }
        if group.retryQueueNums <= 0 { return request.makeResponse(.success) }

        guard let record = controller.store.lookMessage(physicalOffset: header.offset), let original = StoredMessage(record) else {
            return request.makeResponse(.systemError, remark: "look message by offset failed, \(header.offset)")
        }
        var decoded = MessageProperties.decode(original.properties)
        if decoded["RETRY_TOPIC"] == nil { decoded["RETRY_TOPIC"] = original.topic }
        if decoded["ORIGIN_MESSAGE_ID"] == nil {
            decoded["ORIGIN_MESSAGE_ID"] = header.originMsgId ?? decoded[MessageProperties.uniqueClientMessageIdKeyIndex] ?? original.offsetMessageId
        }
        let maxReconsumeTimes = header.maxReconsumeTimes ?? group.retryMaxTimes
        var topic = TopicValidator.retryTopic(group: header.group)
        var queueCount = group.retryQueueNums
        var delayLevel = header.delayLevel
        if original.reconsumeTimes >= maxReconsumeTimes || delayLevel < 0 {
            topic = TopicValidator.dlqGroupTopicPrefix + header.group
            queueCount = 1
            delayLevel = 0
        } else if delayLevel == 0 {
            delayLevel = 3 + original.reconsumeTimes
        }
        let (_, created) = controller.topicConfigManager.createTopicIfAbsent(topic, queueNums: queueCount, perm: 6)
        if created { controller.registerBrokerAllSoon() }
        let queueId = Int32.random(in: 0..<max(1, queueCount))

        decoded[MessageProperties.waitStoreMsgOk] = "false"
        decoded[MessageProperties.delayTimeLevel] = nil
        var pairs = decoded.map { ($0.key, $0.value) }
        if delayLevel > 0 { pairs.append((MessageProperties.delayTimeLevel, String(delayLevel))) }
        var properties = MessageProperties.encode(pairs)
        var target = (topic: topic, queueId: queueId)
        if let delayed = ScheduleMessageService.transformDelayLevelMessage(
            topic: topic, queueId: queueId, properties: &properties, sysFlag: original.sysFlag,
            maxLevel: controller.scheduleMessageService.maxLevel) {
            target = delayed
        }
        let result = await controller.store.putMessage(MessageToStore(
            topic: target.topic, queueId: target.queueId, body: original.body, properties: properties, flag: original.flag,
            sysFlag: original.sysFlag, bornTimestampMs: original.bornTimestampMs, bornHost: original.bornHost,
            reconsumeTimes: original.reconsumeTimes + 1))
        if result.isOk || result.status == .flushDiskTimeout { return request.makeResponse(.success) }
        return request.makeResponse(.systemError, remark: result.remark ?? result.status.rawValue)
    }
}
