// PullMessageProcessor and SendMessageBackProcessor built over fake environments (plain tables, a store
// that answers what the test says): no BrokerController, no MessageStore. Served by a plain RemotingServer
// on loopback with the executions the broker registers them with, so answers are real bytes on the wire.

import Common
import Foundation
import Logging
import NIOCore
import NIOPosix
import Remoting
@testable import Store
import Synchronization
import XCTest

@testable import Broker

final class FakePullEnvironment: PullMessageEnvironment, Sendable {
    let config = Mutex(BrokerConfig())
    let tables = Mutex(FixedTables.standard)
    let groupInfo = Mutex<[String: ConsumerGroupInfo]>([:])
    /// What the store answers every read with.
    let readResult = Mutex(GetMessageResult(status: .noMessageInQueue, nextBeginOffset: 0, minOffset: 0, maxOffset: 0))
    let pullOffsets = Mutex<[Int64]>([])
    let commits = Mutex<[Int64]>([])
    let suspended = Mutex<[PullRequest]>([])
    let pullExecutor = RequestExecutor(name: "PullMessageThread", threads: 1, queueCapacity: 16)
    /// The processor under test: a parked pull is re-executed at once (as if its hold time ended).
    let processor = Mutex<PullMessageProcessor?>(nil)

    var brokerConfig: BrokerConfig { config.withLock { $0 } }
    var logger: Logger { Logger(label: "test") }
    func subscriptionGroup(_ name: String, autoCreate: Bool) -> SubscriptionGroupConfig? {
        tables.withLock { $0.groups[name] ?? (autoCreate ? SubscriptionGroupConfig(groupName: name) : nil) }
    }
    func topicConfig(_ topic: String) -> TopicConfig? { tables.withLock { $0.topics[topic] } }
    func consumerGroupInfo(_ group: String) -> ConsumerGroupInfo? { groupInfo.withLock { $0[group] } }
    func compileSQLFilter(_ text: String) -> Result<SQLFilterExpression, SQLFilterExpression.CompileError> {
        Result { () throws(SQLFilterExpression.CompileError) in try SQLFilterExpression(text) }
    }
    func getMessage(topic: String, queueId: Int32, offset: Int64, maxMsgNums: Int, tagsCodes: Set<Int32>,
                    propertiesFilter: (([String: String]) -> Bool)?) -> GetMessageResult {
        readResult.withLock { $0 }
    }
    func commitPullOffset(group: String, topic: String, queueId: Int32, offset: Int64) { pullOffsets.withLock { $0.append(offset) } }
    func commitOffset(group: String, topic: String, queueId: Int32, offset: Int64) { commits.withLock { $0.append(offset) } }
    func suspend(_ request: PullRequest) {
        suspended.withLock { $0.append(request) }
        processor.withLock { $0 }?.reexecute(request, on: pullExecutor)
    }
    func recordGet(group: String, topic: String, result: GetMessageResult) {}
    func attachBody(_ result: GetMessageResult, to response: inout RemotingCommand, zeroCopy: Bool, thresholdBytes: Int) {}
    func executor(for code: RequestCode?) -> RequestExecutor { pullExecutor }
    let slave = Atomic<Bool>(false)
    var isSlave: Bool { slave.load(ordering: .relaxed) }
}

final class ProcessorUnitTests: XCTestCase {
    var group: MultiThreadedEventLoopGroup!
    var server: RemotingServer!
    var client: RemotingClient!
    var pullEnv: FakePullEnvironment!
    var sendEnv: FakeSendEnvironment!
    var address = ""

    override func setUp() async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let logger = Logger(label: "test")
        server = RemotingServer(config: RemotingServerConfig(host: "127.0.0.1", port: 0), group: group, logger: logger)
        pullEnv = FakePullEnvironment()
        let pull = PullMessageProcessor(environment: pullEnv)
        pullEnv.processor.withLock { $0 = pull }
        server.registerProcessor(.pullMessage, pull, on: .executor(pullEnv.pullExecutor))
        sendEnv = FakeSendEnvironment()
        let sendExecutor = RequestExecutor(name: "SendMessageThread", threads: 1, queueCapacity: 16)
        server.registerProcessor(.consumerSendMsgBack, SendMessageBackProcessor(environment: sendEnv), on: .executor(sendExecutor))
        let bound = try await server.start()
        address = "127.0.0.1:\(bound.port ?? 0)"
        client = RemotingClient(group: group, logger: logger)
    }

    override func tearDown() async throws {
        pullEnv.processor.withLock { $0 = nil }
        await client.shutdown()
        await server.shutdown()
        await pullEnv.pullExecutor.shutdownGracefully()
        try await group.shutdownGracefully()
    }

    func pull(topic: String = "T", queueId: Int32 = 0, offset: Int64 = 0, sysFlag: Int32 = PullSysFlag.subscription,
              commitOffset: Int64 = 0) async throws -> RemotingCommand {
        let header = PullMessageRequestHeader(consumerGroup: "G", topic: topic, queueId: queueId, queueOffset: offset,
                                              sysFlag: sysFlag, commitOffset: commitOffset, suspendTimeoutMillis: 15_000,
                                              subscription: "*")
        return try await client.invokeSync(address, .request(.pullMessage, header: header))
    }

    // MARK: pull

    func testUnknownTopicAndQueueAreRefused() async throws {
        var r = try await pull(topic: "Nope")
        XCTAssertEqual(r.responseCode, .topicNotExist)
        XCTAssertEqual(r.remark, "topic[Nope] not exist, apply first please!")
        r = try await pull(queueId: 4)
        XCTAssertEqual(r.responseCode, .invalidParameter)
        XCTAssertTrue(r.remark?.hasPrefix("queueId[4] is illegal") ?? false, r.remark ?? "")
        XCTAssertTrue(pullEnv.pullOffsets.withLock { $0.isEmpty })
    }

    func testUnreadableBrokerAnswersNoPermissionWithItsForbiddenType() async throws {
        pullEnv.config.withLock { $0.brokerPermission = 2 }  // write only
        let r = try await pull()
        XCTAssertEqual(r.responseCode, .noPermission)
        XCTAssertEqual(r.extFields?["forbiddenType"], "1")
    }

    func testPullWithoutPostedSubscriptionNeedsTheHeartbeatOne() async throws {
        var r = try await pull(sysFlag: 0)
        XCTAssertEqual(r.responseCode, .subscriptionNotExist)
        XCTAssertEqual(r.remark, "the consumer's group info not exist")
        var info = ConsumerGroupInfo()
        info.subscriptions["Other"] = FilterAPI.buildSubscriptionData(topic: "Other", expression: "*")
        pullEnv.groupInfo.withLock { $0["G"] = info }
        r = try await pull(sysFlag: 0)
        XCTAssertEqual(r.responseCode, .subscriptionNotExist)
        XCTAssertEqual(r.remark, "the consumer's subscription not exist")
    }

    func testStoreStatusesMapToPullCodesAndOffsets() async throws {
        pullEnv.readResult.withLock { $0 = GetMessageResult(status: .offsetTooSmall, nextBeginOffset: 7, minOffset: 7, maxOffset: 9) }
        let r = try await pull(offset: 3)
        XCTAssertEqual(r.responseCode, .pullOffsetMoved)
        XCTAssertEqual(r.extFields?["nextBeginOffset"], "7")
        XCTAssertEqual(r.extFields?["minOffset"], "7")
        XCTAssertEqual(r.extFields?["maxOffset"], "9")
        XCTAssertEqual(pullEnv.pullOffsets.withLock { $0 }, [7])
    }

    func testEmptyQueueParksTheSuspendablePullAndItsReexecutionAnswers() async throws {
        let flags = PullSysFlag.subscription | PullSysFlag.suspend | PullSysFlag.commitOffset
        let r = try await pull(offset: 0, sysFlag: flags, commitOffset: 5)
        // Parked once, then re-executed (the fake ends its hold at once): answered NOT_FOUND, and the
        // consumer's offset was committed only by the first execution.
        XCTAssertEqual(r.responseCode, .pullNotFound)
        XCTAssertEqual(pullEnv.suspended.withLock { $0.count }, 1)
        XCTAssertEqual(pullEnv.commits.withLock { $0 }, [5])
        XCTAssertEqual(pullEnv.pullOffsets.withLock { $0.count }, 2)
    }

    func testSlaveSendsConsumersBackToTheMasterUnlessItHasMessages() async throws {
        pullEnv.slave.store(true, ordering: .relaxed)
        pullEnv.readResult.withLock { $0 = GetMessageResult(status: .offsetTooSmall, nextBeginOffset: 7, minOffset: 7, maxOffset: 9) }
        var r = try await pull(offset: 3, sysFlag: PullSysFlag.subscription | PullSysFlag.suspend)
        // No offset correction on a slave (offsetCheckInSlave off) and no long polling: back to the master.
        XCTAssertEqual(r.responseCode, .pullRetryImmediately)
        XCTAssertEqual(r.extFields?["nextBeginOffset"], "3")
        XCTAssertEqual(r.extFields?["suggestWhichBrokerId"], "0")
        pullEnv.readResult.withLock { $0 = GetMessageResult(status: .noMessageInQueue, nextBeginOffset: 0, minOffset: 0, maxOffset: 0) }
        r = try await pull(offset: 0, sysFlag: PullSysFlag.subscription | PullSysFlag.suspend)
        XCTAssertEqual(r.responseCode, .pullRetryImmediately)
        XCTAssertTrue(pullEnv.suspended.withLock { $0.isEmpty })
    }

    // MARK: send-back

    func storeOriginal(at offset: Int64, reconsumeTimes: Int32) {
        var m = MessageExt(message: Message(topic: "T", body: Array("payload".utf8), tags: "A"))
        m.commitLogOffset = offset
        m.reconsumeTimes = reconsumeTimes
        m.storeHost = MessageHost(.v4(0x7F00_0001), port: 10911)
        sendEnv.store.stored.withLock { $0[offset] = StoredMessage(m) }
    }

    func sendBack(offset: Int64, group: String = "G", delayLevel: Int32 = 0) async throws -> RemotingCommand {
        let header = ConsumerSendMsgBackRequestHeader(offset: offset, group: group, delayLevel: delayLevel)
        return try await client.invokeSync(address, .request(.consumerSendMsgBack, header: header))
    }

    func testSendBackGoesToTheRetryTopicThroughItsDelayLevel() async throws {
        storeOriginal(at: 1000, reconsumeTimes: 0)
        let r = try await sendBack(offset: 1000)
        XCTAssertEqual(r.responseCode, .success, r.remark ?? "")
        let puts = sendEnv.store.puts.withLock { $0.map(\.0) }
        XCTAssertEqual(puts.count, 1)
        // Delay level 3 + reconsumeTimes: stored for the schedule topic, real topic %RETRY%G.
        let props = MessageProperties.decode(puts[0].properties)
        XCTAssertEqual(puts[0].topic, "SCHEDULE_TOPIC_XXXX")
        XCTAssertEqual(props[MessageProperties.realTopic], "%RETRY%G")
        XCTAssertEqual(props["RETRY_TOPIC"], "T")
        XCTAssertEqual(props["ORIGIN_MESSAGE_ID"], OffsetMessageId.make(host: MessageHost(.v4(0x7F00_0001), port: 10911), physicalOffset: 1000))
        XCTAssertEqual(puts[0].reconsumeTimes, 1)
    }

    func testSendBackPastTheMaximumGoesToTheDeadLetterTopic() async throws {
        storeOriginal(at: 2000, reconsumeTimes: 16)
        let r = try await sendBack(offset: 2000)
        XCTAssertEqual(r.responseCode, .success, r.remark ?? "")
        XCTAssertEqual(sendEnv.store.puts.withLock { $0.map(\.0.topic) }, ["%DLQ%G"])
    }

    func testSendBackOfAMissingMessageStoresNothing() async throws {
        // An unknown group is created first (autoCreateSubscriptionGroup, as Java's findSubscriptionGroupConfig),
        // with its retry topic; the message is looked up only after those checks.
        var r = try await sendBack(offset: 1000, group: "Unknown")
        XCTAssertEqual(r.responseCode, .systemError)
        XCTAssertEqual(sendEnv.created.withLock { $0 }, [.subscriptionGroup("Unknown"), .topic("%RETRY%Unknown", queueNums: 1, perm: 6)])
        r = try await sendBack(offset: 4242)
        XCTAssertEqual(r.responseCode, .systemError)
        XCTAssertEqual(r.remark, "look message by offset failed, 4242")
        XCTAssertTrue(sendEnv.store.puts.withLock { $0.isEmpty })
    }
}
