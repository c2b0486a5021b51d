// MessageDecoderTests: golden record bytes (store.md §3.2) decoded field by field — v2 and v1 magic, IPv6
// hosts — and bad or short input answered with a MessageDecodingError naming the problem, never a trap.

import ApusTestSupport
import Common
import Testing

enum Golden {
    /// v2 magic, IPv4 hosts 10.0.0.5:51234 / 192.168.0.20:10911, topic "T", body "hi", TAGS=A.
    static let v2 = hexBytes("00000066DAA320AB000012340000000300000007000000000000002A0000000000001000000000000000018BCFE568000A0000050000C822"
        + "0000018BCFE5687BC0A8001400002A9F000000020000000000000000000000026869000154000754414753014102")
    /// v1 magic (one-byte topic length), topic "TopicA", KEYS="k1 k2", UNIQ_KEY=ABC.
    static let v1 = hexBytes("0000007BDAA320A7000012340000000300000007000000000000002A0000000000001000000000000000018BCFE568000A0000050000C822"
        + "0000018BCFE5687BC0A8001400002A9F00000002000000000000000000000002686906546F7069634100184B455953016B31206B3202554E49515F4B45590141424302")
    /// v2 magic, sysFlag 0x30: born host 2001:db8::1, store host fe80::2, no properties.
    static let v6 = hexBytes("00000077DAA320AB000012340000000300000007000000000000002A0000000000001000000000300000018BCFE5680020010DB800000000"
        + "00000000000000010000C8220000018BCFE5687BFE80000000000000000000000000000200002A9F0000000200000000000000000000000268690001540000")
}

@Suite struct MessageDecoderTests {
    @Test func v2RecordDecodesEveryField() throws {
        let (m, size) = try MessageDecoder.decode(Golden.v2)
        #expect(size == 102)
        #expect(m.storeSize == 102)
        #expect(m.bodyCRC == 0x1234)
        #expect(m.queueId == 3)
        #expect(m.flag == 7)
        #expect(m.queueOffset == 42)
        #expect(m.commitLogOffset == 4096)
        #expect(m.sysFlag == 0)
        #expect(m.bornTimestamp == 1_700_000_000_000)
        #expect(m.bornHost.description == "10.0.0.5:51234")
        #expect(m.storeTimestamp == 1_700_000_000_123)
        #expect(m.storeHost.description == "192.168.0.20:10911")
        #expect(m.reconsumeTimes == 2)
        #expect(m.preparedTransactionOffset == 0)
        #expect(m.body == Array("hi".utf8))
        #expect(m.topic == "T")
        #expect(m.properties == ["TAGS": "A"])
        #expect(m.tags == "A")
        #expect(m.offsetMsgId == "C0A8001400002A9F0000000000001000")
        #expect(m.msgId == m.offsetMsgId)
    }

    @Test func v1RecordReadsAOneByteTopicLength() throws {
        let (m, size) = try MessageDecoder.decode(Golden.v1)
        #expect(size == 123)
        #expect(m.topic == "TopicA")
        #expect(m.keys == ["k1", "k2"])
        #expect(m.msgId == "ABC")
    }

    @Test func ipv6HostsAreSixteenBytesEach() throws {
        let (m, size) = try MessageDecoder.decode(Golden.v6)
        #expect(size == 119)
        #expect(m.sysFlag == 0x30)
        #expect(m.bornHost == MessageHost(.v6(0x2001_0DB8_0000_0000, 1), port: 51234))
        #expect(m.bornHost.description == "2001:db8:0:0:0:0:0:1:51234")
        #expect(m.storeHost.description == "fe80:0:0:0:0:0:0:2:10911")
        #expect(m.offsetMsgId == "FE80000000000000000000000000000200002A9F0000000000001000")
        #expect(m.topic == "T")
        #expect(m.properties.isEmpty)
    }

    @Test func concatenatedRecordsDecodeInOrderAndABadTailIsDropped() {
        let all = MessageDecoder.decodeAll(Golden.v2 + Golden.v1 + Golden.v6 + [0, 0, 0])
        #expect(all.map(\.topic) == ["T", "TopicA", "T"])
        #expect(MessageDecoder.decodeAll([]).isEmpty)
    }

    @Test func everyTruncationIsAnErrorNotATrap() {
        for n in 0..<Golden.v2.count {
            #expect(throws: MessageDecodingError.self) { try MessageDecoder.decode(Array(Golden.v2.prefix(n))) }
        }
    }

    @Test func aShortBufferNamesTheBadTotalSize() {
        #expect(throws: MessageDecodingError(reason: .badTotalSize(102), recordStart: 0)) {
            try MessageDecoder.decode(Array(Golden.v2.prefix(50)))
        }
        #expect(throws: MessageDecodingError(reason: .truncated(field: "TOTALSIZE"), recordStart: 0)) {
            try MessageDecoder.decode([0, 0])
        }
    }

    @Test func aWrongMagicIsRefused() {
        var b = Golden.v2
        b[7] = 0x00
        #expect(throws: MessageDecodingError(reason: .badMagic(0xDAA3_2000), recordStart: 0)) { try MessageDecoder.decode(b) }
    }

    @Test func aBodyLengthPastTheRecordIsTruncatedNotReadFromTheNextRecord() {
        var b = Golden.v2
        b[87] = 0x40 // body length 64 inside a 102-byte record
        #expect(throws: MessageDecodingError(reason: .truncated(field: "BODY"), recordStart: 0)) { try MessageDecoder.decode(b + Golden.v1) }
        b[84] = 0xFF // negative body length
        #expect(throws: MessageDecodingError(reason: .negativeLength(field: "BODY"), recordStart: 0)) { try MessageDecoder.decode(b) }
    }

    @Test func errorsDescribeTheRecordAndField() {
        let e = MessageDecodingError(reason: .truncated(field: "TOPIC"), recordStart: 204)
        #expect(e.description == "message record at 204 truncated in TOPIC")
    }
}
