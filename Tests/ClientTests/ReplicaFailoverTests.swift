// Reading from a slave while its master is down (issue 10, must-show 3, the Swift client's half): real
// mqnamesrv, a SYNC_MASTER mqbroker and its SLAVE. Messages acknowledged SEND_OK are on the slave; after a
// kill -9 of the master a push consumer finds the slave through the NameServer's route and consumes them
// there; when the master returns, consumption goes back to it.

import ApusTestSupport
import Client
import Foundation
import Logging
import NIOPosix
import Remoting
import XCTest

final class ReplicaFailoverTests: XCTestCase {
    func testPushConsumerReadsTheSlaveWhileTheMasterIsDownAndGoesBackAfter() async throws {
        let cluster = try Cluster(extraConfig: ["brokerRole": "SYNC_MASTER", "registerNameServerPeriod": "2000"])
        // Each server on its own host where network namespaces can be made (HostNetwork), else on loopback.
        let network = HostNetwork.make(hosts: 3)
        if let network { cluster.place(on: network) }
        addTeardownBlock {
            await cluster.stopAll()
            network?.remove()
        }
        try await cluster.startNamesrv()
        try await cluster.startBroker()
        try await cluster.startSlave()
        let topic = "FailoverTopic"
        try await cluster.createTopic(topic, queues: 4)
        var config = cluster.clientConfig
        config.pollNameServerIntervalMs = 500
        config.heartbeatBrokerIntervalMs = 1_000
        let producer = Producer(group: "failover_pg", config: config)
        try await producer.start()
        // SYNC_MASTER: SEND_OK only once the slave holds the message (SLAVE_NOT_AVAILABLE until it connected).
        try await waitUntil("the slave to be in sync") {
            (try? await producer.send(Message(topic: topic, body: "probe")))?.sendStatus == .sendOK
        }
        var acknowledged: Set<String> = ["probe"]
        for i in 0..<100 {
            let r = try await producer.send(Message(topic: topic, body: "before-\(i)"))
            XCTAssertEqual(r.sendStatus, .sendOK, "send \(i)")
            acknowledged.insert("before-\(i)")
        }
        await producer.shutdown()
        // The slave copies its master's topic table every 10 s (SlaveSynchronize); a slave that never saw the
        // topic could not serve it (TOPIC_NOT_EXIST, as in RocketMQ).
        try await waitUntil("the slave to know the topic") {
            guard let r = try? await self.remoting.invokeSync(cluster.slaveAddr, .request(.getAllTopicConfig)),
                  let body = r.body, let table = try? TopicConfigSerializeWrapper.decode(body) else { return false }
            return table.topicConfigTable[topic] != nil
        }
        // The master dies; the consumer starts afterwards and can only find the slave.
        await cluster.broker?.kill9()
        try await waitUntil("the route to show only the slave") {
            guard let route = try? await self.route(cluster, topic) else { return false }
            return route.brokerDatas.first?.brokerAddrs[0] == nil && route.brokerDatas.first?.brokerAddrs[1] != nil
        }
        let collector = Collector()
        let consumer = try await startPushConsumer(cluster, group: "failover_cg", topic: topic, name: "c", collector: collector,
                                                   config: config)
        // A broadcasting consumer (offsets kept locally) reads the slave too.
        let broadcast = Collector()
        var broadcastOptions = PushConsumerOptions()
        broadcastOptions.messageModel = .broadcasting
        var broadcastConfig = config
        broadcastConfig.instanceName = "broadcast"
        let listener = try await startPushConsumer(cluster, group: "failover_bcg", topic: topic, name: "b", collector: broadcast,
                                                   options: broadcastOptions, config: broadcastConfig)
        addTeardownBlock { await listener.shutdown() }
        try await waitUntil("the broadcasting consumer, from the slave") { broadcast.distinctBodies.isSuperset(of: acknowledged) }
        do {
            try await waitUntil("every acknowledged message, from the slave") { collector.distinctBodies.isSuperset(of: acknowledged) }
        } catch {
            XCTFail("received \(collector.distinctBodies.count) of \(acknowledged.count); queues \(consumer.assignedQueues.filter { $0.topic == topic }.count)")
            throw error
        }

        // The master comes back on its port; new messages are consumed from it.
        try await cluster.startBroker(listenPort: cluster.brokerPort)
        let again = Producer(group: "failover_pg2", config: config)
        try await again.start()
        try await waitUntil("sends to the master again") {
            (try? await again.send(Message(topic: topic, body: "after-probe")))?.sendStatus == .sendOK
        }
        for i in 0..<50 {
            let r = try await again.send(Message(topic: topic, body: "after-\(i)"))
            XCTAssertEqual(r.sendStatus, .sendOK)
        }
        try await waitUntil("the messages sent after the master returned") {
            collector.distinctBodies.isSuperset(of: Set((0..<50).map { "after-\($0)" }))
        }
        await consumer.shutdown()
        await again.shutdown()
    }

    let remoting = RemotingClient(group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "test"))

    override func tearDown() async throws { await remoting.shutdown() }

    func route(_ cluster: Cluster, _ topic: String) async throws -> TopicRouteData? {
        let r = try await remoting.invokeSync(cluster.namesrvAddr, .request(.getRouteInfoByTopic, header: GetRouteInfoRequestHeader(topic: topic)))
        guard r.responseCode == .success, let body = r.body else { return nil }
        return try TopicRouteData.decode(body)
    }
}
