// The application's side of a transaction (client.md §7.1): a TransactionListener runs the local
// transaction after the half message is stored and answers the broker's later checks with a
// LocalTransactionState; TransactionSendResult is what sendMessageInTransaction returns. Listener methods
// run on the sending task (execute) or on the producer's check task (check).

import Common

/// RocketMQ's LocalTransactionState; `unknow` keeps RocketMQ's spelling.
public enum LocalTransactionState: String, Sendable, CaseIterable {
    case commitMessage = "COMMIT_MESSAGE"
    case rollbackMessage = "ROLLBACK_MESSAGE"
    case unknow = "UNKNOW"

    /// END_TRANSACTION's `commitOrRollback` for this state (MessageSysFlag transaction values).
    var commitOrRollback: Int32 {
        switch self {
        case .commitMessage: return 0x8
        case .rollbackMessage: return 0xC
        case .unknow: return 0x0
        }
    }
}

public protocol TransactionListener: Sendable {
    /// Runs the local transaction of a half message the broker stored. A thrown error counts as `unknow`
    /// (the broker asks again later).
    func executeLocalTransaction(_ message: Message, arg: (any Sendable)?) async throws -> LocalTransactionState

    /// Answers a broker check about a half message still pending. A thrown error counts as `unknow`.
    func checkLocalTransaction(_ message: MessageExt) async throws -> LocalTransactionState
}

/// A SendResult plus the local transaction's outcome.
public struct TransactionSendResult: Sendable, CustomStringConvertible {
    public var sendResult: SendResult
    public var localTransactionState: LocalTransactionState

    public var sendStatus: SendStatus { sendResult.sendStatus }
    public var msgId: String { sendResult.msgId }
    public var transactionId: String? { sendResult.transactionId }

    public var description: String {
        "\(sendResult.description.dropLast()), localTransactionState=\(localTransactionState.rawValue)]"
    }
}
