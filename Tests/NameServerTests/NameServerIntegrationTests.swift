// Integration tests against a real `mqnamesrv` process on an ephemeral port: registration, routes and
// cluster info read back exactly, expiry, closed connections, topic deletion, write permissions, KV config,
// settings, clean stop.

import Foundation
import Logging
import NIOCore
import NIOPosix
import Remoting
import XCTest

final class NameServerIntegrationTests: XCTestCase {
    var group: MultiThreadedEventLoopGroup!
    var namesrv: NamesrvProcess!
    var admin: RemotingClient!
    var brokerClients: [RemotingClient] = []
    let logger = Logger(label: "test")

    override func setUp() async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        admin = RemotingClient(group: group, logger: logger)
    }

    override func tearDown() async throws {
        for c in brokerClients { await c.shutdown() }
        await admin.shutdown()
        if let namesrv { await namesrv.stop() }
        try await group.shutdownGracefully()
    }

    func startNamesrv(_ extra: [String] = [], directory: URL? = nil) async throws {
        namesrv = try NamesrvProcess(directory: directory, extraArguments: extra)
        try await namesrv.start()
    }

    func broker(_ cluster: String, _ name: String, _ id: Int64, _ addr: String, _ topics: [TopicConfig]) -> FakeBroker {
        let client = RemotingClient(group: group, logger: logger)
        brokerClients.append(client)
        return FakeBroker(client: client, cluster: cluster, name: name, id: id, addr: addr, topics: topics)
    }

    /// broker-a master and slave in cluster c1, broker-b in c2.
    func registerThree() async throws -> (FakeBroker, FakeBroker, FakeBroker) {
        let aTopics = [
            TopicConfig(topicName: "TopicA", readQueueNums: 4, writeQueueNums: 4, perm: 6),
            TopicConfig(topicName: "TopicShared", readQueueNums: 8, writeQueueNums: 8, perm: 6),
            TopicConfig(topicName: "TBW102", readQueueNums: 8, writeQueueNums: 8, perm: 7),
        ]
        let bTopics = [
            TopicConfig(topicName: "TopicB", readQueueNums: 2, writeQueueNums: 2, perm: 6, topicSysFlag: 1),
            TopicConfig(topicName: "TopicShared", readQueueNums: 16, writeQueueNums: 16, perm: 6),
        ]
        let master = broker("c1", "broker-a", 0, "10.0.0.1:10911", aTopics)
        let slave = broker("c1", "broker-a", 1, "10.0.0.2:10911", aTopics)
        let other = broker("c2", "broker-b", 0, "10.0.0.3:10911", bTopics)
        let r1 = try await master.register(at: namesrv.address)
        XCTAssertEqual(r1.responseCode, .success)
        XCTAssertEqual(r1.extFields, [:])
        let r2 = try await slave.register(at: namesrv.address)
        XCTAssertEqual(r2.responseCode, .success)
        XCTAssertEqual(r2.extFields?["masterAddr"], "10.0.0.1:10911")
        XCTAssertEqual(r2.extFields?["haServerAddr"], "10.0.0.1:10912")
        let r3 = try await other.register(at: namesrv.address)
        XCTAssertEqual(r3.responseCode, .success)
        return (master, slave, other)
    }

    func requireBody(_ r: RemotingCommand) throws -> ByteBuffer { try XCTUnwrap(r.body, "no body; code \(r.code) remark \(r.remark ?? "")") }

    func route(_ topic: String, version: Int32 = 479) async throws -> RemotingCommand {
        var r = RemotingCommand.request(.getRouteInfoByTopic, header: GetRouteInfoRequestHeader(topic: topic))
        r.version = version
        return try await admin.invokeSync(namesrv.address, r)
    }

    func clusterInfo() async throws -> ClusterInfo {
        try await Probe(client: admin, address: namesrv.address).clusterInfo()
    }

    func testRegisteredBrokersRoutesAndClusterInfoReadBackExactly() async throws {
        try await startNamesrv()
        _ = try await registerThree()

        let a = try await route("TopicA")
        XCTAssertEqual(a.responseCode, .success)
        let routeA = try TopicRouteData.decode(try XCTUnwrap(a.body))
        XCTAssertEqual(routeA.queueDatas, [QueueData(brokerName: "broker-a", readQueueNums: 4, writeQueueNums: 4, perm: 6)])
        XCTAssertEqual(routeA.brokerDatas, [BrokerData(cluster: "c1", brokerName: "broker-a",
                                                       brokerAddrs: [0: "10.0.0.1:10911", 1: "10.0.0.2:10911"])])
        XCTAssertEqual(routeA.filterServerTable, [:])

        let shared = try TopicRouteData.decode(try await requireBody(route("TopicShared")))
        XCTAssertEqual(shared.queueDatas, [
            QueueData(brokerName: "broker-a", readQueueNums: 8, writeQueueNums: 8, perm: 6),
            QueueData(brokerName: "broker-b", readQueueNums: 16, writeQueueNums: 16, perm: 6),
        ])
        XCTAssertEqual(shared.brokerDatas.map(\.brokerName), ["broker-a", "broker-b"])

        // Old clients (C++ reports 333) get bare numeric keys, new ones quoted keys.
        let old = String(buffer: try await requireBody(route("TopicA", version: 333)))
        XCTAssertTrue(old.contains(#"{0:"10.0.0.1:10911",1:"10.0.0.2:10911"}"#), old)
        let new = String(buffer: try XCTUnwrap(a.body))
        XCTAssertTrue(new.contains(#"{"0":"10.0.0.1:10911","1":"10.0.0.2:10911"}"#), new)

        let info = try await clusterInfo()
        XCTAssertEqual(info.clusterAddrTable, ["c1": ["broker-a"], "c2": ["broker-b"]])
        XCTAssertEqual(info.brokerAddrTable["broker-a"]?.brokerAddrs, [0: "10.0.0.1:10911", 1: "10.0.0.2:10911"])
        XCTAssertEqual(info.brokerAddrTable["broker-b"]?.brokerAddrs, [0: "10.0.0.3:10911"])
        XCTAssertEqual(info.brokerAddrTable["broker-b"]?.cluster, "c2")

        let all = try await admin.invokeSync(namesrv.address, .request(.getAllTopicListFromNameServer))
        XCTAssertEqual(try TopicList.decode(try XCTUnwrap(all.body)).topicList.sorted(),
                       ["TBW102", "TopicA", "TopicB", "TopicShared"])
        let byCluster = try await admin.invokeSync(
            namesrv.address, .request(.getTopicsByCluster, header: GetTopicsByClusterRequestHeader(cluster: "c2")))
        XCTAssertEqual(try TopicList.decode(try XCTUnwrap(byCluster.body)).topicList.sorted(), ["TopicB", "TopicShared"])
        let unit = try await admin.invokeSync(namesrv.address, .request(.getUnitTopicList))
        XCTAssertEqual(try TopicList.decode(try XCTUnwrap(unit.body)).topicList, ["TopicB"])

        let missing = try await route("NoSuchTopic")
        XCTAssertEqual(missing.responseCode, .topicNotExist)
        XCTAssertEqual(missing.remark, "No topic route info in name server for the topic: NoSuchTopic")
        XCTAssertNil(missing.body)
    }

    func testBrokerThatStopsRegisteringExpires() async throws {
        try await startNamesrv(["--brokerChannelExpiredTime", "1500", "--scanNotActiveBrokerInterval", "200"])
        let (master, slave, _) = try await registerThree()
        let address = namesrv.address
        // broker-a keeps registering; broker-b falls silent (its connection stays open).
        let keepAlive = Task {
            while !Task.isCancelled {
                _ = try? await master.register(at: address)
                _ = try? await slave.register(at: address)
                try? await Task.sleep(for: .milliseconds(300))
            }
        }
        defer { keepAlive.cancel() }
        let probe = Probe(client: admin, address: address)
        try await waitUntil(timeoutMs: 10_000) { (try? await probe.clusterInfo().brokerAddrTable["broker-b"]) == nil }
        let info = try await clusterInfo()
        XCTAssertEqual(info.clusterAddrTable, ["c1": ["broker-a"]])
        XCTAssertEqual(info.brokerAddrTable["broker-a"]?.brokerAddrs.count, 2)
        let value1 = try await route("TopicB").responseCode
        XCTAssertEqual(value1, .topicNotExist)
        let shared = try TopicRouteData.decode(try await requireBody(route("TopicShared")))
        XCTAssertEqual(shared.queueDatas.map(\.brokerName), ["broker-a"])
    }

    func testClosedBrokerConnectionRemovesItsBrokerAtOnce() async throws {
        try await startNamesrv()
        let (_, slave, other) = try await registerThree()
        await other.client.shutdown()
        let probe = Probe(client: admin, address: namesrv.address)
        try await waitUntil(timeoutMs: 3000) { (try? await probe.clusterInfo().brokerAddrTable["broker-b"]) == nil }
        await slave.client.shutdown()
        try await waitUntil(timeoutMs: 3000) {
            (try? await probe.clusterInfo().brokerAddrTable["broker-a"]?.brokerAddrs) == [0: "10.0.0.1:10911"]
        }
    }

    func testUnregisterAndDeleteTopicRemoveRoutes() async throws {
        try await startNamesrv()
        let (_, _, other) = try await registerThree()
        let del = try await admin.invokeSync(
            namesrv.address, .request(.deleteTopicInNamesrv, header: DeleteTopicFromNamesrvRequestHeader(topic: "TopicA")))
        XCTAssertEqual(del.responseCode, .success)
        let value2 = try await route("TopicA").responseCode
        XCTAssertEqual(value2, .topicNotExist)
        let value3 = try await route("TopicShared").responseCode
        XCTAssertEqual(value3, .success)
        // Cluster-scoped delete removes only that cluster's queues.
        _ = try await admin.invokeSync(
            namesrv.address,
            .request(.deleteTopicInNamesrv, header: DeleteTopicFromNamesrvRequestHeader(topic: "TopicShared", clusterName: "c2")))
        let shared = try TopicRouteData.decode(try await requireBody(route("TopicShared")))
        XCTAssertEqual(shared.queueDatas.map(\.brokerName), ["broker-a"])

        let unreg = try await other.client.invokeSync(
            namesrv.address,
            .request(.unregisterBroker, header: UnRegisterBrokerRequestHeader(
                brokerName: "broker-b", brokerAddr: "10.0.0.3:10911", clusterName: "c2", brokerId: 0)))
        XCTAssertEqual(unreg.responseCode, .success)
        let value4 = try await route("TopicB").responseCode
        XCTAssertEqual(value4, .topicNotExist)
        let value5 = try await clusterInfo().clusterAddrTable["c2"]
        XCTAssertNil(value5)
    }

    func testWipeAndAddWritePermShowInRoutePermissions() async throws {
        try await startNamesrv()
        let (master, _, _) = try await registerThree()
        let wipe = try await admin.invokeSync(
            namesrv.address, .request(.wipeWritePermOfBroker, header: WipeWritePermOfBrokerRequestHeader(brokerName: "broker-a")))
        XCTAssertEqual(wipe.responseCode, .success)
        XCTAssertEqual(wipe.extFields?["wipeTopicCount"], "3")
        var shared = try TopicRouteData.decode(try await requireBody(route("TopicShared")))
        XCTAssertEqual(shared.queueDatas.first { $0.brokerName == "broker-a" }?.perm, PermName.read)
        XCTAssertEqual(shared.queueDatas.first { $0.brokerName == "broker-b" }?.perm, 6)
        // A re-registration with the same data version does not restore the permission.
        _ = try await master.register(at: namesrv.address)
        shared = try TopicRouteData.decode(try await requireBody(route("TopicShared")))
        XCTAssertEqual(shared.queueDatas.first { $0.brokerName == "broker-a" }?.perm, PermName.read)
        let add = try await admin.invokeSync(
            namesrv.address, .request(.addWritePermOfBroker, header: AddWritePermOfBrokerRequestHeader(brokerName: "broker-a")))
        XCTAssertEqual(add.extFields?["addTopicCount"], "3")
        shared = try TopicRouteData.decode(try await requireBody(route("TopicShared")))
        XCTAssertEqual(shared.queueDatas.first { $0.brokerName == "broker-a" }?.perm, 6)
    }

    func testCompressedRegistrationAndCrcMismatch() async throws {
        try await startNamesrv()
        let b = broker("c9", "broker-z", 0, "10.0.0.9:10911", [
            TopicConfig(topicName: "Z1", readQueueNums: 3, writeQueueNums: 3, perm: 6),
            TopicConfig(topicName: "Z2", readQueueNums: 5, writeQueueNums: 5, perm: 4),
        ])
        let bad = try await b.client.invokeSync(namesrv.address, b.registerRequest(crcOverride: 12345))
        XCTAssertEqual(bad.responseCode, .systemError)
        XCTAssertEqual(bad.remark, "crc32 not match")
        let ok = try await b.client.invokeSync(namesrv.address, b.registerRequest(compressed: true))
        XCTAssertEqual(ok.responseCode, .success)
        let z2 = try TopicRouteData.decode(try await requireBody(route("Z2")))
        XCTAssertEqual(z2.queueDatas, [QueueData(brokerName: "broker-z", readQueueNums: 5, writeQueueNums: 5, perm: 4)])
    }

    func testFirstRegistrationWithSingleTopicIsRefused() async throws {
        try await startNamesrv()
        let b = broker("c1", "broker-s", 0, "10.0.0.7:10911", [TopicConfig(topicName: "Only")])
        let r = try await b.register(at: namesrv.address)
        XCTAssertEqual(r.responseCode, .systemError)
        XCTAssertEqual(r.remark, "register broker failed")
        let info = try await clusterInfo()
        XCTAssertNil(info.brokerAddrTable["broker-s"])
        XCTAssertNil(info.clusterAddrTable["c1"])
    }

    func testKVConfigIsServedAndPersistedAcrossRestart() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("apus-ns-kv-\(UUID().uuidString)")
        try await startNamesrv(directory: dir)
        let put = try await admin.invokeSync(
            namesrv.address, .request(.putKVConfig, header: PutKVConfigRequestHeader(namespace: "ORDER_TOPIC_CONFIG", key: "T", value: "broker-a:4")))
        XCTAssertEqual(put.responseCode, .success)
        _ = try await admin.invokeSync(
            namesrv.address, .request(.putKVConfig, header: PutKVConfigRequestHeader(namespace: "ns", key: "gone", value: "x")))
        _ = try await admin.invokeSync(
            namesrv.address, .request(.deleteKVConfig, header: DeleteKVConfigRequestHeader(namespace: "ns", key: "gone")))
        let missing = try await admin.invokeSync(
            namesrv.address, .request(.getKVConfig, header: GetKVConfigRequestHeader(namespace: "ns", key: "gone")))
        XCTAssertEqual(missing.responseCode, .queryNotFound)
        XCTAssertEqual(missing.remark, "No config item, Namespace: ns Key: gone")

        await admin.shutdown()
        let value6 = await namesrv.stop()
        XCTAssertEqual(value6, 0)
        try await startNamesrv(directory: dir)
        let get = try await admin.invokeSync(
            namesrv.address, .request(.getKVConfig, header: GetKVConfigRequestHeader(namespace: "ORDER_TOPIC_CONFIG", key: "T")))
        XCTAssertEqual(get.responseCode, .success)
        XCTAssertEqual(get.extFields?["value"], "broker-a:4")
        let list = try await admin.invokeSync(
            namesrv.address, .request(.getKVListByNamespace, header: GetKVListByNamespaceRequestHeader(namespace: "ORDER_TOPIC_CONFIG")))
        XCTAssertEqual(try KVTable.decode(try XCTUnwrap(list.body)).table, ["T": "broker-a:4"])
        // A broker registering now gets the order-topic table back.
        let b = broker("c1", "broker-a", 0, "10.0.0.1:10911", [TopicConfig(topicName: "T"), TopicConfig(topicName: "U")])
        let reg = try await b.register(at: namesrv.address)
        XCTAssertEqual(try KVTable.decode(try XCTUnwrap(reg.body)).table, ["T": "broker-a:4"])
    }

    func testNamesrvConfigCanBeReadAndUpdated() async throws {
        try await startNamesrv()
        let get = try await admin.invokeSync(namesrv.address, .request(.getNamesrvConfig))
        let text = String(buffer: try XCTUnwrap(get.body))
        XCTAssertTrue(text.contains("listenPort=0"), text)
        XCTAssertTrue(text.contains("enableTopicList=true"), text)
        var update = RemotingCommand.request(.updateNamesrvConfig, body: ByteBuffer(string: "enableTopicList=false\n"))
        let value7 = try await admin.invokeSync(namesrv.address, update).responseCode
        XCTAssertEqual(value7, .success)
        let after = String(buffer: try await requireBody(admin.invokeSync(namesrv.address, .request(.getNamesrvConfig))))
        XCTAssertTrue(after.contains("enableTopicList=false"), after)
        update.body = ByteBuffer(string: "kvConfigPath=/tmp/elsewhere\n")
        update.opaque = nextOpaque()
        let value8 = try await admin.invokeSync(namesrv.address, update).responseCode
        XCTAssertEqual(value8, .noPermission)
    }

    func testSigtermStopsCleanlyAndTheLogFileIsWritten() async throws {
        try await startNamesrv()
        let value9 = await namesrv.stop()
        XCTAssertEqual(value9, 0)
        let log = try String(contentsOf: namesrv.directory.appendingPathComponent("namesrv.log"), encoding: .utf8)
        XCTAssertTrue(log.contains("The Name Server boot success. serializeType=JSON"), log)
        XCTAssertTrue(log.contains("The Name Server stopped"), log)
    }
}

func waitUntil(timeoutMs: Int = 5000, _ condition: @escaping @Sendable () async -> Bool) async throws {
    let deadline = ContinuousClock.now + .milliseconds(timeoutMs)
    while ContinuousClock.now < deadline {
        if await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    XCTFail("condition not met within \(timeoutMs) ms")
}

/// Sendable reader of cluster info for conditions awaited from @Sendable closures.
struct Probe: Sendable {
    let client: RemotingClient
    let address: String
    func clusterInfo() async throws -> ClusterInfo {
        let r = try await client.invokeSync(address, .request(.getBrokerClusterInfo))
        XCTAssertEqual(r.responseCode, .success)
        return try ClusterInfo.decode(try XCTUnwrap(r.body))
    }
}
