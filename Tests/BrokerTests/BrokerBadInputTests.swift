// Bad input against a real broker (issue 4, Must-show 3): unknown topic with auto-create off, bad queue id,
// oversized body, illegal topic names, pulls at bad offsets, a frame truncated mid-body — each answered with
// its documented code (or the connection closed), nothing else changes, and the broker keeps serving.

import ApusTestSupport
import Foundation
import Logging
import NIOCore
import NIOPosix
import Remoting
import XCTest

final class BrokerBadInputTests: BrokerClusterTestCase {
    var c: TestClient!

    override func setUp() async throws {
        try await super.setUp()
        c = try await start(["autoCreateTopicEnable": "false", "maxMessageSize": "1024"], namesrv: false)
        try await c.createTopic("GoodTopic", queues: 4)
        let r = try await c.send(topic: "GoodTopic", body: [1, 2, 3], queueId: 1)
        XCTAssertEqual(r.responseCode, .success)
        _ = try await c.dispatchedMaxOffset(topic: "GoodTopic", queueId: 1, atLeast: 1)
    }

    func assertStillServing(file: StaticString = #filePath, line: UInt = #line) async throws {
        let r = try await c.send(topic: "GoodTopic", body: [9], queueId: 0)
        XCTAssertEqual(r.responseCode, .success, "broker stopped serving", file: file, line: line)
    }

    func topicNames() async throws -> Set<String> {
        let r = try await client.invokeSync(cluster.brokerAddr, .request(.getAllTopicConfig))
        return Set(try TopicConfigSerializeWrapper.decode(try XCTUnwrap(r.body)).topicConfigTable.keys)
    }

    func assertSendHeaderExtras(_ r: RemotingCommand, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.extFields?["MSG_REGION"], "DefaultRegion", file: file, line: line)
        XCTAssertEqual(r.extFields?["TRACE_ON"], "true", file: file, line: line)
    }

    func testUnknownTopicWithAutoCreateOffIsTopicNotExistAndCreatesNothing() async throws {
        let before = try await topicNames()
        let r = try await c.send(topic: "NoSuchTopic", body: [1])
        XCTAssertEqual(r.responseCode, .topicNotExist)
        assertSendHeaderExtras(r)
        let after = try await topicNames()
        XCTAssertEqual(before, after)
        XCTAssertFalse(after.contains("NoSuchTopic"))
        let pull = try await c.pull(group: "G", topic: "NoSuchTopic", queueId: 0, offset: 0)
        XCTAssertEqual(pull.responseCode, .topicNotExist)
        try await assertStillServing()
    }

    func testQueueIdBeyondTheTopicsQueuesIsInvalidParameter() async throws {
        let r = try await c.send(topic: "GoodTopic", body: [1], queueId: 4)
        XCTAssertEqual(r.responseCode, .invalidParameter)
        assertSendHeaderExtras(r)
        let pull = try await c.pull(group: "G", topic: "GoodTopic", queueId: 99, offset: 0)
        XCTAssertEqual(pull.responseCode, .invalidParameter)
        let max = try await c.dispatchedMaxOffset(topic: "GoodTopic", queueId: 1, atLeast: 1)
        XCTAssertEqual(max, 1)
        try await assertStillServing()
    }

    func testBodyLargerThanMaxMessageSizeIsMessageIllegal() async throws {
        let r = try await c.send(topic: "GoodTopic", body: [UInt8](repeating: 7, count: 2048), queueId: 1)
        XCTAssertEqual(r.responseCode, .messageIllegal, r.remark ?? "")
        assertSendHeaderExtras(r)
        let max = try await c.dispatchedMaxOffset(topic: "GoodTopic", queueId: 1, atLeast: 1)
        XCTAssertEqual(max, 1, "the rejected message was stored")
        let ok = try await c.send(topic: "GoodTopic", body: [UInt8](repeating: 7, count: 1024), queueId: 1)
        XCTAssertEqual(ok.responseCode, .success, "a body of exactly maxMessageSize is accepted")
    }

    func testIllegalTopicNamesAreInvalidParameter() async throws {
        for topic in ["bad topic", "bad/topic", "topic?", String(repeating: "t", count: 128), ""] {
            let r = try await c.send(topic: topic, body: [1])
            XCTAssertEqual(r.responseCode, .invalidParameter, "topic \(topic)")
            assertSendHeaderExtras(r)
            let create = try await client.invokeSync(cluster.brokerAddr, .request(.updateAndCreateTopic, header: CreateTopicRequestHeader(
                topic: topic, readQueueNums: 1, writeQueueNums: 1)))
            XCTAssertEqual(create.responseCode, .invalidParameter, "create \(topic)")
        }
        let forbidden = try await c.send(topic: "SCHEDULE_TOPIC_XXXX", body: [1])
        XCTAssertEqual(forbidden.responseCode, .noPermission)
        try await assertStillServing()
    }

    func testPullAtABadOffsetIsOffsetMovedWithTheOffsetToUse() async throws {
        let tooFar = try await c.pull(group: "G", topic: "GoodTopic", queueId: 1, offset: 100)
        XCTAssertEqual(tooFar.responseCode, .pullOffsetMoved)
        let h: PullMessageResponseHeader = try tooFar.decodeHeader()
        XCTAssertEqual(h.nextBeginOffset, 1)
        XCTAssertEqual(h.maxOffset, 1)
        XCTAssertEqual(h.minOffset, 0)
        let negative = try await c.pull(group: "G", topic: "GoodTopic", queueId: 1, offset: -5)
        XCTAssertEqual(negative.responseCode, .pullOffsetMoved)
        XCTAssertEqual(try (negative.decodeHeader() as PullMessageResponseHeader).nextBeginOffset, 0)
        let emptyQueue = try await c.pull(group: "G", topic: "GoodTopic", queueId: 3, offset: 7)
        XCTAssertEqual(emptyQueue.responseCode, .pullOffsetMoved)
        let caughtUp = try await c.pull(group: "G", topic: "GoodTopic", queueId: 1, offset: 1)
        XCTAssertEqual(caughtUp.responseCode, .pullNotFound)
        try await assertStillServing()
    }

    func testAFrameTruncatedMidBodyClosesOnlyThatConnection() async throws {
        let header = #"{"code":310,"extFields":{"a":"PG","b":"GoodTopic","c":"TBW102","d":"4","e":"0","f":"0","g":"1","h":"0"},"flag":0,"language":"JAVA","opaque":7,"serializeTypeCurrentRPC":"JSON","version":409}"#
        let full = RawFrames.frame(headerJSON: header, body: [UInt8](repeating: 1, count: 1000))
        let socket = try RawSocket(port: cluster.brokerPort)
        socket.send(Array(full.prefix(full.count - 600)))
        try await Task.sleep(for: .milliseconds(100))
        // A garbage length on a second connection is refused at once.
        let garbage = try RawSocket(port: cluster.brokerPort)
        garbage.send([0x7F, 0xFF, 0xFF, 0xFF, 0, 0, 0, 10])
        XCTAssertTrue(garbage.waitForClose())
        try await assertStillServing()
        let max = try await c.dispatchedMaxOffset(topic: "GoodTopic", queueId: 0, atLeast: 1)
        XCTAssertEqual(max, 1, "only the good send was stored")
        _ = socket
    }

    func testMissingRequiredHeaderFieldIsSystemErrorNamingIt() async throws {
        var r = RemotingCommand.request(.pullMessage)
        r.extFields = ["topic": "GoodTopic"]
        let answer = try await client.invokeSync(cluster.brokerAddr, r)
        XCTAssertEqual(answer.responseCode, .systemError)
        XCTAssertTrue(answer.remark?.contains("consumerGroup") ?? false, answer.remark ?? "")
        try await assertStillServing()
    }
}
