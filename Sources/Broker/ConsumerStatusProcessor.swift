// ConsumerStatusProcessor: INVOKE_BROKER_TO_GET_CONSUMER_STATUS (223) — asks each online consumer of the
// group (or the one client id given) for the offsets it holds for a topic with GET_CONSUMER_STATUS_FROM_CLIENT
// (221) and answers them by client id (Java: Broker2Client.getConsumeStatus). Built from the consumer table;
// runs on the admin executor; one 5 s call per consumer, in turn.

import Logging
import Remoting

struct ConsumerStatusProcessor: RemotingRequestProcessor {
    let consumers: ConsumerManager
    let logger: Logger

    func processRequest(_ request: RemotingCommand, channel: RemotingChannel) async throws -> RemotingCommand? {
        guard request.requestCode == .invokeBrokerToGetConsumerStatus else { return RemotingDispatcher.notSupported(request) }
        let h: GetConsumerStatusRequestHeader
        do { h = try request.decodeHeader() } catch { return request.makeResponse(.systemError, remark: "\(error)") }
        guard let info = consumers.groupInfo(h.group), !info.channels.isEmpty else {
            return request.makeResponse(.systemError, remark: "No Any Consumer online in the consumer group: [\(h.group)]")
        }
        let ask = RemotingCommand.request(.getConsumerStatusFromClient,
                                          header: GetConsumerStatusRequestHeader(topic: h.topic, group: h.group))
        var body = GetConsumerStatusBody()
        for client in info.channels.values.sorted(by: { $0.clientId < $1.clientId }) {
            if let only = h.clientAddr, only != client.clientId { continue }
            do {
                let r = try await client.channel.invoke(ask, timeoutMs: 5000)
                if r.responseCode == .success, let b = r.body {
                    body.consumerTable[client.clientId] = try GetConsumerStatusBody.decode(b).messageQueueTable
                }
            } catch {
                logger.warning("[get-consumer-status] client \(client.clientId) of group \(h.group): \(error)")
            }
        }
        return request.makeResponse(.success, body: body.encode())
    }
}
