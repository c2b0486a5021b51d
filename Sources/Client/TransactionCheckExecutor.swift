// TransactionCheckExecutor: answers the broker's CHECK_TRANSACTION_STATE for one transaction producer
// (client.md §7.3). Checks queue up (at most 2 000, like RocketMQ's default check executor) and one task
// runs them in order: checkLocalTransaction, then END_TRANSACTION one-way with fromTransactionCheck=true
// on the very connection the check came from. Submitted to from the client's request processor. The worker
// starts with the producer and belongs to `tasks`; shutdown drops queued checks (the broker asks again)
// and awaits the one running.

import Common
import Logging
import Remoting
import Synchronization

final class TransactionCheckExecutor: Sendable {
    /// One check request as the broker sent it.
    struct Check: Sendable {
        let channel: RemotingChannel
        let message: MessageExt
        let header: CheckTransactionStateRequestHeader
    }

    static let queueCapacity = 2_000

    private let stream: AsyncStream<Check>
    private let continuation: AsyncStream<Check>.Continuation
    private let tasks = BackgroundTasks(name: "TransactionCheckExecutor")
    /// The stream has a single reader: the worker is started at most once.
    private let started = Atomic<Bool>(false)
    private let logger: Logger
    private let group: String
    private let listener: any TransactionListener
    private let serializeType: SerializeType
    private let language: LanguageCode

    init(group: String, listener: any TransactionListener, serializeType: SerializeType, language: LanguageCode, logger: Logger) {
        (stream, continuation) = AsyncStream.makeStream(of: Check.self, bufferingPolicy: .bufferingOldest(Self.queueCapacity))
        self.logger = logger
        self.group = group
        self.listener = listener
        self.serializeType = serializeType
        self.language = language
    }

    /// Starts the worker (once; checks submitted before wait in the queue).
    func start() {
        guard !started.exchange(true, ordering: .relaxed) else { return }
        let (stream, group, listener, serializeType, language, logger) = (stream, group, listener, serializeType, language, logger)
        tasks.spawn {
            for await check in stream {
                let (state, remark) = await Self.runCheck(listener, check.message)
                let request = Self.endTransactionRequest(check, group: group, state: state, remark: remark,
                                                         serializeType: serializeType, language: language)
                do {
                    try await check.channel.invokeOneway(request)
                } catch {
                    logger.warning("END_TRANSACTION answer to a check failed: \(error)", metadata: ["remote": "\(check.channel.remoteAddress)"])
                }
            }
        }
    }

    /// Queues a check; a full queue drops it (the broker asks again next round).
    func submit(_ check: Check) {
        if case .dropped = continuation.yield(check) {
            logger.warning("transaction check queue full (\(Self.queueCapacity)); check of \(check.message.msgId) dropped")
        }
    }

    /// Refuses new checks, cancels the worker (queued checks are dropped) and waits for it to end.
    func shutdown() async {
        continuation.finish()
        await tasks.shutdown()
    }

    static func runCheck(_ listener: any TransactionListener, _ message: MessageExt) async -> (LocalTransactionState, String?) {
        do {
            return (try await listener.checkLocalTransaction(message), nil)
        } catch {
            return (.unknow, "checkLocalTransactionState Exception: \(error)")
        }
    }

    /// The answer: offsets, topic and broker name from the check, msgId = the message's UNIQ_KEY.
    static func endTransactionRequest(_ check: Check, group: String, state: LocalTransactionState, remark: String?,
                                      serializeType: SerializeType, language: LanguageCode) -> RemotingCommand {
        let header = EndTransactionRequestHeader(
            topic: check.header.topic, producerGroup: group, tranStateTableOffset: check.header.tranStateTableOffset,
            commitLogOffset: check.header.commitLogOffset, commitOrRollback: state.commitOrRollback, fromTransactionCheck: true,
            msgId: check.message.message.uniqueKey ?? check.message.msgId, transactionId: check.header.transactionId,
            brokerName: check.header.brokerName)
        var request = RemotingCommand.request(.endTransaction, header: header, serializeType: serializeType)
        request.language = language
        request.remark = remark
        return request
    }
}
