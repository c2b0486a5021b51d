// ConnectionQueryProcessor: GET_CONSUMER_CONNECTION_LIST (203) and GET_PRODUCER_CONNECTION_LIST (204) —
// which clients of a group are connected, from the heartbeat tables (spec remoting.md §9.12, §11.9,
// admin.md §9.3–§9.4). Built from the client tables; runs on the admin executor.

import Remoting

struct ConnectionQueryProcessor: RemotingRequestProcessor {
    let consumers: ConsumerManager
    let producers: ProducerManager

    static let codes: [RequestCode] = [.getConsumerConnectionList, .getProducerConnectionList]

    func processRequest(_ request: RemotingCommand, channel: RemotingChannel) async throws -> RemotingCommand? {
        switch request.requestCode {
        case .getConsumerConnectionList: return consumerConnection(request)
        case .getProducerConnectionList: return producerConnection(request)
        default: return RemotingDispatcher.notSupported(request)
        }
    }

    static func connection(_ c: ClientChannelInfo) -> Connection {
        Connection(clientId: c.clientId, clientAddr: c.channel.remoteAddress, language: c.language.name, version: c.version)
    }

    func consumerConnection(_ request: RemotingCommand) -> RemotingCommand {
        let h: ConsumerGroupRequestHeader
        do { h = try request.decodeHeader() } catch { return request.makeResponse(.systemError, remark: "\(error)") }
        guard let info = consumers.groupInfo(h.consumerGroup), !info.channels.isEmpty else {
            return request.makeResponse(.consumerNotOnline, remark: "the consumer group[\(h.consumerGroup)] not online")
        }
        let body = ConsumerConnection(
            connectionSet: info.channels.values.map(Self.connection), subscriptionTable: info.subscriptions,
            consumeType: info.consumeType, messageModel: info.messageModel, consumeFromWhere: info.consumeFromWhere)
        return request.makeResponse(.success, body: body.encode())
    }

    func producerConnection(_ request: RemotingCommand) -> RemotingCommand {
        let h: GetProducerConnectionListRequestHeader
        do { h = try request.decodeHeader() } catch { return request.makeResponse(.systemError, remark: "\(error)") }
        let channels = producers.channels(group: h.producerGroup)
        guard !channels.isEmpty else {
            return request.makeResponse(.systemError, remark: "the producer group[\(h.producerGroup)] not exist")
        }
        return request.makeResponse(.success, body: ProducerConnection(connectionSet: channels.map(Self.connection)).encode())
    }
}
