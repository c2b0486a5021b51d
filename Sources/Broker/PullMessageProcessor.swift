// PullMessageProcessor: PULL_MESSAGE (11) and LITE_PULL_MESSAGE (361) — checks, subscription (posted or
// registered by heartbeat), tag-hash filtering, the store read, the status → code mapping, offset commit,
// long polling through PullRequestHoldService, and the body (copied, or a file region above the zero-copy
// threshold) (spec broker.md §3, remoting.md §9.3). Built over PullMessageEnvironment, never the whole
// BrokerController; runs on the pull executors' threads, first executions and re-executed parked pulls alike.

import Common
import Logging
import NIOCore
import Remoting
import Store

/// What a pull needs of a running broker: settings, the topic/group/consumer tables, the store's reads,
/// offsets, long polling and the executors pulls run on. A unit test supplies plain values.
protocol PullMessageEnvironment: Sendable {
    var brokerConfig: BrokerConfig { get }
    var logger: Logger { get }
    func subscriptionGroup(_ name: String, autoCreate: Bool) -> SubscriptionGroupConfig?
    func topicConfig(_ topic: String) -> TopicConfig?
    func consumerGroupInfo(_ group: String) -> ConsumerGroupInfo?
    func compileSQLFilter(_ text: String) -> Result<SQLFilterExpression, SQLFilterExpression.CompileError>
    func getMessage(topic: String, queueId: Int32, offset: Int64, maxMsgNums: Int, tagsCodes: Set<Int32>,
                    propertiesFilter: (([String: String]) -> Bool)?) -> GetMessageResult
    func commitPullOffset(group: String, topic: String, queueId: Int32, offset: Int64)
    func commitOffset(group: String, topic: String, queueId: Int32, offset: Int64)
    /// Parks an empty pull until a message arrives or its hold time ends (PullRequestHoldService).
    func suspend(_ request: PullRequest)
    func recordGet(group: String, topic: String, result: GetMessageResult)
    /// Attaches the found records as the response body (copied, a file region at or above `thresholdBytes`
    /// when `zeroCopy`, or read through the rings).
    func attachBody(_ result: GetMessageResult, to response: inout RemotingCommand, zeroCopy: Bool, thresholdBytes: Int)
    /// The executor a pull of this code runs on (PULL_MESSAGE or LITE_PULL_MESSAGE).
    func executor(for code: RequestCode?) -> RequestExecutor
    /// True on a slave (it redirects pulls to the master unless the master told the consumer to come).
    var isSlave: Bool { get }
}

struct PullMessageProcessor: RemotingRequestProcessor {
    let environment: any PullMessageEnvironment

    func processRequest(_ request: RemotingCommand, channel: RemotingChannel) async throws -> RemotingCommand? {
        firstExecution(request, channel: channel)
    }

    /// Pulls run on their executor's thread without a task.
    func processRequestSynchronously(_ request: RemotingCommand, channel: RemotingChannel) -> SynchronousOutcome {
        .answered(firstExecution(request, channel: channel))
    }

    private func firstExecution(_ request: RemotingCommand, channel: RemotingChannel) -> RemotingCommand? {
        // A consumer that stopped reading its socket gets no more bodies until it drained what it has:
        // the pull waits for the channel (reading from it is paused meanwhile, so such waits are few).
        if !channel.isWritable {
            channel.whenWritable { [self] in submit(request, channel: channel, brokerAllowSuspend: true) }
            return nil
        }
        return process(request, channel: channel, brokerAllowSuspend: true)
    }

    /// A parked pull woken by an arrival or its deadline: executed again, on the pull executor.
    func reexecute(_ parked: PullRequest, on executor: RequestExecutor) {
        submit(parked.request, channel: parked.channel, brokerAllowSuspend: false, executor: executor)
    }

    /// Runs one execution on the executor of its request code, once the channel is writable.
    private func submit(_ request: RemotingCommand, channel: RemotingChannel, brokerAllowSuspend: Bool,
                        executor: RequestExecutor? = nil) {
        let executor = executor ?? environment.executor(for: request.requestCode)
        guard channel.isWritable else {
            channel.whenWritable { [self] in submit(request, channel: channel, brokerAllowSuspend: brokerAllowSuspend, executor: executor) }
            return
        }
        RemotingDispatcher.submit(request, channel: channel, on: executor, logger: environment.logger) { [self] in
            defer { executor.finished() }
            if let response = process(request, channel: channel, brokerAllowSuspend: brokerAllowSuspend) {
                channel.writeResponse(response, to: request)
            }
        }
    }

    /// One execution of a pull. `brokerAllowSuspend` is false when a parked request is re-executed: it is then
    /// answered whatever the outcome, and the offset is not committed again.
    func process(_ request: RemotingCommand, channel: RemotingChannel, brokerAllowSuspend: Bool) -> RemotingCommand? {
        let env = environment
        let config = env.brokerConfig
        var responseHeader = PullMessageResponseHeader()
        func answer(_ code: ResponseCode, _ remark: String?) -> RemotingCommand {
            request.makeResponse(code, remark: remark, header: responseHeader)
        }
        let header: PullMessageRequestHeader
        do { header = try request.decodeHeader() } catch { return answer(.systemError, "\(error)") }

        if !PermName.isReadable(config.brokerPermission) {
            responseHeader.forbiddenType = 1
            return answer(.noPermission, "the broker[\(config.brokerIP1)] pulling message is forbidden")
        }
        guard let group = env.subscriptionGroup(header.consumerGroup, autoCreate: config.autoCreateSubscriptionGroup)
        else {
            return answer(.subscriptionGroupNotExist, "subscription group [\(header.consumerGroup)] does not exist")
        }
        if !group.consumeEnable {
            responseHeader.forbiddenType = 2
            return answer(.noPermission, "subscription group no permission, \(header.consumerGroup)")
        }
        guard let topicConfig = env.topicConfig(header.topic) else {
            return answer(.topicNotExist, "topic[\(header.topic)] not exist, apply first please!")
        }
        if !PermName.isReadable(topicConfig.perm) {
            responseHeader.forbiddenType = 3
            return answer(.noPermission, "the topic[\(header.topic)] pulling message is forbidden")
        }
        if header.queueId < 0 || header.queueId >= topicConfig.readQueueNums {
            return answer(.invalidParameter,
                          "queueId[\(header.queueId)] is illegal, topic:[\(header.topic)] topicConfig.readQueueNums:[\(topicConfig.readQueueNums)] consumer:[\(channel.remoteAddress)]")
        }

        // Subscription: posted with the request, or the one the consumer registered by heartbeat.
        var tagsCodes: Set<Int32> = []
        var expressionType = header.expressionType ?? "TAG"
        var sqlText: String?
        if header.sysFlag & PullSysFlag.subscription != 0 {
            if expressionType == "TAG" {
                tagsCodes = FilterAPI.tagsCodes(ofExpression: header.subscription)
            } else {
                sqlText = header.subscription ?? ""
            }
        } else {
            guard let info = env.consumerGroupInfo(header.consumerGroup) else {
                return answer(.subscriptionNotExist, "the consumer's group info not exist")
            }
            if info.messageModel == "BROADCASTING" && !group.consumeBroadcastEnable {
                responseHeader.forbiddenType = 4
                return answer(.noPermission, "the consumer group[\(header.consumerGroup)] can not consume by broadcast way")
            }
            guard let sub = info.subscriptions[header.topic] else {
                return answer(.subscriptionNotExist, "the consumer's subscription not exist")
            }
            if sub.subVersion < header.subVersion {
                return answer(.subscriptionNotLatest, "the consumer's subscription not latest")
            }
            expressionType = sub.expressionType.isEmpty ? "TAG" : sub.expressionType
            if expressionType == "TAG" {
                tagsCodes = FilterAPI.tagsCodes(of: sub)
            } else {
                sqlText = sub.subString
            }
        }
        // SQL92 (broker.md §4.2): only with enablePropertyFilter; evaluated against each candidate's properties.
        var sqlFilter: SQLFilterExpression?
        if let sqlText {
            guard expressionType == "SQL92", config.enablePropertyFilter else {
                return answer(.systemError, "The broker does not support consumer to filter message by \(expressionType)")
            }
            switch env.compileSQLFilter(sqlText) {
            case .success(let f): sqlFilter = f
            case .failure(let e):
                env.logger.warning("parse the consumer's subscription[\(sqlText)] failed, group: \(header.consumerGroup): \(e)")
                return answer(.subscriptionParseFailed, "parse the consumer's subscription failed")
            }
            if header.topic.hasPrefix(TopicValidator.retryGroupTopicPrefix) && !config.filterSupportRetry { sqlFilter = nil }
        }

        let maxNums = Int(max(1, min(header.maxMsgNums, 2048)))
        let result = env.getMessage(topic: header.topic, queueId: header.queueId, offset: header.queueOffset,
                                    maxMsgNums: maxNums, tagsCodes: tagsCodes,
                                    propertiesFilter: sqlFilter.map { f in { f.matches($0) } })
        responseHeader.nextBeginOffset = result.nextBeginOffset
        responseHeader.minOffset = result.minOffset
        responseHeader.maxOffset = result.maxOffset
        responseHeader.topicSysFlag = topicConfig.topicSysFlag
        responseHeader.groupSysFlag = group.groupSysFlag
        // Which broker of the group to pull from next (broker.md §3.4): a master with slaveReadEnable sends a
        // consumer that fell behind (its data no longer in memory) to a slave; a slave whose store made no such
        // suggestion sends everyone back to the master, which in classic mode it assumes is there.
        var code: ResponseCode
        switch result.status {
        case .found: code = .success
        case .noMatchedMessage, .messageWasRemoving: code = .pullRetryImmediately
        case .noMatchedLogicQueue, .noMessageInQueue: code = header.queueOffset != 0 ? .pullOffsetMoved : .pullNotFound
        case .offsetFoundNull, .offsetOverflowOne: code = .pullNotFound
        case .offsetOverflowBadly, .offsetTooSmall: code = .pullOffsetMoved
        }
        if env.isSlave {
            responseHeader.suggestWhichBrokerId = result.suggestPullingFromSlave ? group.whichBrokerWhenConsumeSlowly : 0
            // A slave's view of the queue may lag: anything but messages sends the consumer on at once, and its
            // next-offset corrections are not applied (offsetCheckInSlave off).
            switch result.status {
            case .offsetTooSmall, .offsetOverflowBadly, .noMatchedLogicQueue, .noMessageInQueue:
                responseHeader.nextBeginOffset = header.queueOffset
            default: break
            }
            if code == .pullOffsetMoved || (!result.suggestPullingFromSlave && code != .success) { code = .pullRetryImmediately }
        } else if config.slaveReadEnable {
            responseHeader.suggestWhichBrokerId = result.suggestPullingFromSlave ? group.whichBrokerWhenConsumeSlowly : group.brokerId
        } else {
            responseHeader.suggestWhichBrokerId = 0
        }
        if code == .pullOffsetMoved {
            env.logger.info("pull offset moved: \(header.topic)/\(header.queueId) group \(header.consumerGroup) requested \(header.queueOffset), next \(result.nextBeginOffset) (\(result.status.rawValue))")
        }

        env.commitPullOffset(group: header.consumerGroup, topic: header.topic,
                             queueId: header.queueId, offset: result.nextBeginOffset)
        if brokerAllowSuspend && header.sysFlag & PullSysFlag.commitOffset != 0 {
            env.commitOffset(group: header.consumerGroup, topic: header.topic,
                             queueId: header.queueId, offset: header.commitOffset)
        }

        if code == .pullNotFound && brokerAllowSuspend && header.sysFlag & PullSysFlag.suspend != 0 {
            let holdMs = config.longPollingEnable ? header.suspendTimeoutMillis : config.shortPollingTimeMills
            env.suspend(PullRequest(
                request: request, channel: channel, topic: header.topic, queueId: header.queueId,
                pullFromThisOffset: header.queueOffset, tagsCodes: tagsCodes, suspendTimestampMs: nowMs(),
                timeoutMs: max(0, holdMs)))
            return nil
        }

        var response = answer(code, result.status.rawValue)
        if code == .success {
            env.recordGet(group: header.consumerGroup, topic: header.topic, result: result)
            env.attachBody(result, to: &response, zeroCopy: !config.transferMsgByHeap, thresholdBytes: Int(config.zeroCopyThresholdBytes))
        }
        return response
    }
}
