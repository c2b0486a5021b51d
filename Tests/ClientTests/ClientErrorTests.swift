// Clear errors where RocketMQ users expect them (issue 5): a send through an unreachable NameServer, a send
// to a topic that does not exist while the broker does not auto-create topics, a producer with no NameServer
// address at all. Each test checks the error a user would read.

import ApusTestSupport
import Client
import Foundation
import Remoting
import XCTest

final class ClientErrorTests: XCTestCase {
    func testUnreachableNameServerGivesANetworkOrRouteError() async throws {
        var config = ClientConfig(namesrvAddr: "127.0.0.1:1") // nothing listens on port 1
        config.mqClientApiTimeoutMs = 1_000
        var options = ProducerOptions()
        options.sendMsgTimeoutMs = 1_000
        let producer = Producer(group: "UnreachablePG", config: config, options: options)
        do {
            try await producer.start()
            _ = try await producer.send(Message(topic: "AnyTopic", body: "x"))
            XCTFail("a send through an unreachable NameServer succeeded")
        } catch {
            let text = "\(error)"
            XCTAssertTrue(text.contains("127.0.0.1:1") || text.contains("route") || text.contains("network"), text)
        }
        await producer.shutdown()
    }

    func testNoNameServerAddressIsRefusedWithRocketMQsMessage() async throws {
        let producer = Producer(group: "NoAddrPG", config: ClientConfig(namesrvAddr: ""))
        do {
            try await producer.start()
            _ = try await producer.send(Message(topic: "AnyTopic", body: "x"))
            XCTFail("a producer without a NameServer address sent a message")
        } catch {
            XCTAssertTrue("\(error)".contains("No name server address"), "\(error)")
        }
        await producer.shutdown()
    }

    func testUnknownTopicWithAutoCreateOffIsReported() async throws {
        let cluster = try await Cluster.started(["autoCreateTopicEnable": "false"])
        var options = ProducerOptions()
        options.sendMsgTimeoutMs = 2_000
        let producer = Producer(group: "UnknownTopicPG", config: cluster.clientConfig, options: options)
        do {
            try await producer.start()
            _ = try await producer.send(Message(topic: "NoSuchTopic", body: "x"))
            XCTFail("a send to an unknown topic succeeded")
        } catch {
            XCTAssertTrue("\(error)".contains("NoSuchTopic"), "\(error)")
        }
        await producer.shutdown()
        await cluster.stopAll()
    }
}
