// ClientManageProcessor: HEART_BEAT (34) and UNREGISTER_CLIENT (35) — register producers and consumers
// with their subscriptions, auto-create groups and retry topics, and notify a group whose members or
// subscriptions changed (spec broker.md §6.1, remoting.md §9.5). Built over ClientManageEnvironment; runs
// on the heartbeat and client-manage executors.

import Common
import Remoting

/// What client registration needs of a running broker.
protocol ClientManageEnvironment: Sendable {
    var brokerConfig: BrokerConfig { get }
    var consumers: ConsumerManager { get }
    var producers: ProducerManager { get }
    func subscriptionGroup(_ name: String, autoCreate: Bool) -> SubscriptionGroupConfig?
    /// Creates the topic unless it exists; true when it was created (the NameServers are then told).
    func createTopicIfAbsent(_ topic: String, queueNums: Int32) -> Bool
    func notifyConsumerIdsChanged(group: String)
    func registerBrokerAllSoon()
    func compileSQLFilter(_ text: String) -> Result<SQLFilterExpression, SQLFilterExpression.CompileError>
}

struct ClientManageProcessor: RemotingRequestProcessor {
    let environment: any ClientManageEnvironment

    func processRequest(_ request: RemotingCommand, channel: RemotingChannel) async throws -> RemotingCommand? {
        switch request.requestCode {
        case .heartBeat: return heartbeat(request, channel: channel)
        case .unregisterClient: return unregister(request, channel: channel)
        case .checkClientConfig: return checkClientConfig(request)
        default: return RemotingDispatcher.notSupported(request)
        }
    }

    func heartbeat(_ request: RemotingCommand, channel: RemotingChannel) -> RemotingCommand {
        guard let body = request.body else { return request.makeResponse(.systemError, remark: "heartbeat without body") }
        let data: HeartbeatData
        do { data = try HeartbeatData.decode(body) } catch {
            return request.makeResponse(.systemError, remark: "bad heartbeat body: \(error)")
        }
        let env = environment
        let config = env.brokerConfig
        let client = ClientChannelInfo(channel: channel, clientId: data.clientID, language: request.language,
                                       version: request.version, lastUpdateMs: nowMs())
        var topicsCreated = false
        for consumer in data.consumerDataSet {
            guard let group = env.subscriptionGroup(consumer.groupName, autoCreate: config.autoCreateSubscriptionGroup) else { continue }
            let retryTopic = TopicValidator.retryTopic(group: consumer.groupName)
            if TopicValidator.validateTopic(retryTopic) == nil {
                topicsCreated = env.createTopicIfAbsent(retryTopic, queueNums: max(1, group.retryQueueNums)) || topicsCreated
            }
            let changed = env.consumers.register(group: consumer.groupName, client: client, data: consumer)
            if changed && group.notifyConsumerIdsChangedEnable && consumer.messageModel.name != "BROADCASTING" {
                env.notifyConsumerIdsChanged(group: consumer.groupName)
            }
        }
        for producer in data.producerDataSet {
            env.producers.register(group: producer.groupName, client: client)
        }
        if topicsCreated { env.registerBrokerAllSoon() }
        return request.makeResponse(.success, header: HeartbeatResponseHeader(supportsHeartbeatV2: true, subscriptionChanged: true))
    }

    /// CHECK_CLIENT_CONFIG (46): Java consumers subscribing with SQL92 ask every broker at start whether it
    /// can serve the selector, and refuse to start on anything but SUCCESS.
    func checkClientConfig(_ request: RemotingCommand) -> RemotingCommand {
        guard let body = request.body, let json = try? JSONValue.parse(body),
              let object = json.objectValue
        else { return request.makeResponse(.success) }
        guard let subJSON = object["subscriptionData"], let sub = try? SubscriptionData(json: subJSON) else {
            return request.makeResponse(.success)
        }
        if sub.expressionType.isEmpty || sub.expressionType == "TAG" { return request.makeResponse(.success) }
        guard sub.expressionType == "SQL92", environment.brokerConfig.enablePropertyFilter else {
            return request.makeResponse(.systemError, remark: "The broker does not support consumer to filter message by \(sub.expressionType)")
        }
        if case .failure(let e) = environment.compileSQLFilter(sub.subString) {
            return request.makeResponse(.subscriptionParseFailed, remark: "\(e)")
        }
        return request.makeResponse(.success)
    }

    func unregister(_ request: RemotingCommand, channel: RemotingChannel) -> RemotingCommand {
        let h: UnregisterClientRequestHeader
        do { h = try request.decodeHeader() } catch { return request.makeResponse(.systemError, remark: "\(error)") }
        if let g = h.producerGroup { environment.producers.unregister(group: g, channel: channel) }
        if let g = h.consumerGroup, environment.consumers.unregister(group: g, channel: channel) {
            environment.notifyConsumerIdsChanged(group: g)
        }
        return request.makeResponse(.success)
    }
}
