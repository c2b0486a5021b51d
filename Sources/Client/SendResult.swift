// SendResult: the outcome of a send (client.md §6.8), printed in RocketMQ's `SendResult [...]` shape.
// A value; built by Producer on any task.

import Remoting

public enum SendStatus: String, Sendable {
    case sendOK = "SEND_OK"
    case flushDiskTimeout = "FLUSH_DISK_TIMEOUT"
    case flushSlaveTimeout = "FLUSH_SLAVE_TIMEOUT"
    case slaveNotAvailable = "SLAVE_NOT_AVAILABLE"
}

public struct SendResult: Sendable, CustomStringConvertible {
    public var sendStatus: SendStatus
    /// The client unique id (UNIQ_KEY); for batches the inner ids joined with ",".
    public var msgId: String
    /// The broker's offset id (store host + commit-log offset).
    public var offsetMsgId: String
    public var messageQueue: MessageQueue
    public var queueOffset: Int64
    public var transactionId: String?
    public var regionId: String

    public var description: String {
        "SendResult [sendStatus=\(sendStatus.rawValue), msgId=\(msgId), offsetMsgId=\(offsetMsgId), "
            + "messageQueue=\(messageQueue), queueOffset=\(queueOffset), recallHandle=null]"
    }
}
