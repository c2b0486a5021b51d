// MQAdminMessageTests: the message, consumer, producer and offset sub-commands of `mqadmin` against real
// `mqnamesrv` and `mqbroker` processes, with consumers and producers played by raw heartbeats.

import Common
import ApusTestSupport
import Foundation
import XCTest

final class MQAdminMessageTests: XCTestCase {
    func testMessageConnectionAndOffsetCommands() async throws {
        let cluster = try Cluster()
        let fake: FakeClient
        do {
            try await cluster.startNamesrv()
            try await cluster.startBroker()
            fake = FakeClient(brokerAddr: cluster.brokerAddr, clientId: "127.0.0.1@admin-test")
        } catch {
            await cluster.stopAll()
            throw error
        }
        do {
            try await run(cluster, fake)
        } catch {
            await fake.shutdown()
            await cluster.stopAll()
            throw error
        }
        await fake.shutdown()
        await cluster.stopAll()
    }

    func run(_ cluster: Cluster, _ fake: FakeClient) async throws {
        let admin = try AdminRunner(namesrvAddr: cluster.namesrvAddr)
        let b = cluster.brokerAddr
        assertSuccess(try await admin.run("updateTopic", "-b", b, "-t", "MsgTopic", "-r", "1", "-w", "1"),
                      contains: ["create topic to \(b) success."])
        _ = try await admin.eventually("topicRoute", "-t", "MsgTopic") { $0.status == 0 }

        // sendMessage
        let sent = try await admin.run("sendMessage", "-t", "MsgTopic", "-p", "hello admin", "-k", "Key1", "-c", "TagA")
        assertSuccess(sent, contains: ["#Broker Name", "#QID", "#Send Result", "#MsgId", "SEND_OK"])
        let row = try XCTUnwrap(line(sent.stdout, startingWith: "broker-a"))
        let uniqKey = try XCTUnwrap(row.split(separator: " ").last.map(String.init))
        XCTAssertEqual(uniqKey.count, 32)

        // queryMsgByUniqueKey (the index is built asynchronously)
        let byUniq = try await admin.eventually("queryMsgByUniqueKey", "-i", uniqKey, "-t", "MsgTopic") { $0.status == 0 }
        assertSuccess(byUniq, contains: ["Topic:               MsgTopic", "Tags:                [TagA]", "Keys:                [Key1]",
                                         "Queue ID:            0", "Queue Offset:        0", "Store Host:          127.0.0.1:",
                                         "Message Body Path:   /tmp/rocketmq/msgbodys/\(uniqKey)"])
        XCTAssertNil(line(byUniq.stdout, startingWith: "OffsetID:"))

        // queryMsgByKey
        let byKey = try await admin.run("queryMsgByKey", "-t", "MsgTopic", "-k", "Key1")
        assertSuccess(byKey, contains: ["#Message ID", "#QID", "#Offset", uniqKey])

        // queryMsgByOffset gives the offset id, which queryMsgById then resolves
        let byOffset = try await admin.run("queryMsgByOffset", "-t", "MsgTopic", "-b", "broker-a", "-i", "0", "-o", "0")
        assertSuccess(byOffset, contains: ["OffsetID:", "Topic:               MsgTopic", "Queue Offset:        0"])
        let offsetId = try XCTUnwrap(line(byOffset.stdout, startingWith: "OffsetID:")?.split(separator: " ").last.map(String.init))
        let byId = try await admin.run("queryMsgById", "-t", "MsgTopic", "-i", offsetId, "-f", "UTF-8")
        assertSuccess(byId, contains: ["OffsetID:            \(offsetId)", "Tags:                [TagA]",
                                       "Message Body:        hello admin", "WARN: No Consumer"])
        let byIdUniq = try await admin.run("queryMsgById", "-t", "MsgTopic", "-i", uniqKey)
        assertSuccess(byIdUniq, contains: ["Keys:                [Key1]"])
        assertFailure(try await admin.run("queryMsgByUniqueKey", "-i", "00000000000000000000000000000000", "-t", "MsgTopic"))

        // consumeMessage
        let consumed = try await admin.run("consumeMessage", "-t", "MsgTopic")
        assertSuccess(consumed, contains: ["Consume ok", "MSGID: \(uniqKey) MessageExt [brokerName=broker-a, queueId=0,",
                                           "BODY: hello admin"])
        let one = try await admin.run("consumeMessage", "-t", "MsgTopic", "-b", "broker-a", "-i", "0", "-o", "0", "-c", "1")
        assertSuccess(one, contains: ["Consume ok", "BODY: hello admin"])

        // A second message so there is lag to show.
        assertSuccess(try await admin.run("sendMessage", "-t", "MsgTopic", "-p", "second", "-b", "broker-a", "-i", "0"),
                      contains: ["SEND_OK"])

        // Consumer and producer connections, played by raw heartbeats.
        try await fake.heartbeat(consumerGroup: "AdminCG", topic: "MsgTopic", producerGroup: "AdminPG")
        try await fake.commitOffset(group: "AdminCG", topic: "MsgTopic", queueId: 0, offset: 1)
        let cc = try await admin.eventually("consumerConnection", "-g", "AdminCG") { $0.status == 0 }
        assertSuccess(cc, contains: ["#ClientId", "#ClientAddr", "#Language", "#Version", "127.0.0.1@admin-test", "JAVA", "V5_3_3",
                                     "Below is subscription:", "#Topic               #SubExpression", "MsgTopic             *",
                                     "ConsumeType: CONSUME_PASSIVELY", "MessageModel: CLUSTERING",
                                     "ConsumeFromWhere: CONSUME_FROM_LAST_OFFSET"])
        let pc = try await admin.run("producerConnection", "-g", "AdminPG", "-t", "MsgTopic")
        assertSuccess(pc, contains: ["0001  127.0.0.1@admin-test", "JAVA", "V5_3_3"])
        assertFailure(try await admin.run("consumerConnection", "-g", "NobodyHere"))
        assertFailure(try await admin.run("producerConnection", "-g", "NobodyHere", "-t", "MsgTopic"))

        // consumerProgress: broker offset 2, consumer offset 1.
        let progress = try await admin.run("consumerProgress", "-g", "AdminCG")
        assertSuccess(progress, contains: ["#Topic", "#Broker Name", "#QID", "#Broker Offset", "#Consumer Offset", "#Diff",
                                           "#Inflight", "#LastTime", "Consume TPS: 0.00", "Consume Diff Total: 1"])
        let progressRow = try XCTUnwrap(line(progress.stdout, startingWith: "MsgTopic"))
        XCTAssertEqual(progressRow.split(separator: " ").prefix(6).map(String.init), ["MsgTopic", "broker-a", "0", "2", "1", "1"])
        let all = try await admin.run("consumerProgress")
        assertSuccess(all, contains: ["#Group", "#Count", "#Version", "#Type", "#Model", "#TPS", "#Diff Total"])
        let groupRow = try XCTUnwrap(line(all.stdout, startingWith: "AdminCG"))
        XCTAssertEqual(groupRow.split(separator: " ").map(String.init), ["AdminCG", "1", "V5_3_3", "PUSH", "CLUSTERING", "0", "1"])

        // resetOffsetByTime with the consumer online: the broker resets and answers the offsets.
        let reset = try await admin.run("resetOffsetByTime", "-g", "AdminCG", "-t", "MsgTopic", "-s", "0")
        assertSuccess(reset, contains: ["start reset consumer offset by specified, group[AdminCG], topic[MsgTopic], force[true], timestamp(string)[0], timestamp(long)[0]",
                                        "#brokerName", "#queueId", "#offset"])
        let resetRow = try XCTUnwrap(line(reset.stdout, startingWith: "broker-a"))
        XCTAssertEqual(resetRow.split(separator: " ").map(String.init), ["broker-a", "0", "0"])
        assertSuccess(try await admin.run("consumerProgress", "-g", "AdminCG"), contains: ["Consume Diff Total: 2"])

        // resetOffsetByTime with nobody online: the tool falls back to per-queue offset updates.
        assertSuccess(try await admin.run("updateSubGroup", "-c", "TestCluster", "-g", "OfflineCG"),
                      contains: ["create subscription group to \(b) success."])
        try await fake.commitOffset(group: "OfflineCG", topic: "MsgTopic", queueId: 0, offset: 2)
        let old = try await admin.run("resetOffsetByTime", "-g", "OfflineCG", "-t", "MsgTopic", "-s", "now")
        assertSuccess(old, contains: ["reset consumer offset by specified consumerGroup[OfflineCG], topic[MsgTopic], force[true]",
                                      "#brokerName", "#brokerOffset", "#consumerOffset", "#timestampOffset", "#resetOffset"])
        let oldRow = try XCTUnwrap(line(old.stdout, startingWith: "broker-a"))
        XCTAssertEqual(oldRow.split(separator: " ").prefix(4).map(String.init), ["broker-a", "0", "2", "2"])
    }
}
