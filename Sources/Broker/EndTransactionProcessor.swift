// EndTransactionProcessor: END_TRANSACTION (37), broker.md §8.2. A producer (or its answer to a check)
// commits or rolls back a half message: the half message is looked up by commit-log offset and must match
// the request's producer group and both offsets; commit writes the real message to REAL_TOPIC/REAL_QID
// with transaction type COMMIT, then the op record; rollback writes only the op record. Clients send it
// one-way, so the answer matters only to clients that wait (the C++ client) and to tests.
// Built from the transaction bridge, the settings and the stats; runs on the end-transaction executor.

import Common
import Logging
import Remoting
import Store

struct EndTransactionProcessor: RemotingRequestProcessor {
    let bridge: TransactionalMessageBridge
    let config: any BrokerConfigSource
    let stats: BrokerStats
    var logger: Logger { bridge.logger }

    func processRequest(_ request: RemotingCommand, channel: RemotingChannel) async throws -> RemotingCommand? {
        let header: EndTransactionRequestHeader
        do {
            header = try request.decodeHeader()
        } catch {
            return request.makeResponse(.systemError, remark: "\(error)")
        }
        guard let (code, remark) = await endTransaction(header, from: channel.remoteAddress, remark: request.remark) else { return nil }
        return request.makeResponse(code, remark: remark)
    }

    /// Ends one transaction as END_TRANSACTION asks (also BrokerController.localEndTransaction): the
    /// answer's code and remark, or nil when there is nothing to answer (the state is still unknown).
    func endTransaction(_ header: EndTransactionRequestHeader, from remoteAddress: String, remark: String?) async -> (ResponseCode, String?)? {
        if bridge.store.isSlave {
            logger.warning("Message store is slave mode, so end transaction is forbidden.")
            return (.slaveNotAvailable, nil)
        }
        let source = header.fromTransactionCheck ? "check answer" : "end transaction"
        switch header.commitOrRollback {
        case MessageSysFlag.transactionCommitType:
            break
        case MessageSysFlag.transactionRollbackType:
            logger.info("\(source) from producer \(remoteAddress): rollback",
                                   metadata: ["msgId": "\(header.msgId)", "commitLogOffset": "\(header.commitLogOffset)"])
        default:
            // Unknown (0) or anything else: the half message stays pending for the check service.
            logger.info("\(source) from producer \(remoteAddress): still pending",
                                   metadata: ["msgId": "\(header.msgId)", "remark": "\(remark ?? "")"])
            return nil
        }

        guard let half = bridge.halfMessage(commitLogOffset: header.commitLogOffset) else {
            return (.systemError, "Find prepared transaction message failed")
        }
        let properties = MessageProperties.decode(half.properties)
        if let refusal = Self.checkPrepareMessage(half, properties: properties, header) {
            logger.warning("end transaction refused: \(refusal)",
                                      metadata: ["producerGroup": "\(header.producerGroup)", "remote": "\(remoteAddress)"])
            return (.systemError, refusal)
        }
        if rejectCommitOrRollback(header, half: half, properties: properties) {
            logger.warning("end transaction after the first check time, wait for the check",
                                      metadata: ["msgId": "\(header.msgId)", "commitLogOffset": "\(header.commitLogOffset)"])
            return (.illegalOperation, "Message commit fail [producer end]. currentTimeMillis - bornTime > checkImmunityTime")
        }

        if header.commitOrRollback == MessageSysFlag.transactionRollbackType {
            await bridge.putOpMessage(halfQueueId: half.queueId, halfQueueOffset: half.queueOffset)
            return (.success, nil)
        }
        guard let final = Self.endMessageTransaction(half, properties: properties, commitLogOffset: header.commitLogOffset) else {
            return (.systemError, "the half message has no REAL_TOPIC/REAL_QID")
        }
        let result = await bridge.store.putMessage(final)
        let answer = Self.answer(result)
        if answer.0 == .success {
            stats.recordPut(messages: 1, bytes: final.body.count, ok: true)
            await bridge.putOpMessage(halfQueueId: half.queueId, halfQueueOffset: half.queueOffset)
        }
        return answer
    }

    /// The request must name the half message exactly: its producer group and both of its offsets.
    static func checkPrepareMessage(_ half: StoredMessage, properties: [String: String], _ header: EndTransactionRequestHeader) -> String? {
        if properties[TransactionalMessageBridge.producerGroupProperty] != header.producerGroup { return "The producer group wrong" }
        if half.queueOffset != header.tranStateTableOffset { return "The transaction state table offset wrong" }
        if half.physicalOffset != header.commitLogOffset { return "The commit log offset wrong" }
        return nil
    }

    /// A producer that asked for a later first check (CHECK_IMMUNITY_TIME_IN_SECONDS) and ends the
    /// transaction itself after that time is refused: the check service owns the message by then.
    func rejectCommitOrRollback(_ header: EndTransactionRequestHeader, half: StoredMessage, properties: [String: String]) -> Bool {
        guard !header.fromTransactionCheck,
              let text = properties[TransactionalMessageBridge.checkImmunityTimeProperty], !text.isEmpty else { return false }
        let immunity = TransactionalMessageCheckService.immunityTimeMs(text, transactionTimeOut: config.brokerConfig.transactionTimeOut)
        return nowMs() - half.bornTimestampMs > immunity
    }

    /// The real message of a committed half message: its topic and queue from REAL_TOPIC/REAL_QID (both
    /// removed, as is TRAN_MSG), transaction type COMMIT, the half's offset as prepared-transaction offset.
    static func endMessageTransaction(_ half: StoredMessage, properties: [String: String], commitLogOffset: Int64) -> MessageToStore? {
        guard let plan = MessageRouter.routeRestored(properties, .transactionCommit) else { return nil }
        return MessageToStore(topic: plan.topic, queueId: plan.queueId, body: half.body, properties: plan.properties,
                              flag: half.flag,
                              sysFlag: MessageSysFlag.resetTransactionValue(half.sysFlag, MessageSysFlag.transactionCommitType),
                              bornTimestampMs: half.bornTimestampMs, bornHost: half.bornHost,
                              reconsumeTimes: half.reconsumeTimes, preparedTransactionOffset: commitLogOffset)
    }

    /// Store status → answer; "stored but not flushed" counts as success, as in RocketMQ.
    static func answer(_ result: PutMessageResult) -> (ResponseCode, String?) {
        switch result.status {
        case .putOk, .flushDiskTimeout, .flushSlaveTimeout, .slaveNotAvailable, .inSyncReplicasNotEnough:
            // Stored; a slave or the disk being late does not undo the commit (Java answers SUCCESS too).
            return (.success, nil)
        case .createMappedFileFailed:
            return (.systemError, "Create mapped file failed.")
        case .messageIllegal, .propertiesSizeExceeded:
            return (.messageIllegal, "The message is illegal, maybe msg body or properties length not matched.")
        case .serviceNotAvailable:
            return (.serviceNotAvailable, "Service not available now.")
        case .flushQueueFull, .osPageCacheBusy:
            return (.systemBusy, result.remark ?? result.status.rawValue)
        case .unknownError:
            return (.systemError, "UNKNOWN_ERROR")
        }
    }
}
