// TransactionProducer (RocketMQ's TransactionMQProducer, client.md §7): sendMessageInTransaction sends a
// half message (TRAN_MSG=true, PGROUP) with the usual sync retries, runs the listener's local
// transaction and ends it with END_TRANSACTION one-way to the broker master that stored the half message;
// the broker's later CHECK_TRANSACTION_STATE requests are answered through the listener's
// checkLocalTransaction. Ordinary sends go through `producer`. Any task.

import Common
import Logging
import Remoting

public final class TransactionProducer: Sendable {
    /// The underlying producer: its group is the transaction's producer group; plain sends work as usual.
    public let producer: Producer
    public let listener: any TransactionListener
    private let checkExecutor: TransactionCheckExecutor

    public init(group: String, config: ClientConfig = ClientConfig(), options: ProducerOptions = ProducerOptions(),
                listener: any TransactionListener) {
        producer = Producer(group: group, config: config, options: options)
        self.listener = listener
        var logger = Logger(label: "apus.client.transaction")
        logger.logLevel = .warning
        checkExecutor = TransactionCheckExecutor(group: group, listener: listener, serializeType: config.serializeType,
                                                 language: config.language, logger: logger)
        producer.setTransactionCheckExecutor(checkExecutor)
    }

    public var group: String { producer.group }

    public func start() async throws(MQClientError) {
        try await producer.start()
        checkExecutor.start()
    }

    /// Its producer's lifecycle state (RocketMQ's ServiceState).
    public var serviceState: ServiceState { producer.serviceState }

    /// Stops answering checks first (a check in progress finishes its answer while the connection is
    /// still open), then shuts the producer down.
    public func shutdown() async {
        await checkExecutor.shutdown()
        await producer.shutdown()
    }

    public func fetchPublishMessageQueues(_ topic: String) async throws(MQClientError) -> [MessageQueue] {
        try await producer.fetchPublishMessageQueues(topic)
    }

    public func maxOffset(_ mq: MessageQueue) async throws(MQClientError) -> Int64 { try await producer.maxOffset(mq) }

    /// Half message, local transaction, END_TRANSACTION (client.md §7.2). A failed half send throws and
    /// ends nothing; a failed END_TRANSACTION is only logged (the broker's check resolves the message).
    public func sendMessageInTransaction(_ message: Message, arg: (any Sendable)? = nil) async throws(MQClientError)
        -> TransactionSendResult
    {
        var msg = message
        msg.properties.removeValue(forKey: MessageConst.delayTimeLevel)
        msg.properties[MessageConst.transactionPrepared] = "true"
        msg.properties[MessageConst.producerGroup] = group
        // The id is set here rather than inside the send so the listener sees the message as stored.
        MessageClientIDSetter.setUniqID(&msg)
        let sendResult = try await producer.send(msg)

        var state = LocalTransactionState.unknow
        var remark: String?
        switch sendResult.sendStatus {
        case .sendOK:
            if let id = sendResult.transactionId { msg.properties[MessageConst.transactionId] = id }
            do {
                state = try await listener.executeLocalTransaction(msg, arg: arg)
            } catch {
                state = .unknow
                remark = "executeLocalTransactionBranch exception: \(error)"
            }
        case .flushDiskTimeout, .flushSlaveTimeout, .slaveNotAvailable:
            state = .rollbackMessage
        }
        await endTransaction(msg, sendResult, state, remark: remark)
        return TransactionSendResult(sendResult: sendResult, localTransactionState: state)
    }

    /// END_TRANSACTION one-way to the master of the broker holding the half message.
    private func endTransaction(_ msg: Message, _ sendResult: SendResult, _ state: LocalTransactionState, remark: String?) async {
        guard let inst = try? producer.instance else { return }
        let logger = inst.logger
        let brokerName = sendResult.messageQueue.brokerName
        guard let addr = try? await inst.brokerAddress(brokerName, topic: msg.topic) else {
            logger.warning("end transaction: no master address for broker \(brokerName)")
            return
        }
        guard let commitLogOffset = OffsetMessageId.parse(sendResult.offsetMsgId)?.physicalOffset
            ?? OffsetMessageId.parse(sendResult.msgId)?.physicalOffset else {
            logger.warning("end transaction: the send result's message id \(sendResult.offsetMsgId) has no commit-log offset")
            return
        }
        await inst.sendHeartbeatIfNew(addr)
        let header = EndTransactionRequestHeader(
            topic: msg.topic, producerGroup: group, tranStateTableOffset: sendResult.queueOffset, commitLogOffset: commitLogOffset,
            commitOrRollback: state.commitOrRollback, fromTransactionCheck: false, msgId: sendResult.msgId,
            transactionId: sendResult.transactionId, brokerName: brokerName)
        var request = inst.api.request(.endTransaction, header)
        request.remark = remark
        await inst.api.oneway(addr, request)
    }
}
