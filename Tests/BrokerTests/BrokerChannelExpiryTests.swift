// Channel expiry against a real `mqbroker` (broker.md §6.2): a consumer that stops sending heartbeats is
// dropped from its group after channelExpiredTimeout (shortened here to 1 s) and its connection closed,
// while a consumer that keeps heartbeating stays.

import Common
import ApusTestSupport
import Foundation
import Logging
import NIOCore
import NIOPosix
import Remoting
import XCTest

final class BrokerChannelExpiryTests: XCTestCase {
    func testSilentConsumerIsDroppedAfterChannelExpiredTimeout() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let silent = RemotingClient(group: group, logger: Logger(label: "silent"))
        let lively = RemotingClient(group: group, logger: Logger(label: "lively"))
        let cluster = try Cluster(extraConfig: ["channelExpiredTimeout": "1000"])
        do {
            try await cluster.startBroker()
            func heartbeat(_ id: String, via rc: RemotingClient) async throws {
                let data = HeartbeatData(clientID: id, consumerDataSet: [ConsumerData(
                    groupName: "ExpiryGroup", subscriptionDataSet: [SubscriptionData(topic: "ExpiryTopic", subVersion: 1)])])
                let r = try await rc.invokeSync(cluster.brokerAddr, .request(.heartBeat, body: data.encode()))
                XCTAssertEqual(r.responseCode, .success)
            }
            func members() async throws -> [String] {
                let r = try await lively.invokeSync(cluster.brokerAddr, .request(.getConsumerListByGroup,
                                                     header: ConsumerGroupRequestHeader(consumerGroup: "ExpiryGroup")))
                guard let body = r.body else { return [] }
                return try GetConsumerListByGroupResponseBody.decode(body).consumerIdList.sorted()
            }
            try await heartbeat("silent@1", via: silent)
            try await heartbeat("lively@1", via: lively)
            let before = try await members()
            XCTAssertEqual(before, ["lively@1", "silent@1"])
            // The lively consumer heartbeats every 200 ms; the silent one never again.
            let deadline = ContinuousClock.now + .seconds(10)
            var list = try await members()
            while list.contains("silent@1") && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
                try await heartbeat("lively@1", via: lively)
                list = try await members()
            }
            XCTAssertEqual(list, ["lively@1"])
        } catch {
            XCTFail("\(error)")
        }
        await silent.shutdown()
        await lively.shutdown()
        await cluster.stopAll()
        try await group.shutdownGracefully()
    }
}
