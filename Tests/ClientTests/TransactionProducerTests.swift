// Transactional messages against real mqnamesrv + mqbroker processes (broker.md §8, client.md §7): commit
// and rollback seen by a push consumer, a broker check resolving an UNKNOW transaction, refused
// END_TRANSACTION requests, the half message hidden from its real topic until commit, and `mqbench tx`.
// Brokers here check every 300 ms and treat half messages older than 1 s as due.

import ApusTestSupport
import Client
import Foundation
import Logging
import NIOCore
import NIOPosix
import Remoting
import Synchronization
import XCTest

/// A listener whose answers come from the message body ("commit…", "rollback…", anything else: UNKNOW)
/// for the local transaction, and from `checkAnswer` for checks; it records what it was asked.
final class ScriptedTransactionListener: TransactionListener {
    let checkAnswer: LocalTransactionState
    private let checks = Mutex<[MessageExt]>([])
    private let executed = Mutex<[Message]>([])

    init(checkAnswer: LocalTransactionState) { self.checkAnswer = checkAnswer }

    var checked: [MessageExt] { checks.withLock { $0 } }
    var executedMessages: [Message] { executed.withLock { $0 } }

    func executeLocalTransaction(_ message: Message, arg: (any Sendable)?) async throws -> LocalTransactionState {
        executed.withLock { $0.append(message) }
        let body = String(decoding: message.body, as: UTF8.self)
        if body.hasPrefix("commit") { return .commitMessage }
        if body.hasPrefix("rollback") { return .rollbackMessage }
        return .unknow
    }

    func checkLocalTransaction(_ message: MessageExt) async throws -> LocalTransactionState {
        checks.withLock { $0.append(message) }
        return checkAnswer
    }
}

/// Requests the client library does not make: offsets of system queues, END_TRANSACTION that waits for
/// its answer, plain sends with chosen properties.
struct BrokerProbe {
    let cluster: Cluster
    let remoting = RemotingClient(group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "tx-test"))

    static let halfTopic = "RMQ_SYS_TRANS_HALF_TOPIC"
    static let opTopic = "RMQ_SYS_TRANS_OP_HALF_TOPIC"

    func maxOffset(_ topic: String, queueId: Int32 = 0) async throws -> Int64 {
        let r = try await remoting.invokeSync(cluster.brokerAddr, .request(.getMaxOffset, header: TopicQueueRequestHeader(topic: topic, queueId: queueId)))
        XCTAssertEqual(r.responseCode, .success, r.remark ?? "")
        return try r.decodeHeader(OffsetResponseHeader.self).offset
    }

    /// The check service's progress on the half queue (CID_RMQ_SYS_TRANS's offset), nil before its first round.
    func halfProgress() async throws -> Int64? {
        let h = QueryConsumerOffsetRequestHeader(consumerGroup: "CID_RMQ_SYS_TRANS", topic: Self.halfTopic, queueId: 0,
                                                 setZeroIfNotFound: false)
        let r = try await remoting.invokeSync(cluster.brokerAddr, .request(.queryConsumerOffset, header: h))
        return r.responseCode == .success ? try r.decodeHeader(OffsetResponseHeader.self).offset : nil
    }

    func endTransaction(_ header: EndTransactionRequestHeader) async throws -> RemotingCommand {
        try await remoting.invokeSync(cluster.brokerAddr, .request(.endTransaction, header: header))
    }

    /// SEND_MESSAGE_V2 with the given properties and born time; returns the response.
    func send(topic: String, body: String, properties: [(String, String)], sysFlag: Int32, bornTimestamp: Int64,
              group: String) async throws -> RemotingCommand {
        var props = ""
        for (k, v) in properties { props += "\(k)\u{1}\(v)\u{2}" }
        let header = SendMessageRequestHeader(producerGroup: group, topic: topic, queueId: 0, sysFlag: sysFlag,
                                              bornTimestamp: bornTimestamp, properties: props)
        var req = RemotingCommand.request(.sendMessageV2, body: ByteBuffer(string: body))
        req.extFields = header.toV2ExtFields()
        return try await remoting.invokeSync(cluster.brokerAddr, req)
    }

    func shutdown() async { await remoting.shutdown() }
}

/// The commit-log offset inside an offset message id (its last 16 hex characters).
func commitLogOffset(ofOffsetMsgId id: String) -> Int64? {
    guard id.count >= 16 else { return nil }
    return UInt64(id.suffix(16), radix: 16).map { Int64(bitPattern: $0) }
}

final class TransactionProducerTests: XCTestCase {
    static let fastChecks = ["transactionCheckInterval": "300", "transactionTimeOut": "1000"]

    func started(_ extra: [String: String] = fastChecks) async throws -> Cluster {
        let cluster = try await Cluster.started(extra)
        addTeardownBlock { await cluster.stopAll() }
        return cluster
    }

    func body(_ m: MessageExt) -> String { String(decoding: m.body, as: UTF8.self) }

    // (a)
    func testCommittedMessageIsConsumedAndRolledBackOneNeverIs() async throws {
        let cluster = try await started()
        let topic = "TxCommitTopic"
        try await cluster.createTopic(topic, queues: 1)
        let probe = BrokerProbe(cluster: cluster)
        let collector = Collector()
        let consumer = try await startPushConsumer(cluster, group: "tx_commit_consumer", topic: topic, name: "c", collector: collector)
        let listener = ScriptedTransactionListener(checkAnswer: .commitMessage)
        let producer = TransactionProducer(group: "tx_commit_producer", config: cluster.clientConfig, listener: listener)
        try await producer.start()

        var message = Message(topic: topic, body: "commit-1", tags: "TagTx", keys: ["tx-key-1"])
        try message.putUserProperty("app", "a1")
        let committed = try await producer.sendMessageInTransaction(message, arg: "argument")
        let rolledBack = try await producer.sendMessageInTransaction(Message(topic: topic, body: "rollback-1"))
        XCTAssertEqual(committed.sendStatus, .sendOK)
        XCTAssertEqual(committed.localTransactionState, .commitMessage)
        XCTAssertEqual(rolledBack.localTransactionState, .rollbackMessage)
        XCTAssertEqual(committed.transactionId, committed.msgId, "the broker answers transactionId = UNIQ_KEY")
        XCTAssertEqual(committed.sendResult.messageQueue.topic, topic)
        let executed = listener.executedMessages
        XCTAssertEqual(executed.count, 2)
        XCTAssertEqual(executed.first?.properties["TRAN_MSG"], "true")
        XCTAssertEqual(executed.first?.properties["PGROUP"], "tx_commit_producer")
        XCTAssertEqual(executed.first?.transactionId, committed.msgId)

        try await waitUntil("the committed message consumed") { collector.all.contains { body($0) == "commit-1" } }
        // Once the check service's progress has passed both half messages, neither can reach the topic any more.
        try await waitUntil("check progress past both half messages") { (try? await probe.halfProgress()) ?? 0 >= 2 }
        let consumed = collector.all
        XCTAssertFalse(consumed.contains { body($0) == "rollback-1" }, "a rolled-back message is never delivered")
        XCTAssertEqual(consumed.count, 1)
        let m = try XCTUnwrap(consumed.first)
        XCTAssertEqual(m.topic, topic)
        XCTAssertEqual(m.msgId, committed.msgId)
        XCTAssertEqual(m.tags, "TagTx")
        XCTAssertEqual(m.keys, ["tx-key-1"])
        XCTAssertEqual(m.properties["app"], "a1")
        XCTAssertNil(m.properties["TRAN_MSG"], "the committed message is not a half message")
        XCTAssertNil(m.properties["REAL_TOPIC"])
        XCTAssertEqual(m.sysFlag & 0xC, 0x8, "transaction type COMMIT")
        XCTAssertEqual(m.preparedTransactionOffset, commitLogOffset(ofOffsetMsgId: committed.sendResult.offsetMsgId))
        XCTAssertTrue(listener.checked.isEmpty, "ended transactions are never checked")
        let ops = try await probe.maxOffset(BrokerProbe.opTopic)
        XCTAssertEqual(ops, 2, "one op record per ended transaction")

        await consumer.shutdown()
        await producer.shutdown()
        await probe.shutdown()
    }

    // (b)
    func testUnknownTransactionIsCheckedAndCommittedByTheCheckAnswer() async throws {
        let cluster = try await started()
        let topic = "TxCheckTopic"
        try await cluster.createTopic(topic, queues: 2)
        let probe = BrokerProbe(cluster: cluster)
        let collector = Collector()
        let consumer = try await startPushConsumer(cluster, group: "tx_check_consumer", topic: topic, name: "c", collector: collector)
        let listener = ScriptedTransactionListener(checkAnswer: .commitMessage)
        let producer = TransactionProducer(group: "tx_check_producer", config: cluster.clientConfig, listener: listener)
        try await producer.start()

        let sent = try await producer.sendMessageInTransaction(Message(topic: topic, body: "pending-1", tags: "TagP"))
        XCTAssertEqual(sent.localTransactionState, .unknow)
        try await waitUntil("the checked message consumed", timeout: .seconds(20)) { collector.all.contains { body($0) == "pending-1" } }

        let checks = listener.checked
        XCTAssertGreaterThanOrEqual(checks.count, 1)
        let check = try XCTUnwrap(checks.first)
        XCTAssertEqual(check.topic, topic, "the check carries the real topic")
        XCTAssertEqual(check.queueId, sent.sendResult.messageQueue.queueId, "and the real queue")
        XCTAssertEqual(check.properties["TRANSACTION_CHECK_TIMES"], "1")
        XCTAssertEqual(check.msgId, sent.msgId)
        XCTAssertEqual(check.transactionId, sent.msgId)
        XCTAssertEqual(body(check), "pending-1")
        XCTAssertEqual(check.tags, "TagP")

        // The original and its re-appended copy are both behind the progress once the commit's op is read.
        try await waitUntil("check progress past original and copy") { (try? await probe.halfProgress()) ?? 0 >= 2 }
        let delivered = collector.all.filter { body($0) == "pending-1" }
        XCTAssertEqual(delivered.count, 1, "committed once")
        XCTAssertEqual(delivered.first?.msgId, sent.msgId)
        XCTAssertEqual(delivered.first?.queueId, sent.sendResult.messageQueue.queueId)

        await consumer.shutdown()
        await producer.shutdown()
        await probe.shutdown()
    }

    // A transaction that stays UNKNOW is checked transactionCheckMax times, then parked in TRANS_CHECK_MAX_TIME_TOPIC.
    func testHalfMessageCheckedTransactionCheckMaxTimesIsDiscarded() async throws {
        var config = Self.fastChecks
        config["transactionCheckMax"] = "2"
        let cluster = try await started(config)
        let topic = "TxDiscardTopic"
        try await cluster.createTopic(topic, queues: 1)
        let probe = BrokerProbe(cluster: cluster)
        let listener = ScriptedTransactionListener(checkAnswer: .unknow)
        let producer = TransactionProducer(group: "tx_discard_producer", config: cluster.clientConfig, listener: listener)
        try await producer.start()
        _ = try await producer.sendMessageInTransaction(Message(topic: topic, body: "forever-pending"))
        try await waitUntil("the message parked in TRANS_CHECK_MAX_TIME_TOPIC", timeout: .seconds(20)) {
            (try? await probe.maxOffset("TRANS_CHECK_MAX_TIME_TOPIC")) == 1
        }
        XCTAssertEqual(listener.checked.map { $0.properties["TRANSACTION_CHECK_TIMES"] ?? "" }, ["1", "2"])
        let real = try await probe.maxOffset(topic)
        XCTAssertEqual(real, 0, "a discarded transaction never reaches its topic")
        await producer.shutdown()
        await probe.shutdown()
    }

    /// A pending transaction for the manual END_TRANSACTION tests: the listener answers UNKNOW, and the
    /// broker's check runs only every 30 s (its default), so nothing ends it behind the test's back.
    func pendingTransaction(_ cluster: Cluster, topic: String, group: String, body: String)
        async throws -> (TransactionProducer, TransactionSendResult)
    {
        let producer = TransactionProducer(group: group, config: cluster.clientConfig,
                                           listener: ScriptedTransactionListener(checkAnswer: .unknow))
        try await producer.start()
        let sent = try await producer.sendMessageInTransaction(Message(topic: topic, body: body))
        XCTAssertEqual(sent.localTransactionState, .unknow)
        return (producer, sent)
    }

    func endHeader(_ sent: TransactionSendResult, group: String, type: Int32 = MessageSysFlag.transactionCommitType)
        throws -> EndTransactionRequestHeader
    {
        EndTransactionRequestHeader(
            topic: sent.sendResult.messageQueue.topic, producerGroup: group, tranStateTableOffset: sent.sendResult.queueOffset,
            commitLogOffset: try XCTUnwrap(commitLogOffset(ofOffsetMsgId: sent.sendResult.offsetMsgId)),
            commitOrRollback: type, msgId: sent.msgId, transactionId: sent.transactionId, brokerName: "broker-a")
    }

    // (c)
    func testEndTransactionWithWrongGroupOrOffsetIsRefusedAndChangesNothing() async throws {
        let cluster = try await started([:])
        let topic = "TxRefuseTopic"
        try await cluster.createTopic(topic, queues: 1)
        let probe = BrokerProbe(cluster: cluster)
        let (producer, sent) = try await pendingTransaction(cluster, topic: topic, group: "tx_refuse_producer", body: "refuse-1")
        let good = try endHeader(sent, group: "tx_refuse_producer")

        var wrongGroup = good
        wrongGroup.producerGroup = "another_group"
        var wrongQueueOffset = good
        wrongQueueOffset.tranStateTableOffset += 1
        var wrongCommitLogOffset = good
        wrongCommitLogOffset.commitLogOffset += 1
        var rollbackWrongGroup = wrongGroup
        rollbackWrongGroup.commitOrRollback = MessageSysFlag.transactionRollbackType
        for (header, remark) in [(wrongGroup, "The producer group wrong"), (wrongQueueOffset, "The transaction state table offset wrong"),
                                 (wrongCommitLogOffset, "Find prepared transaction message failed"),
                                 (rollbackWrongGroup, "The producer group wrong")] {
            let r = try await probe.endTransaction(header)
            XCTAssertEqual(r.responseCode, .systemError, "\(header)")
            XCTAssertEqual(r.remark, remark)
        }
        // A normal message's offset is not a half message.
        let plain = Producer(group: "tx_refuse_plain", config: cluster.clientConfig)
        try await plain.start()
        let normal = try await plain.send(Message(topic: topic, body: "plain-1"))
        var notHalf = good
        notHalf.commitLogOffset = try XCTUnwrap(commitLogOffset(ofOffsetMsgId: normal.offsetMsgId))
        let r = try await probe.endTransaction(notHalf)
        XCTAssertEqual(r.responseCode, .systemError)

        try await waitUntil("the plain message dispatched") { (try? await probe.maxOffset(topic)) == 1 }
        let opsBefore = try await probe.maxOffset(BrokerProbe.opTopic)
        XCTAssertEqual(opsBefore, 0, "no refused request wrote an op record")

        // The right request commits, once.
        let ok = try await probe.endTransaction(good)
        XCTAssertEqual(ok.responseCode, .success, ok.remark ?? "")
        try await waitUntil("the committed message in its topic") { (try? await probe.maxOffset(topic)) == 2 }
        try await waitUntil("the op record") { (try? await probe.maxOffset(BrokerProbe.opTopic)) == 1 }

        await plain.shutdown()
        await producer.shutdown()
        await probe.shutdown()
    }

    // (c) continued: the immunity rule and the unknown state.
    func testEndTransactionAfterTheImmunityTimeIsIllegalUnlessFromACheck() async throws {
        let cluster = try await started([:])
        let topic = "TxImmunityTopic"
        try await cluster.createTopic(topic, queues: 1)
        let probe = BrokerProbe(cluster: cluster)
        // Born a minute ago with a 10 s first-check time: the producer's own END_TRANSACTION is too late.
        let resp = try await probe.send(topic: topic, body: "late-1",
                                        properties: [("TRAN_MSG", "true"), ("PGROUP", "tx_late_group"), ("UNIQ_KEY", "LATE0001"),
                                                     ("CHECK_IMMUNITY_TIME_IN_SECONDS", "10")],
                                        sysFlag: 4, bornTimestamp: Int64(Date().timeIntervalSince1970 * 1000) - 60_000,
                                        group: "tx_late_group")
        XCTAssertEqual(resp.responseCode, .success, resp.remark ?? "")
        let h = try resp.decodeHeader(SendMessageResponseHeader.self)
        XCTAssertEqual(h.transactionId, "LATE0001")
        XCTAssertEqual(h.queueId, 0)
        var header = EndTransactionRequestHeader(
            topic: topic, producerGroup: "tx_late_group", tranStateTableOffset: try XCTUnwrap(h.queueOffset),
            commitLogOffset: try XCTUnwrap(h.msgId.flatMap(commitLogOffset(ofOffsetMsgId:))),
            commitOrRollback: MessageSysFlag.transactionCommitType, msgId: "LATE0001")
        let late = try await probe.endTransaction(header)
        XCTAssertEqual(late.responseCode, .illegalOperation)

        // UNKNOW: no answer at all, nothing done (a one-way client never waits; here the call times out).
        header.commitOrRollback = MessageSysFlag.transactionNotType
        let unknown = try? await probe.remoting.invokeSync(cluster.brokerAddr, .request(.endTransaction, header: header), timeoutMs: 300)
        XCTAssertNil(unknown)

        header.commitOrRollback = MessageSysFlag.transactionCommitType
        header.fromTransactionCheck = true
        let fromCheck = try await probe.endTransaction(header)
        XCTAssertEqual(fromCheck.responseCode, .success, "a check answer may end it")
        try await waitUntil("committed") { (try? await probe.maxOffset(topic)) == 1 }
        await probe.shutdown()
    }

    // (d)
    func testHalfMessageIsNotVisibleOnTheRealTopicBeforeCommit() async throws {
        let cluster = try await started([:])
        let topic = "TxHiddenTopic"
        try await cluster.createTopic(topic, queues: 1)
        let probe = BrokerProbe(cluster: cluster)
        let collector = Collector()
        let consumer = try await startPushConsumer(cluster, group: "tx_hidden_consumer", topic: topic, name: "c", collector: collector)
        let (producer, sent) = try await pendingTransaction(cluster, topic: topic, group: "tx_hidden_producer", body: "hidden-1")

        try await waitUntil("the half message in the half topic") { (try? await probe.maxOffset(BrokerProbe.halfTopic)) == 1 }
        XCTAssertEqual(sent.sendResult.queueOffset, 0, "its queue offset is the half queue's")
        // A plain message sent after it is delivered; the half message is not.
        let plain = Producer(group: "tx_hidden_plain", config: cluster.clientConfig)
        try await plain.start()
        _ = try await plain.send(Message(topic: topic, body: "plain-after"))
        try await waitUntil("the plain message consumed") { collector.all.contains { body($0) == "plain-after" } }
        XCTAssertEqual(collector.all.map(body), ["plain-after"])
        let realCount = try await probe.maxOffset(topic)
        XCTAssertEqual(realCount, 1)

        // Commit: now it is delivered, after the plain one.
        let ok = try await probe.endTransaction(try endHeader(sent, group: "tx_hidden_producer"))
        XCTAssertEqual(ok.responseCode, .success, ok.remark ?? "")
        try await waitUntil("the committed message consumed") { collector.all.contains { body($0) == "hidden-1" } }
        XCTAssertEqual(collector.all.map(body), ["plain-after", "hidden-1"])
        XCTAssertEqual(collector.all.last?.queueOffset, 1)

        await consumer.shutdown()
        await plain.shutdown()
        await producer.shutdown()
        await probe.shutdown()
    }

    // A broker with rejectTransactionMessage=true refuses half messages.
    func testRejectTransactionMessageRefusesHalfMessages() async throws {
        let cluster = try await started(["rejectTransactionMessage": "true"])
        try await cluster.createTopic("TxRejectTopic", queues: 1)
        let producer = TransactionProducer(group: "tx_reject_producer", config: cluster.clientConfig,
                                           listener: ScriptedTransactionListener(checkAnswer: .commitMessage))
        try await producer.start()
        do {
            _ = try await producer.sendMessageInTransaction(Message(topic: "TxRejectTopic", body: "commit-no"))
            XCTFail("half message accepted")
        } catch {
            // NO_PERMISSION is one of the codes a sync send retries, so the last answer is inside sendFailed.
            XCTAssertTrue(error.description.contains("CODE: 16 DESC: the broker[127.0.0.1] sending transaction message is forbidden"),
                          error.description)
        }
        let probe = BrokerProbe(cluster: cluster)
        let half = try await probe.maxOffset(BrokerProbe.halfTopic)
        XCTAssertEqual(half, 0, "nothing stored")
        await probe.shutdown()
        await producer.shutdown()
    }

    // (e)
    func testMQBenchTxShortRunReportsNoFailures() async throws {
        let cluster = try await started(["transactionCheckInterval": "300", "transactionTimeOut": "1000"])
        let bench = try findBinary("mqbench", env: "APUS_MQBENCH")
        let run = try await runToCompletion(bench, [
            "tx", "-n", cluster.namesrvAddr, "-t", "TxBenchTopic", "-w", "4", "-s", "256", "-q", "200",
            "-sr", "0.2", "-su", "0.2", "-cr", "0.2", "-cu", "0.3", "-ri", "1000", "--verify-timeout", "30",
        ], timeout: .seconds(90))
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        let summary = try XCTUnwrap(run.stdout.split(separator: "\n").first { $0.hasPrefix("[Summary]") }, run.stdout)
        XCTAssertTrue(summary.contains("failures: 0"), String(summary))
        XCTAssertTrue(run.stdout.contains("[Complete] Send Total: 200 "), run.stdout)
        // Every planned commit was consumed and nothing else.
        let fields = Dictionary(uniqueKeysWithValues: summary.dropFirst("[Summary] ".count).split(separator: "|").compactMap { part -> (String, Int)? in
            let kv = part.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, let n = Int(kv[1]) else { return nil }
            return (kv[0], n)
        })
        XCTAssertEqual(fields["sent"], 200, String(summary))
        XCTAssertEqual(fields["consumed"], fields["expected commits"], String(summary))
        XCTAssertGreaterThan(fields["checks"] ?? 0, 0, "UNKNOW transactions were checked: \(summary)")
    }
}
