// LOCK_BATCH_MQ (41) and UNLOCK_BATCH_MQ (42): orderly consumers lock the queues they consume so that no
// other client of the group consumes them at the same time (spec broker.md §10; RocketMQ's
// AdminBrokerProcessor.lockBatchMQ / unlockBatchMQ). Without these a Java or C++ orderly consumer never
// consumes: it keeps asking for the lock.

import Remoting

extension AdminBrokerProcessor {
    func lockBatchMQ(_ request: RemotingCommand) throws -> RemotingCommand {
        guard let body = request.body else { return request.makeResponse(.invalidParameter, remark: "no body") }
        let r = try LockBatchRequestBody.decode(body)
        let granted = broker.rebalanceLockManager.tryLockBatch(group: r.consumerGroup, mqs: r.mqSet, clientId: r.clientId)
        return request.makeResponse(.success, body: LockBatchResponseBody(lockOKMQSet: granted).encode())
    }

    func unlockBatchMQ(_ request: RemotingCommand) throws -> RemotingCommand {
        guard let body = request.body else { return request.makeResponse(.invalidParameter, remark: "no body") }
        let r = try LockBatchRequestBody.decode(body)
        broker.rebalanceLockManager.unlockBatch(group: r.consumerGroup, mqs: r.mqSet, clientId: r.clientId)
        return request.makeResponse(.success)
    }
}
