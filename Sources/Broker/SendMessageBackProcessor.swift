// SendMessageBackProcessor: CONSUMER_SEND_MSG_BACK (36), broker.md §9. A consumer returns a message it could
// not consume; the broker stores a copy for the group's retry topic %RETRY%<group> through the delay level
// (3 + reconsumeTimes by default, so retries come 10 s ... 2 h later), or, once reconsumeTimes reached the
// maximum (or the client asked with a negative level), into the dead-letter topic %DLQ%<group>.
// Routed by MessageRouter (precheckSendBack, then routeSendBack with the group it found); built over
// SendMessageEnvironment like sends; runs on the send executor (it may create topics and wait).

import Remoting
import Store

struct SendMessageBackProcessor: RemotingRequestProcessor {
    let environment: any SendMessageEnvironment

    /// As sends (it is the same processor in Java): a slave, or a busy page cache, refuses before queueing.
    func rejectRequest() -> Bool { environment.messageStore.isSlave || environment.messageStore.isOSPageCacheBusy }

    func processRequest(_ request: RemotingCommand, channel: RemotingChannel) async throws -> RemotingCommand? {
        let header: ConsumerSendMsgBackRequestHeader
        do {
            header = try request.decodeHeader()
        } catch {
            return request.makeResponse(.systemError, remark: "\(error)")
        }
        let environment = self.environment
        func router() -> MessageRouter {
            MessageRouter(settings: environment.routingSettings, tables: environment.tables,
                          makeUniqueKey: { environment.makeUniqueKey() })
        }
        // Java's order: group, broker permission, retryQueueNums, retry topic and its permission, and only
        // then the stored message.
        var precheck = router().precheckSendBack(group: header.group)
        for _ in 0..<3 {
            guard case .failure(let stop) = precheck, case .create(let creations) = stop.decision else { break }
            environment.create(creations)
            precheck = router().precheckSendBack(group: header.group)
        }
        let group: SubscriptionGroupConfig
        switch precheck {
        case .success(let g): group = g
        case .failure(let stop):
            switch stop.decision {
            case .refuse(let code, let remark): return request.makeResponse(code, remark: remark)
            case .deliver: return request.makeResponse(.success)  // retryQueueNums 0: dropped, as Java does
            case .create: return request.makeResponse(.systemError, remark: "topic[\(TopicValidator.retryTopic(group: header.group))] not exist")
            }
        }
        guard let original = environment.messageStore.storedMessage(atPhysicalOffset: header.offset) else {
            return request.makeResponse(.systemError, remark: "look message by offset failed, \(header.offset)")
        }
        let inbound = InboundSendBack(group: header.group, delayLevel: header.delayLevel, maxReconsumeTimes: header.maxReconsumeTimes,
                                      properties: original.properties, originalTopic: original.topic, sysFlag: original.sysFlag,
                                      reconsumeTimes: original.reconsumeTimes, offsetMessageId: original.offsetMessageId)
        func route() -> RouteDecision { router().routeSendBack(inbound, group: group) }
        var decision = route()
        for _ in 0..<3 {
            guard case .create(let creations) = decision else { break }
            environment.create(creations)
            decision = route()
        }
        let plan: RoutePlan
        switch decision {
        case .refuse(let code, let remark): return request.makeResponse(code, remark: remark)
        case .create: return request.makeResponse(.systemError, remark: "topic[\(TopicValidator.retryTopic(group: header.group))] not exist")
        case .deliver(let p): plan = p
        }
        if plan.topic.isEmpty { return request.makeResponse(.success) }  // retryQueueNums 0: dropped, as Java does
        let properties = plan.properties
        let target = (topic: plan.topic, queueId: plan.queueId)
        let result = await environment.messageStore.putMessage(MessageToStore(
            topic: target.topic, queueId: target.queueId, body: original.body, properties: properties, flag: original.flag,
            sysFlag: original.sysFlag, bornTimestampMs: original.bornTimestampMs, bornHost: original.bornHost,
            reconsumeTimes: original.reconsumeTimes + 1))
        if result.isStored { return request.makeResponse(.success) }
        return request.makeResponse(.systemError, remark: result.remark ?? result.status.rawValue)
    }
}
