// Helpers for ClientTests: a NameServer + broker pair (ApusTestSupport), topic creation over remoting,
// condition polling with a deadline, and a thread-safe collector of delivered messages.

import ApusTestSupport
import Client
import Foundation
import Logging
import NIOCore
import NIOPosix
import Remoting
import Synchronization
import XCTest

/// Messages delivered to listeners, by consumer name.
final class Collector: Sendable {
    private let table = Mutex<[String: [MessageExt]]>([:])
    func add(_ who: String, _ msgs: [MessageExt]) { table.withLock { $0[who, default: []] += msgs } }
    func messages(_ who: String) -> [MessageExt] { table.withLock { $0[who] ?? [] } }
    var all: [MessageExt] { table.withLock { $0.values.flatMap { $0 } } }
    /// Distinct message bodies received by anyone.
    var distinctBodies: Set<String> { Set(all.map { String(decoding: $0.body, as: UTF8.self) }) }
}

extension Cluster {
    static func started(_ extra: [String: String] = [:]) async throws -> Cluster {
        let c = try Cluster(extraConfig: extra)
        try await c.startNamesrv()
        try await c.startBroker()
        return c
    }

    var clientConfig: ClientConfig {
        var c = ClientConfig(namesrvAddr: namesrvAddr)
        c.localOffsetStoreDir = directory.appendingPathComponent("offsets").path
        return c
    }

    /// UPDATE_AND_CREATE_TOPIC on the broker, then waits until the NameServer routes it.
    func createTopic(_ topic: String, queues: Int32) async throws {
        let remoting = RemotingClient(group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "test"))
        defer { Task { await remoting.shutdown() } }
        let header = CreateTopicRequestHeader(topic: topic, readQueueNums: queues, writeQueueNums: queues, perm: 6)
        let resp = try await remoting.invokeSync(brokerAddr, RemotingCommand.request(.updateAndCreateTopic, header: header))
        XCTAssertEqual(resp.responseCode, .success, resp.remark ?? "")
        try await waitUntil("route of \(topic)") {
            let r = try? await remoting.invokeSync(namesrvAddr, RemotingCommand.request(.getRouteInfoByTopic,
                                                    header: GetRouteInfoRequestHeader(topic: topic)))
            guard let r, r.responseCode == .success, let body = r.body, let route = try? TopicRouteData.decode(body) else { return false }
            return route.queueDatas.first?.readQueueNums == queues
        }
    }
}

/// A started push consumer whose listener records into `collector` under `name`.
func startPushConsumer(_ cluster: Cluster, group: String, topic: String, name: String, collector: Collector,
                       options: PushConsumerOptions = PushConsumerOptions(), config: ClientConfig? = nil,
                       expression: String = "*",
                       status: @escaping @Sendable (MessageExt) -> ConsumeConcurrentlyStatus = { _ in .consumeSuccess })
    async throws -> PushConsumer
{
    var opts = options
    if opts.consumeFromWhere == .lastOffset { opts.consumeFromWhere = .firstOffset }
    let c = PushConsumer(group: group, config: config ?? cluster.clientConfig, options: opts)
    try c.subscribe(topic, expression)
    c.registerMessageListener { msgs, _ in
        collector.add(name, msgs)
        return msgs.map(status).contains(.reconsumeLater) ? .reconsumeLater : .consumeSuccess
    }
    try await c.start()
    return c
}
