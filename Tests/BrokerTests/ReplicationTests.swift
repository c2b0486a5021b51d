// Master/slave replication on loopback (issue 10): a SYNC_MASTER and a slave started in one process, the
// slave following the master's HA port. SYNC_MASTER answers SLAVE_NOT_AVAILABLE with no slave, SEND_OK only
// once the slave holds the message; the slave's CommitLog is byte-identical to the master's, its
// ConsumeQueues serve pulls, and it refuses sends.

import Common
import Foundation
import Logging
import NIOCore
import NIOPosix
import NameServer
import Remoting
import Store
import XCTest

@testable import Broker

final class ReplicationTests: XCTestCase {
    var group: MultiThreadedEventLoopGroup!
    var client: RemotingClient!
    var directories: [String] = []
    var namesrv: NamesrvController!
    var namesrvAddr = ""

    override func setUp() async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        client = RemotingClient(group: group, logger: Logger(label: "test"))
        // The slave learns its master's address (for metadata) from its registration, as in a real cluster.
        var nc = NamesrvConfig()
        nc.listenPort = 0
        nc.bindAddress = "127.0.0.1"
        let dir = NSTemporaryDirectory() + "apus-ha-ns-\(UUID().uuidString)"
        directories.append(dir)
        nc.kvConfigPath = dir + "/kvConfig.json"
        nc.configStorePath = dir + "/namesrv.properties"
        var logger = Logger(label: "namesrv")
        logger.logLevel = .warning
        namesrv = NamesrvController(config: nc, group: group, logger: logger)
        namesrvAddr = "127.0.0.1:\(try await namesrv.start())"
    }

    override func tearDown() async throws {
        await namesrv.shutdown()
        await client.shutdown()
        try await group.shutdownGracefully()
        for d in directories { try? FileManager.default.removeItem(atPath: d) }
    }

    func startBroker(role: BrokerRole, brokerId: Int64 = 0, haMaster: String? = nil, fileSize: Int64 = 1 << 20) async throws -> BrokerController {
        var logger = Logger(label: "replication")
        logger.logLevel = .warning
        let directory = NSTemporaryDirectory() + "apus-ha-\(UUID().uuidString)"
        directories.append(directory)
        var bc = BrokerConfig()
        bc.brokerIP1 = "127.0.0.1"
        bc.listenPort = 0
        bc.namesrvAddr = namesrvAddr
        bc.brokerName = "broker-a"
        bc.brokerId = brokerId
        var sc = MessageStoreConfig(storePathRootDir: directory)
        sc.mappedFileSizeCommitLogBytes = fileSize
        sc.brokerRole = role
        sc.haMasterAddress = haMaster
        sc.slaveTimeoutMs = 3_000
        return try await BrokerController.start(brokerConfig: bc, storeConfig: sc, group: group, logger: logger)
    }

    func send(_ broker: BrokerController, _ body: String, topic: String = "Replicated") async throws -> RemotingCommand {
        let header = SendMessageRequestHeader(producerGroup: "PG", topic: topic, queueId: 0, bornTimestamp: WallClock.nowMs(), properties: "")
        return try await client.invokeSync(broker.brokerConfig.brokerAddr, .request(
            .sendMessageV2, header: SendMessageRequestHeaderV2(header), body: ByteBuffer(bytes: Array(body.utf8))))
    }

    /// Waits (up to 10 s) for `condition`.
    func eventually(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else { return XCTFail("timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    func commitLogBytes(_ broker: BrokerController, upTo end: Int64) -> [UInt8] {
        let dir = broker.store.config.commitLogPath
        let size = broker.store.config.mappedFileSizeCommitLogBytes
        var out: [UInt8] = []
        var start: Int64 = 0
        while start < end, let data = FileManager.default.contents(atPath: dir + "/" + MappedFile.fileName(forOffset: start)) {
            out += data.prefix(Int(min(size, end - start)))
            start += size
        }
        return out
    }

    func testSyncMasterWaitsForItsSlaveAndTheSlaveHoldsEveryAcknowledgedByte() async throws {
        let master = try await startBroker(role: .syncMaster)
        // No slave yet: stored on the master, answered SLAVE_NOT_AVAILABLE at once (4.x rules).
        let lonely = try await send(master, "before any slave")
        XCTAssertEqual(lonely.responseCode, .slaveNotAvailable, lonely.remark ?? "")
        XCTAssertNotNil(lonely.extFields?["msgId"])
        let haAddress = "127.0.0.1:\(try XCTUnwrap(master.haService).port)"
        let slave = try await startBroker(role: .slave, brokerId: 1, haMaster: haAddress)
        // The slave starts at the master's last file (offset 0 here) and catches up.
        try await eventually("the slave to catch up") { slave.store.maxPhysicalOffset == master.store.maxPhysicalOffset }
        for i in 0..<200 {
            let r = try await send(master, "message \(i) " + String(repeating: "x", count: i * 37))
            XCTAssertEqual(r.responseCode, .success, "send \(i): \(r.remark ?? "")")
            // SEND_OK under SYNC_MASTER: the slave already holds this message (its end, so past its start).
            let physical = try XCTUnwrap(OffsetMessageId.parse(r.extFields?["msgId"] ?? "")).physicalOffset
            XCTAssertGreaterThan(slave.store.maxPhysicalOffset, physical, "send \(i) acknowledged before the slave held it")
        }
        let end = master.store.maxPhysicalOffset
        try await eventually("the slave to hold every byte") { slave.store.maxPhysicalOffset == end }
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(master.haService).acknowledgedOffset, end)
        // Byte-identical CommitLogs, across a file roll (1 MiB files).
        XCTAssertEqual(commitLogBytes(slave, upTo: end), commitLogBytes(master, upTo: end))
        // The slave dispatched what it received: its ConsumeQueue serves the 201 messages.
        try await eventually("the slave's ConsumeQueue") { slave.store.maxOffsetInQueue(topic: "Replicated", queueId: 0) == 201 }
        let pulled = try await client.invokeSync(slave.brokerConfig.brokerAddr, .request(.pullMessage, header: PullMessageRequestHeader(
            consumerGroup: "G", topic: "Replicated", queueId: 0, queueOffset: 0, maxMsgNums: 32, sysFlag: PullSysFlag.subscription,
            subscription: "*")))
        XCTAssertEqual(pulled.responseCode, .success, pulled.remark ?? "")
        let messages = MessageDecoder.decodeAll(Array(buffer: try XCTUnwrap(pulled.body)))
        XCTAssertEqual(messages.first.map { String(decoding: $0.body, as: UTF8.self) }, "before any slave")
        // A slave refuses sends before queueing them.
        let refused = try await send(slave, "to the slave")
        XCTAssertEqual(refused.responseCode, .systemBusy)
        XCTAssertEqual(refused.remark, "[REJECTREQUEST]system busy, start flow control for a while")
        // The master sees its slave.
        XCTAssertEqual(try XCTUnwrap(master.haService).slaves.count, 1)

        // The slave stops: SYNC_MASTER waits for an ack that never comes, then says so (or, once the master
        // noticed the closed connection, answers SLAVE_NOT_AVAILABLE at once). Never SEND_OK.
        await slave.shutdown()
        let orphan = try await send(master, "after the slave left")
        XCTAssertTrue([ResponseCode.flushSlaveTimeout, .slaveNotAvailable].contains(orphan.responseCode), "\(orphan.code) \(orphan.remark ?? "")")
        await master.shutdown()
    }

    func testAsyncMasterSlaveRestartsAndCatchesUpFromItsOwnOffset() async throws {
        let master = try await startBroker(role: .asyncMaster)
        let haAddress = "127.0.0.1:\(try XCTUnwrap(master.haService).port)"
        for i in 0..<50 { _ = try await send(master, "early \(i)") }
        var slave = try await startBroker(role: .slave, brokerId: 1, haMaster: haAddress)
        let slaveDirectory = slave.store.config.storePathRootDir
        try await eventually("the first catch-up") { slave.store.maxPhysicalOffset == master.store.maxPhysicalOffset }
        await slave.shutdown()
        // Written while the slave is down; it reports its own end on reconnecting and continues from there.
        for i in 0..<50 {
            let r = try await send(master, "while away \(i)")
            XCTAssertEqual(r.responseCode, .success)
        }
        var logger = Logger(label: "replication")
        logger.logLevel = .warning
        var bc = BrokerConfig()
        bc.brokerIP1 = "127.0.0.1"
        bc.listenPort = 0
        bc.namesrvAddr = namesrvAddr
        bc.brokerName = "broker-a"
        bc.brokerId = 1
        var sc = MessageStoreConfig(storePathRootDir: slaveDirectory)
        sc.mappedFileSizeCommitLogBytes = 1 << 20
        sc.brokerRole = .slave
        sc.haMasterAddress = haAddress
        slave = try await BrokerController.start(brokerConfig: bc, storeConfig: sc, group: group, logger: logger)
        let end = master.store.maxPhysicalOffset
        try await eventually("the second catch-up") { slave.store.maxPhysicalOffset == end }
        XCTAssertEqual(commitLogBytes(slave, upTo: end), commitLogBytes(master, upTo: end))
        try await eventually("dispatch on the slave") { slave.store.maxOffsetInQueue(topic: "Replicated", queueId: 0) == 100 }
        await slave.shutdown()
        await master.shutdown()
    }
}
