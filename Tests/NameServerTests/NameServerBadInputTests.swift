// Bad input against a real `mqnamesrv`: a length over the bound, a bad serialise type, a header longer
// than its frame, invalid JSON, an unknown code. Each is closed or answered as the spec says (remoting.md
// §1.1, §7.2), and the server keeps serving a well-behaved client throughout.

import ApusTestSupport
import Foundation
import Logging
import NIOCore
import NIOPosix
import Remoting
import XCTest

final class NameServerBadInputTests: XCTestCase {
    var group: MultiThreadedEventLoopGroup!
    var namesrv: NamesrvProcess!
    var client: RemotingClient!

    override func setUp() async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        client = RemotingClient(group: group, logger: Logger(label: "test"))
        namesrv = try NamesrvProcess()
        try await namesrv.start()
    }

    override func tearDown() async throws {
        await client.shutdown()
        await namesrv.stop()
        try await group.shutdownGracefully()
    }

    /// A well-behaved client on its own long-lived connection still gets answers.
    func assertStillServing(file: StaticString = #filePath, line: UInt = #line) async throws {
        let r = try await client.invokeSync(namesrv.address, .request(.getBrokerClusterInfo))
        XCTAssertEqual(r.responseCode, .success, file: file, line: line)
        let kv = try await client.invokeSync(
            namesrv.address, .request(.getKVConfig, header: GetKVConfigRequestHeader(namespace: "n", key: "k")))
        XCTAssertEqual(kv.responseCode, .queryNotFound, file: file, line: line)
    }

    func rawConnection() throws -> RawSocket { try RawSocket(port: namesrv.port) }

    func testLengthPrefixOverTheBoundClosesTheConnection() async throws {
        try await assertStillServing()
        let s = try rawConnection()
        s.send([0x01, 0x00, 0x00, 0x01, 0, 0, 0, 2])  // 16 MiB + 1 + 4 > bound
        XCTAssertTrue(s.waitForClose())
        try await assertStillServing()
    }

    func testBadSerializeTypeClosesTheConnection() async throws {
        let s = try rawConnection()
        s.send([0, 0, 0, 6, 0x02, 0, 0, 2] + Array("{}".utf8))
        XCTAssertTrue(s.waitForClose())
        try await assertStillServing()
    }

    func testHeaderLongerThanItsFrameClosesTheConnection() async throws {
        let s = try rawConnection()
        s.send([0, 0, 0, 6, 0, 0, 0, 0x40] + Array("{}".utf8))
        XCTAssertTrue(s.waitForClose())
        try await assertStillServing()
    }

    func testInvalidJSONHeaderClosesTheConnection() async throws {
        let header = Array(#"{"code":105,"opaque":1,"extFields":{"topic":"T"}"#.utf8)  // unterminated
        let s = try rawConnection()
        s.send(frame(header: header, type: 0))
        XCTAssertTrue(s.waitForClose())
        try await assertStillServing()
    }

    func testInvalidJSONBodyGetsSystemErrorAndTheConnectionStays() async throws {
        var r = RemotingCommand.request(
            .registerBroker,
            header: RegisterBrokerRequestHeader(brokerName: "b", brokerAddr: "1.1.1.1:1", clusterName: "c", haServerAddr: "x", brokerId: 0),
            body: ByteBuffer(string: "{not json"))
        r.opaque = 4711
        let s = try rawConnection()
        s.send(try r.encodeFrame().allBytes)
        let response = try decode(try XCTUnwrap(s.readFrame()))
        XCTAssertEqual(response.opaque, 4711)
        XCTAssertEqual(response.responseCode, .systemError)
        // Same connection, next request still answered.
        var ok = RemotingCommand.request(.getBrokerClusterInfo)
        ok.opaque = 4712
        s.send(try ok.encodeFrame().allBytes)
        XCTAssertEqual(try decode(try XCTUnwrap(s.readFrame())).responseCode, .success)
        try await assertStillServing()
    }

    func testUnknownCodeIsAnsweredInTheRequestsSerialisation() async throws {
        let s = try rawConnection()
        for (opaque, type) in [(Int32(11), SerializeType.json), (12, .rocketmq)] {
            var r = RemotingCommand.request(RequestCode(7777), serializeType: type)
            r.opaque = opaque
            s.send(try r.encodeFrame().allBytes)
            let bytes = try XCTUnwrap(s.readFrame())
            XCTAssertEqual(bytes[4], type.rawValue, "response serialised as its request")
            let response = try decode(bytes)
            XCTAssertEqual(response.opaque, opaque)
            XCTAssertTrue(response.isResponse)
            XCTAssertEqual(response.responseCode, .requestCodeNotSupported)
            XCTAssertEqual(response.remark, " request type 7777 not supported")
        }
        try await assertStillServing()
    }

    func testCppShapedRouteQueryWithNumbersAndTrailingNewlineIsAnswered() async throws {
        let header = Array((#"{"code":105,"extFields":{"AccessKey":"","OnsChannel":"ALIYUN","Signature":"","topic":"Nope","queueId":3},"flag":0,"language":"CPP","opaque":99,"remark":"","version":333}"# + "\n").utf8)
        let s = try rawConnection()
        s.send(frame(header: header, type: 0))
        let response = try decode(try XCTUnwrap(s.readFrame()))
        XCTAssertEqual(response.opaque, 99)
        XCTAssertEqual(response.responseCode, .topicNotExist)
    }

    func testMissingRequiredHeaderFieldGetsSystemError() async throws {
        let r = try await client.invokeSync(namesrv.address, .request(.getRouteInfoByTopic))
        XCTAssertEqual(r.responseCode, .systemError)
        XCTAssertEqual(r.remark, "the custom field <topic> is null")
    }

    func frame(header: [UInt8], type: UInt8) -> [UInt8] {
        let length = UInt32(4 + header.count)
        return withUnsafeBytes(of: length.bigEndian, Array.init) + [type, 0, UInt8(header.count >> 8), UInt8(header.count & 0xFF)] + header
    }

    func decode(_ frame: [UInt8]) throws -> RemotingCommand {
        try RemotingCommand.decodeFrame(ByteBuffer(bytes: frame.dropFirst(4)))
    }
}
