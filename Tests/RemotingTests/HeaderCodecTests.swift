// Header codec tests: the spec's hex examples decode to the documented fields and re-encode to the same
// bytes; both serialisations round-trip; the C++ client's JSON shape decodes.

import ApusTestSupport
import NIOCore
import XCTest

@testable import Remoting

final class HeaderCodecTests: XCTestCase {
    // remoting.md §3.2
    let jsonFrameHex = """
        00 00 00 87 00 00 00 83 7b 22 63 6f 64 65 22 3a 31 30 35 2c 22 65 78 74 46 69 65 6c 64 73 22 3a
        7b 22 74 6f 70 69 63 22 3a 22 54 6f 70 69 63 54 65 73 74 22 7d 2c 22 66 6c 61 67 22 3a 30 2c 22
        6c 61 6e 67 75 61 67 65 22 3a 22 4a 41 56 41 22 2c 22 6f 70 61 71 75 65 22 3a 31 2c 22 73 65 72
        69 61 6c 69 7a 65 54 79 70 65 43 75 72 72 65 6e 74 52 50 43 22 3a 22 4a 53 4f 4e 22 2c 22 76 65
        72 73 69 6f 6e 22 3a 34 37 39 7d
        """
    // remoting.md §4.2
    let binaryFrameHex = "0000002d0100002900690001df000000010000000000000000000000140005746f70696300000009546f70696354657374"

    func decodeWhole(_ bytes: [UInt8]) throws -> RemotingCommand {
        var buffer = ByteBuffer(bytes: bytes)
        let commands = try RemotingFrameParser().decodeAll(&buffer)
        XCTAssertEqual(commands.count, 1)
        XCTAssertEqual(buffer.readableBytes, 0)
        return try XCTUnwrap(commands.first)
    }

    func assertRouteQueryFields(_ c: RemotingCommand, type: SerializeType) {
        XCTAssertEqual(c.code, 105)
        XCTAssertEqual(c.language, .java)
        XCTAssertEqual(c.version, 479)
        XCTAssertEqual(c.opaque, 1)
        XCTAssertEqual(c.flag, 0)
        XCTAssertNil(c.remark)
        XCTAssertEqual(c.extFields, ["topic": "TopicTest"])
        XCTAssertNil(c.body)
        XCTAssertEqual(c.serializeType, type)
        XCTAssertFalse(c.isResponse)
        XCTAssertFalse(c.isOneway)
    }

    func testSpecJSONExampleDecodesAndReencodesByteForByte() throws {
        let bytes = hexBytes(jsonFrameHex)
        XCTAssertEqual(bytes.count, 139)
        let c = try decodeWhole(bytes)
        assertRouteQueryFields(c, type: .json)
        XCTAssertEqual(try c.encodeFrame().allBytes, bytes)
    }

    func testSpecBinaryExampleDecodesAndReencodesByteForByte() throws {
        let bytes = hexBytes(binaryFrameHex)
        XCTAssertEqual(bytes.count, 49)
        let c = try decodeWhole(bytes)
        assertRouteQueryFields(c, type: .rocketmq)
        XCTAssertEqual(hexString(try c.encodeFrame().allBytes), binaryFrameHex)
    }

    func testHeaderWordPacksTypeAndLength() {
        XCTAssertEqual(RemotingCommand.headerWord(type: .json, headerLength: 261), 0x0000_0105)
        XCTAssertEqual(RemotingCommand.headerWord(type: .rocketmq, headerLength: 16_777_215), 0x01FF_FFFF)
    }

    func testBothSerialisationsRoundTripEveryField() throws {
        for type in [SerializeType.json, .rocketmq] {
            var c = RemotingCommand(
                code: 310, language: .cpp, version: 333, opaque: -42, flag: 3,
                remark: "réponse \"quoted\"\n\\ tab\t ctrl\u{01} 日本",
                extFields: ["a": "group", "b": "Topic/x", "g": "1700000000000", "i": "UNIQ_KEY\u{01}ABC\u{02}", "ünï": "çödé"],
                body: ByteBuffer(bytes: [1, 2, 3, 0, 255]), serializeType: type)
            c.serializeType = type
            let decoded = try decodeWhole(try c.encodeFrame().allBytes)
            XCTAssertEqual(decoded.code, c.code)
            XCTAssertEqual(decoded.language, c.language)
            XCTAssertEqual(decoded.version, c.version)
            XCTAssertEqual(decoded.opaque, c.opaque)
            XCTAssertEqual(decoded.flag, c.flag)
            XCTAssertEqual(decoded.remark, c.remark)
            XCTAssertEqual(decoded.extFields, c.extFields)
            XCTAssertEqual(decoded.body?.allBytes, [1, 2, 3, 0, 255])
            XCTAssertEqual(decoded.serializeType, type)
            XCTAssertTrue(decoded.isResponse)
            XCTAssertTrue(decoded.isOneway)
        }
    }

    func testResponseWithoutHeaderMatchesJavaShape() throws {
        var request = RemotingCommand(code: 105, opaque: 1)
        request.serializeType = .json
        let response = request.makeResponse(.success)
        var buffer = ByteBuffer()
        response.writeJSONHeader(into: &buffer)
        XCTAssertEqual(
            String(buffer: buffer),
            #"{"code":0,"flag":1,"language":"JAVA","opaque":1,"serializeTypeCurrentRPC":"JSON","version":479}"#)
        let withEmptyHeader = request.makeResponse(.success, header: EmptyHeader())
        var b2 = ByteBuffer()
        withEmptyHeader.writeJSONHeader(into: &b2)
        XCTAssertTrue(String(buffer: b2).contains(#""extFields":{}"#))
    }

    func testCppClientJSONShapeDecodes() throws {
        // C++ client: numbers and booleans in extFields, remark "", language CPP, version 333, trailing newline.
        let header = #"{"code":310,"extFields":{"AccessKey":"","OnsChannel":"ALIYUN","Signature":"","a":"pg","b":"T","d":4,"e":-1,"f":0,"g":"1700000000000","h":0,"j":0,"k":"false","l":16,"m":true},"flag":0,"language":"CPP","opaque":7,"remark":"","version":333}"#
            + "\n"
        let c = try RemotingCommand.readJSONHeader(bytesOf: header)
        XCTAssertEqual(c.code, 310)
        XCTAssertEqual(c.language, .cpp)
        XCTAssertEqual(c.version, 333)
        XCTAssertEqual(c.opaque, 7)
        XCTAssertEqual(c.remark, "")
        XCTAssertEqual(c.extFields?["d"], "4")
        XCTAssertEqual(c.extFields?["e"], "-1")
        XCTAssertEqual(c.extFields?["m"], "true")
        XCTAssertEqual(c.extFields?["k"], "false")
        XCTAssertEqual(c.extFields?["AccessKey"], "")
    }

    func testJSONHeaderToleratesOrderUnknownMembersOrdinalLanguageAndNulls() throws {
        let header = #" { 'opaque' : 9 , "unknown":{"x":[1,2,{"y":null}]}, "language": 12, "code": "34", "remark": null, "extFields": {"k": "v", "n": null} , "serializeTypeCurrentRPC":"WHATEVER" } "#
        let c = try RemotingCommand.readJSONHeader(bytesOf: header)
        XCTAssertEqual(c.code, 34)
        XCTAssertEqual(c.opaque, 9)
        XCTAssertEqual(c.language, .rust)
        XCTAssertNil(c.remark)
        XCTAssertEqual(c.extFields, ["k": "v"])
        XCTAssertEqual(c.version, 0)
        XCTAssertEqual(c.flag, 0)
    }

    func testJSONHeaderRejectsMalformedInput() {
        for bad in [#"{"code":1"#, #"{"code":}"#, "not json", #"{"opaque":1}"#, #"{"code":1,"language":99}"#,
                    #"{"code":99999999999}"#, #"{"code":1} trailing"#, ""] {
            XCTAssertThrowsError(try RemotingCommand.readJSONHeader(bytesOf: bad), bad)
        }
    }

    func testBinaryHeaderRejectsLengthsBeyondTheHeader() {
        // remark length larger than the header
        var bytes = hexBytes("00690001df0000000100000000")
        bytes += [0x00, 0x00, 0x10, 0x00]
        XCTAssertThrowsError(try bytes.withUnsafeBytes { try RemotingCommand.readBinaryHeader($0) })
        // map section longer than the header
        let mapTooLong = hexBytes("00690001df000000010000000000000000000000ff0005746f706963")
        XCTAssertThrowsError(try mapTooLong.withUnsafeBytes { try RemotingCommand.readBinaryHeader($0) })
    }

    func sendHeader(optionals: Bool) -> SendMessageRequestHeader {
        SendMessageRequestHeader(
            producerGroup: "pg", topic: "TopicTest", defaultTopic: "TBW102", defaultTopicQueueNums: 4, queueId: -1,
            sysFlag: 0x4, bornTimestamp: 1_700_000_000_123, flag: -7,
            properties: optionals ? "UNIQ_KEY\u{1}ABC\u{2}TAGS\u{1}t\u{2}" : nil, reconsumeTimes: optionals ? 3 : nil,
            unitMode: optionals ? true : nil, maxReconsumeTimes: optionals ? 16 : nil, batch: optionals ? false : nil,
            brokerName: optionals ? "broker-a" : nil)
    }

    func testSendHeadersAreWrittenTypedAndReadInPlace() throws {
        for optionals in [true, false] {
            let h = sendHeader(optionals: optionals)
            // V2 letters and V1 names, in both serialisations: the in-place reader (binary) and the dictionary
            // reader (JSON) decode the same header, and the flattened fields are the dictionary writer's.
            for (code, typed) in [(RequestCode.sendMessageV2, SendMessageRequestHeaderV2(h) as any CommandCustomHeader),
                                  (.sendMessage, h)] {
                for type in [SerializeType.rocketmq, .json] {
                    var frame = try RemotingCommand.request(code, header: typed, serializeType: type).encodeFrame()
                    let c = try XCTUnwrap(try RemotingFrameParser().decodeAll(&frame).first)
                    if type == .rocketmq, case .binary = c.headerFields {} else if type == .rocketmq { XCTFail("not read in place") }
                    XCTAssertEqual(c.extFields, typed.toExtFields())
                    let back = code == .sendMessageV2 ? try c.decodeHeader(SendMessageRequestHeaderV2.self).header
                        : try c.decodeHeader(SendMessageRequestHeader.self)
                    XCTAssertEqual(back, h)
                }
            }
        }
        let r = SendMessageResponseHeader(msgId: "0A00000100002A9F0000000000000064", queueId: 3, queueOffset: -1,
                                          transactionId: "tx", msgRegion: "R", traceOn: false)
        for type in [SerializeType.rocketmq, .json] {
            var frame = try RemotingCommand(code: 10, serializeType: type).makeResponse(.success, header: r).encodeFrame()
            let c = try XCTUnwrap(try RemotingFrameParser().decodeAll(&frame).first)
            XCTAssertEqual(c.extFields, r.toExtFields())
            XCTAssertEqual(try c.decodeHeader(SendMessageResponseHeader.self), r)
        }
    }

    func testInPlaceReadersFollowTheTextRules() throws {
        // Numbers: spaces around, a sign, overflow and junk as Int64(String) after trimming spaces.
        for text in ["0", " 42 ", "+7", "-7", "-", "+", "", "  ", "9223372036854775807", "9223372036854775808",
                     "-9223372036854775808", "-9223372036854775809", "1e3", "12a", "٣", "0x10", "2147483648"] {
            let bytes = Array(text.utf8)
            let parsed = bytes.withUnsafeBytes { ExtFieldBytes.int64($0) }
            XCTAssertEqual(parsed, Int64(text.trimmingSpaces), text)
            XCTAssertEqual(bytes.withUnsafeBytes { ExtFieldBytes.int32($0) }, Int32(text.trimmingSpaces), text)
        }
        for text in ["true", "TRUE", "True", "tru", "truee", "false", "", "1"] {
            XCTAssertEqual(Array(text.utf8).withUnsafeBytes { ExtFieldBytes.bool($0) }, text.lowercased() == "true", text)
        }
        // A repeated key: the last one wins, as in the dictionary; a required number that does not parse is
        // reported missing, as on the text path.
        var fields = SendMessageRequestHeaderV2(sendHeader(optionals: false)).toExtFields()
        var command = RemotingCommand(code: 310, extFields: fields, serializeType: .rocketmq)
        var frame = try command.encodeFrame()
        var bytes = frame.readBytes(length: frame.readableBytes)!
        bytes += [0, 1, UInt8(ascii: "b"), 0, 0, 0, 2, UInt8(ascii: "T"), UInt8(ascii: "2")]
        let mapLengthAt = bytes.count - 9 - fieldsBytes(fields) - 4
        let mapLength = UInt32(fieldsBytes(fields) + 9)
        bytes.replaceSubrange(mapLengthAt..<(mapLengthAt + 4), with: withUnsafeBytes(of: mapLength.bigEndian, Array.init))
        let frameLength = UInt32(bytes.count - 4), headerLength = UInt32(bytes.count - 8) | 1 << 24
        bytes.replaceSubrange(0..<4, with: withUnsafeBytes(of: frameLength.bigEndian, Array.init))
        bytes.replaceSubrange(4..<8, with: withUnsafeBytes(of: headerLength.bigEndian, Array.init))
        var buffer = ByteBuffer(bytes: bytes)
        let c = try XCTUnwrap(try RemotingFrameParser().decodeAll(&buffer).first)
        XCTAssertEqual(try c.decodeHeader(SendMessageRequestHeaderV2.self).header.topic, "T2")
        XCTAssertEqual(c.extFields?["b"], "T2")
        fields["e"] = "x1"
        command.extFields = fields
        frame = try command.encodeFrame()
        let bad = try XCTUnwrap(try RemotingFrameParser().decodeAll(&frame).first)
        XCTAssertThrowsError(try bad.decodeHeader(SendMessageRequestHeaderV2.self)) {
            XCTAssertEqual($0 as? RemotingError, .missingHeaderField("e"))
        }
    }

    private func fieldsBytes(_ fields: [String: String]) -> Int {
        fields.reduce(0) { $0 + 2 + $1.key.utf8.count + 4 + $1.value.utf8.count }
    }

    func testBinaryCannotCarryCodesBeyondSixteenBits() {
        let c = RemotingCommand(code: 200_050, serializeType: .rocketmq)
        XCTAssertThrowsError(try c.encodeFrame())
    }
}

extension RemotingCommand {
    static func readJSONHeader(bytesOf text: String) throws -> RemotingCommand {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBytes { try readJSONHeader($0) }
    }
}
