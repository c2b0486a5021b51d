// TransactionalMessageCheckListener: what the check service does with a half message it decided about
// (broker.md §8.3). resolveHalfMsg asks one channel of the producer group PGROUP with
// CHECK_TRANSACTION_STATE (39, one-way) about the newest copy; the producer answers with END_TRANSACTION.
// resolveDiscardMsg parks a message checked too often in TRANS_CHECK_MAX_TIME_TOPIC. Called by the check
// service's task.

import Common
import Logging
import NIOCore
import Remoting
import Store

struct TransactionalMessageCheckListener: Sendable {
    let bridge: TransactionalMessageBridge
    let producers: ProducerManager
    let config: any BrokerConfigSource
    var logger: Logger { bridge.logger }

    /// Sends the check about `copy` (the re-appended half message). No producer of the group online: the
    /// next round asks again about the copy.
    func resolveHalfMsg(_ copy: StoredMessage) async {
        let properties = MessageProperties.decode(copy.properties)
        guard let group = properties[TransactionalMessageBridge.producerGroupProperty],
              let channel = producers.availableChannel(group: group) else {
            logger.warning("Check transaction failed, channel is null.",
                                      metadata: ["groupId": "\(properties[TransactionalMessageBridge.producerGroupProperty] ?? "")"])
            return
        }
        guard let (header, body) = Self.checkRequest(copy, properties: properties, brokerName: config.brokerConfig.brokerName) else {
            logger.error("half message at \(copy.physicalOffset) cannot be encoded for a check")
            return
        }
        do {
            try await channel.invokeOneway(.request(.checkTransactionState, header: header, body: ByteBuffer(bytes: body)))
        } catch {
            logger.warning("Check transaction failed: \(error)", metadata: ["groupId": "\(group)", "remote": "\(channel.remoteAddress)"])
        }
    }

    /// The header names the copy in the half queue; the body is the copy with its real topic and queue.
    static func checkRequest(_ copy: StoredMessage, properties: [String: String], brokerName: String)
        -> (CheckTransactionStateRequestHeader, [UInt8])?
    {
        let uniqueKey = properties[MessageProperties.uniqueClientMessageIdKeyIndex]
        let header = CheckTransactionStateRequestHeader(
            topic: copy.topic, tranStateTableOffset: copy.queueOffset, commitLogOffset: copy.physicalOffset,
            msgId: uniqueKey, transactionId: uniqueKey, offsetMsgId: copy.offsetMessageId, brokerName: brokerName)
        var restored = copy
        if let topic = properties[MessageProperties.realTopic], !topic.isEmpty { restored.topic = topic }
        if let queueId = properties[MessageProperties.realQueueId].flatMap({ Int32($0) }) { restored.queueId = queueId }
        guard let body = restored.encodedRecord() else { return nil }
        return (header, body)
    }

    /// True when the message now lies in TRANS_CHECK_MAX_TIME_TOPIC.
    func resolveDiscardMsg(_ half: StoredMessage) async -> Bool {
        logger.error("half message exceeded the check count or the store's retention; discarded to \(TransactionalMessageBridge.checkMaxTimeTopic)",
                                metadata: ["msgId": "\(MessageProperties.value(of: MessageProperties.uniqueClientMessageIdKeyIndex, in: half.properties) ?? half.offsetMessageId)",
                                           "commitLogOffset": "\(half.physicalOffset)"])
        let ok = await bridge.putDiscardMessage(half)
        if !ok { logger.error("put discarded half message failed; retried next round") }
        return ok
    }
}
