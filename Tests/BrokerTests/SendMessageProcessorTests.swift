// SendMessageProcessor built over a fake environment (tables as values, a store that records puts): no
// BrokerController, no MessageStore. Served by a plain RemotingServer on loopback with the registration the
// broker uses (`.eventLoopThen(send executor)`), so the event-loop path, the offload of sends that must
// create a topic or whose put would wait, and the answers' bytes are all exercised.

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

final class RecordingStore: MessageStoring, Sendable {
    let puts = Mutex<[(MessageToStore, onEventLoop: Bool)]>([])
    /// When true, `tryPutMessage` declines (as at a segment roll) and the put happens on the executor.
    let declineTry = Atomic<Bool>(false)
    let busy = Atomic<Bool>(false)
    /// What `storedMessage(atPhysicalOffset:)` finds (send-back reads the message it copies).
    let stored = Mutex<[Int64: StoredMessage]>([:])

    private func ok(_ m: MessageToStore) -> PutMessageResult {
        let n = puts.withLock { Int64($0.count) }
        return PutMessageResult(status: .putOk, append: AppendMessageResult(
            physicalOffset: 100 * n, wroteBytes: 100, queueOffset: n, messageCount: 1, storeTimestampMs: 1,
            storeHost: MessageHost(.v4(0x7F00_0001), port: 10911), batchRecordSizes: []))
    }

    func putMessage(_ message: MessageToStore, completion: @escaping @Sendable (PutMessageResult) -> Void) {
        let r = ok(message)
        puts.withLock { $0.append((message, false)) }
        completion(r)
    }
    func putMessages(_ batch: MessageBatchToStore, completion: @escaping @Sendable (PutMessageResult) -> Void) {
        completion(PutMessageResult(status: .messageIllegal, remark: "no batches here"))
    }
    func tryPutMessage(_ message: MessageToStore, completion: @escaping @Sendable (PutMessageResult) -> Void) -> Bool {
        if declineTry.load(ordering: .relaxed) { return false }
        let r = ok(message)
        puts.withLock { $0.append((message, true)) }
        completion(r)
        return true
    }
    func tryPutMessages(_ batch: MessageBatchToStore, completion: @escaping @Sendable (PutMessageResult) -> Void) -> Bool { false }
    var isOSPageCacheBusy: Bool { busy.load(ordering: .relaxed) }
    var isSlave: Bool { false }
    func storedMessage(atPhysicalOffset offset: Int64) -> StoredMessage? { stored.withLock { $0[offset] } }
}

final class FakeSendEnvironment: SendMessageEnvironment, Sendable {
    let table = Mutex(FixedTables.standard)
    let created = Mutex<[RouteCreation]>([])
    let store = RecordingStore()

    var routingSettings: RoutingSettings { RoutingSettings() }
    var tables: any RoutingTables { table.withLock { $0 } }
    var messageStore: any MessageStoring { store }
    func makeUniqueKey() -> String { "BROKER-MADE" }
    func recordPut(messages: Int, bytes: Int, ok: Bool) {}
    func create(_ creations: [RouteCreation]) {
        created.withLock { $0 += creations }
        table.withLock { t in
            for c in creations {
                switch c {
                case .topicFromTemplate(let topic, _, let n, _): t.topics[topic] = TopicConfig(topicName: topic, readQueueNums: n, writeQueueNums: n)
                case .topic(let topic, let n, let perm): t.topics[topic] = TopicConfig(topicName: topic, readQueueNums: n, writeQueueNums: n, perm: perm)
                case .subscriptionGroup(let g): t.groups[g] = SubscriptionGroupConfig(groupName: g)
                }
            }
        }
    }
}

final class SendMessageProcessorTests: XCTestCase {
    var group: MultiThreadedEventLoopGroup!
    var server: RemotingServer!
    var client: RemotingClient!
    var env: FakeSendEnvironment!
    var address = ""

    override func setUp() async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let logger = Logger(label: "test")
        server = RemotingServer(config: RemotingServerConfig(host: "127.0.0.1", port: 0), group: group, logger: logger)
        env = FakeSendEnvironment()
        let executor = RequestExecutor(name: "SendMessageThread", threads: 1, queueCapacity: 16)
        let processor = SendMessageProcessor(environment: env)
        server.registerProcessor(.sendMessageV2, processor, on: .eventLoopThen(executor))
        let bound = try await server.start()
        address = "127.0.0.1:\(bound.port ?? 0)"
        client = RemotingClient(group: group, logger: logger)
    }

    override func tearDown() async throws {
        await client.shutdown()
        await server.shutdown()
        try await group.shutdownGracefully()
    }

    func send(_ topic: String, queueId: Int32 = 0, properties: String = "") async throws -> RemotingCommand {
        let header = SendMessageRequestHeader(producerGroup: "PG", topic: topic, queueId: queueId, bornTimestamp: 1,
                                              properties: properties)
        return try await client.invokeSync(address, .request(.sendMessageV2, header: SendMessageRequestHeaderV2(header),
                                                             body: ByteBuffer(bytes: Array("hello".utf8))))
    }

    func testKnownTopicIsPutFromTheEventLoop() async throws {
        let r = try await send("T", queueId: 2)
        XCTAssertEqual(r.responseCode, .success, r.remark ?? "")
        XCTAssertEqual(r.extFields?["queueId"], "2")
        XCTAssertEqual(r.extFields?["MSG_REGION"], "DefaultRegion")
        let puts = env.store.puts.withLock { $0 }
        XCTAssertEqual(puts.count, 1)
        XCTAssertTrue(puts[0].onEventLoop)
        XCTAssertEqual(MessageProperties.decode(puts[0].0.properties)["UNIQ_KEY"], "BROKER-MADE")
    }

    func testSendThatMustCreateItsTopicRunsOnTheExecutor() async throws {
        let r = try await send("Fresh", queueId: 0)
        XCTAssertEqual(r.responseCode, .success, r.remark ?? "")
        XCTAssertEqual(env.created.withLock { $0 }, [.topicFromTemplate(topic: "Fresh", template: "TBW102", queueNums: 4, topicSysFlag: 0)])
        let puts = env.store.puts.withLock { $0 }
        XCTAssertEqual(puts.map(\.0.topic), ["Fresh"])
        XCTAssertFalse(puts[0].onEventLoop)
    }

    func testPutThatWouldWaitRunsOnTheExecutor() async throws {
        env.store.declineTry.store(true, ordering: .relaxed)
        let r = try await send("T")
        XCTAssertEqual(r.responseCode, .success, r.remark ?? "")
        XCTAssertEqual(env.store.puts.withLock { $0.map(\.onEventLoop) }, [false])
    }

    func testBusyPageCacheRejectsBeforeQueueing() async throws {
        env.store.busy.store(true, ordering: .relaxed)
        let r = try await send("T")
        XCTAssertEqual(r.responseCode, .systemBusy)
        XCTAssertEqual(r.remark, "[REJECTREQUEST]system busy, start flow control for a while")
        XCTAssertTrue(env.store.puts.withLock { $0.isEmpty })
    }

    func testRefusalIsAnsweredWithItsRemark() async throws {
        let r = try await send("T", queueId: 9)
        XCTAssertEqual(r.responseCode, .invalidParameter)
        XCTAssertTrue(r.remark?.hasPrefix("request queueId[9] is illegal") ?? false, r.remark ?? "")
    }
}
