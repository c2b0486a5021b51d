// MQAdminCommandTests: every required `mqadmin` sub-command run as a child process against real
// `mqnamesrv` and `mqbroker` processes, checking the columns and values an operator reads and the exit
// status (0 on success, non-zero on failure).

import ApusTestSupport
import Foundation
import XCTest

final class MQAdminCommandTests: XCTestCase {
    func withCluster(_ body: (Cluster, AdminRunner) async throws -> Void) async throws {
        let cluster = try Cluster()
        do {
            try await cluster.startNamesrv()
            try await cluster.startBroker()
            try await body(cluster, try AdminRunner(namesrvAddr: cluster.namesrvAddr))
        } catch {
            await cluster.stopAll()
            throw error
        }
        await cluster.stopAll()
    }

    func testTopicClusterBrokerAndNamesrvCommands() async throws {
        try await withCluster { cluster, admin in
            let b = cluster.brokerAddr
            let ns = cluster.namesrvAddr
            assertSuccess(try await admin.eventually("clusterList") { $0.stdout.contains("broker-a") }, contains: [
                "#Cluster Name", "#Broker Name", "#BID", "#Addr", "#Version", "#InTPS(LOAD)", "#OutTPS(LOAD)", "#ACTIVATED",
                "TestCluster", "broker-a", b, "V5_3_3", "true",
            ])

            assertSuccess(try await admin.run("updateTopic", "-b", b, "-t", "AdminTopic", "-r", "4", "-w", "4"), contains: [
                "create topic to \(b) success.",
                "TopicConfig [topicName=AdminTopic, readQueueNums=4, writeQueueNums=4, perm=RW-, topicFilterType=SINGLE_TAG, topicSysFlag=0, order=false, attributes={}]",
            ])
            assertSuccess(try await admin.run("updateTopic", "-c", "TestCluster", "-t", "ClusterTopic"), contains: [
                "create topic to \(b) success.", "TopicConfig [topicName=ClusterTopic, readQueueNums=8, writeQueueNums=8",
            ])

            let route = try await admin.eventually("topicRoute", "-t", "AdminTopic") { $0.status == 0 }
            assertSuccess(route, contains: ["\t\"brokerDatas\":[", "\"brokerAddrs\":{0:\"\(b)\"", "\"brokerName\":\"broker-a\"",
                                            "\"cluster\":\"TestCluster\"", "\"readQueueNums\":4", "\"perm\":6"])
            let list = try await admin.run("topicRoute", "-t", "AdminTopic", "-l")
            assertSuccess(list, contains: ["#ClusterName", "#BrokerAddrs", "{0=\(b)}", "Total:"])
            XCTAssertNotNil(line(list.stdout, startingWith: "TestCluster"))

            let topics = try await admin.run("topicList")
            assertSuccess(topics, contains: ["AdminTopic"])
            XCTAssertTrue(topics.stdout.split(separator: "\n").contains("ClusterTopic"))

            let status = try await admin.run("topicStatus", "-t", "AdminTopic")
            assertSuccess(status, contains: ["#Broker Name", "#QID", "#Min Offset", "#Max Offset", "#Last Updated", "Topic Put TPS: 0.0"])
            XCTAssertEqual(status.stdout.split(separator: "\n").filter { $0.hasPrefix("broker-a") }.count, 4)

            let clusters = try await admin.run("topicClusterList", "-t", "AdminTopic")
            assertSuccess(clusters, contains: ["TestCluster"])

            assertSuccess(try await admin.run("updateSubGroup", "-b", b, "-g", "AdminGroup", "-r", "3"), contains: [
                "create subscription group to \(b) success.",
                "SubscriptionGroupConfig{groupName=AdminGroup, consumeEnable=true, consumeFromMinEnable=false, consumeBroadcastEnable=false, consumeMessageOrderly=false, retryQueueNums=1, retryMaxTimes=3,",
            ])
            assertSuccess(try await admin.run("deleteSubGroup", "-b", b, "-g", "AdminGroup"), contains: [
                "delete subscription group [AdminGroup] from broker [\(b)] success.",
            ])

            let brokerStatus = try await admin.run("brokerStatus", "-b", b)
            assertSuccess(brokerStatus, contains: ["brokerVersionDesc               : V5_3_3", "putTps"])

            let config = try await admin.run("getBrokerConfig", "-b", b)
            assertSuccess(config, contains: ["============\(b)============"])
            XCTAssertNotNil(line(config.stdout, startingWith: "brokerName" + String(repeating: " ", count: 40) + "=  broker-a"))
            assertSuccess(try await admin.run("updateBrokerConfig", "-b", b, "-k", "brokerPermission", "-v", "6"),
                          contains: ["update broker config success, \(b)"])

            assertSuccess(try await admin.run("wipeWritePerm", "-b", "broker-a"),
                          contains: ["wipe write perm of broker[broker-a] in name server[\(ns)] OK, "])
            assertSuccess(try await admin.run("topicRoute", "-t", "AdminTopic"), contains: ["\"perm\":4"])
            assertSuccess(try await admin.run("addWritePerm", "-b", "broker-a"),
                          contains: ["add write perm of broker[broker-a] in name server[\(ns)] OK, "])
            assertSuccess(try await admin.run("topicRoute", "-t", "AdminTopic"), contains: ["\"perm\":6"])

            assertSuccess(try await admin.run("updateKvConfig", "-s", "ORDER_TOPIC_CONFIG", "-k", "AdminTopic", "-v", "broker-a:4"),
                          contains: ["create or update kv config to namespace success."])
            assertSuccess(try await admin.run("deleteKvConfig", "-s", "ORDER_TOPIC_CONFIG", "-k", "AdminTopic"),
                          contains: ["delete kv config from namespace success."])

            assertSuccess(try await admin.run("deleteTopic", "-t", "ClusterTopic", "-c", "TestCluster"), contains: [
                "delete topic [ClusterTopic] from cluster [TestCluster] success.",
                "delete topic [ClusterTopic] from NameServer success.",
            ])
            assertFailure(try await admin.eventually("topicRoute", "-t", "ClusterTopic") { $0.status != 0 })
        }
    }

    func testFailuresHelpAndAddressSources() async throws {
        try await withCluster { cluster, admin in
            let unknownTopic = try await admin.run("topicRoute", "-t", "NoSuchTopic")
            assertFailure(unknownTopic)
            XCTAssertTrue(unknownTopic.stderr.contains("topicRoute command failed"), unknownTopic.stderr)

            assertFailure(try await admin.runRaw(["clusterList", "-n", "127.0.0.1:1"]))
            assertFailure(try await admin.runRaw(["clusterList", "-n", "not-an-address"]))
            assertFailure(try await admin.runRaw(["clusterList"]))  // neither -n nor NAMESRV_ADDR
            assertSuccess(try await admin.runRaw(["clusterList"], environment: ["NAMESRV_ADDR": cluster.namesrvAddr]),
                          contains: ["broker-a"])
            assertFailure(try await admin.run("deleteTopic", "-t", "X", "-c", "NoSuchCluster"))
            assertFailure(try await admin.run("updateTopic", "-t", "NoTarget"))  // neither -b nor -c
            assertFailure(try await admin.run("topicRoute"))  // missing -t

            let unknown = try await admin.runRaw(["noSuchCommand"])
            assertFailure(unknown)
            XCTAssertTrue(unknown.stdout.contains("The sub command noSuchCommand not exist."))
            XCTAssertTrue(unknown.stdout.contains("The most commonly used mqadmin commands are:"))

            let list = try await admin.runRaw([])
            assertSuccess(list, contains: ["   " + "updateTopic".padding(toLength: 35, withPad: " ", startingAt: 0) + " ",
                                           "See 'mqadmin help <command>' for more information on a specific command."])
            let help = try await admin.runRaw(["help", "topicRoute"])
            assertSuccess(help, contains: ["usage: mqadmin topicRoute", "-t,--topic <arg>", "-n,--namesrvAddr <arg>", "-l,--list"])
            assertSuccess(try await admin.runRaw(["TOPICROUTE", "-h"]), contains: ["usage: mqadmin topicRoute"])
        }
    }
}
