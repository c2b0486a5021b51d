// HeaderSchema tests: one description per header drives the extFields map and the binary section, so the
// two must agree field for field; a missing or unparsable required field names its key on both paths; and
// every header type in Sources/Remoting round-trips a value with every field set (the list is checked
// against the sources, so a new header cannot be left out).

import ApusTestSupport
import Foundation
import NIOCore
import XCTest

@testable import Remoting

final class HeaderSchemaTests: XCTestCase {
    /// Every header described by a schema. `testTheListCoversEveryHeaderInTheSources` keeps it complete.
    static let described: [any (DescribedHeader & Equatable).Type] = [
        SendMessageResponseHeader.self, PullMessageRequestHeader.self, PullMessageResponseHeader.self,
        QueryConsumerOffsetRequestHeader.self, UpdateConsumerOffsetRequestHeader.self, TopicQueueRequestHeader.self,
        SearchOffsetRequestHeader.self, OffsetResponseHeader.self, TimestampResponseHeader.self,
        ConsumerGroupRequestHeader.self, UnregisterClientRequestHeader.self, ConsumerSendMsgBackRequestHeader.self,
        HeartbeatResponseHeader.self, RegisterBrokerRequestHeader.self, RegisterBrokerResponseHeader.self,
        BrokerIdentityHeader.self, QueryDataVersionResponseHeader.self, BrokerHeartbeatRequestHeader.self,
        GetRouteInfoRequestHeader.self, DeleteTopicFromNamesrvRequestHeader.self, GetTopicsByClusterRequestHeader.self,
        PutKVConfigRequestHeader.self, KVConfigKeyRequestHeader.self, GetKVConfigResponseHeader.self,
        GetKVListByNamespaceRequestHeader.self, BrokerNameRequestHeader.self, WipeWritePermOfBrokerResponseHeader.self,
        AddWritePermOfBrokerResponseHeader.self, CreateTopicRequestHeader.self, TopicRequestHeader.self,
        DeleteSubscriptionGroupRequestHeader.self, GetSubscriptionGroupConfigRequestHeader.self,
        GetConsumeStatsRequestHeader.self, ViewMessageRequestHeader.self, QueryMessageRequestHeader.self,
        QueryMessageResponseHeader.self, GetAllTopicConfigResponseHeader.self, GetBrokerConfigResponseHeader.self,
        EndTransactionRequestHeader.self, CheckTransactionStateRequestHeader.self,
        GetProducerConnectionListRequestHeader.self, ResetOffsetRequestHeader.self, GetConsumerStatusRequestHeader.self,
        EmptyHeader.self,
        // Controller mode (1001-1013).
        AlterSyncStateSetRequestHeader.self, AlterSyncStateSetResponseHeader.self, ElectMasterRequestHeader.self,
        ElectMasterResponseHeader.self, GetReplicaInfoRequestHeader.self, GetReplicaInfoResponseHeader.self,
        GetMetaDataResponseHeader.self, GetNextBrokerIdRequestHeader.self, GetNextBrokerIdResponseHeader.self,
        ApplyBrokerIdRequestHeader.self, ApplyBrokerIdResponseHeader.self, RegisterBrokerToControllerRequestHeader.self,
        RegisterBrokerToControllerResponseHeader.self,
    ]
    /// Headers with a description of their own (the send path's), round-tripped in HeaderCodecTests too.
    static let specialised: Set<String> = ["SendMessageRequestHeader", "SendMessageRequestHeaderV2"]

    // MARK: helpers

    /// The header written as binary map entries, as a section a received frame would hold.
    func binarySection<H: CommandCustomHeader>(_ h: H) throws -> BinaryExtFields {
        var buffer = ByteBuffer()
        _ = h.writeBinaryExtFields(into: &buffer)
        return try BinaryExtFields(validating: buffer)
    }

    /// A section holding exactly `entries`, in order (repeats allowed).
    func binarySection(_ entries: [(String, String)]) throws -> BinaryExtFields {
        var buffer = ByteBuffer()
        for (k, v) in entries {
            buffer.writeInteger(Int16(k.utf8.count))
            buffer.writeString(k)
            buffer.writeInteger(Int32(v.utf8.count))
            buffer.writeString(v)
        }
        return try BinaryExtFields(validating: buffer)
    }

    func fieldValues<H: DescribedHeader>(_ h: H) -> [HeaderValue?] { H.schema.fields.map { $0.value(h) } }

    func read<H: DescribedHeader>(_ field: HeaderField<H>, _ text: String, into h: inout H) -> Bool {
        var text = text
        return text.withUTF8 { field.read(&h, UnsafeRawBufferPointer($0)) }
    }

    /// A value of `H` with every field set, each to something its type's blank does not hold: the kind of a
    /// field is learnt by reading "1" into it and looking at what it writes back.
    func sample<H: DescribedHeader>(_ type: H.Type) -> H {
        var h = H.schema.blank
        for (i, f) in H.schema.fields.enumerated() {
            XCTAssertTrue(read(f, "1", into: &h), "\(H.self).\(f.name)")
            let text: String
            switch f.value(h) {
            case .text?: text = "t\(i)-ü;x"
            case .number?: text = String(-1000 - i)
            case .flag?: text = "TRUE"
            case nil: XCTFail("\(H.self).\(f.name) reads but writes nothing"); continue
            }
            XCTAssertTrue(read(f, text, into: &h), "\(H.self).\(f.name) \(text)")
        }
        return h
    }

    /// Both paths decode the same header; it equals `h`; each field's value survives each path.
    func assertRoundTrips<H: DescribedHeader & Equatable>(_ h: H, file: StaticString = #filePath, line: UInt = #line) throws {
        let map = h.toExtFields()
        let fromMap = try H(extFields: map)
        let fromBinary = try H(binaryExtFields: try binarySection(h))
        XCTAssertEqual(fromMap, h, "\(H.self) through the map", file: file, line: line)
        XCTAssertEqual(fromBinary, h, "\(H.self) through the binary section", file: file, line: line)
        XCTAssertEqual(fieldValues(fromMap), fieldValues(fromBinary), "\(H.self)", file: file, line: line)
        XCTAssertEqual(fromBinary.toExtFields(), map, "\(H.self)", file: file, line: line)
        // The binary section carries exactly the map's entries, in schema order.
        let section = try binarySection(h)
        var keys: [String] = []
        section.forEachField { k, _ in keys.append(String(decoding: k, as: UTF8.self)) }
        XCTAssertEqual(keys, H.schema.fields.map(\.name).filter { map[$0] != nil }, "\(H.self)", file: file, line: line)
        XCTAssertEqual(section.dictionary, map, "\(H.self)", file: file, line: line)
        // And whole frames in both serialisations.
        for type in [SerializeType.json, .rocketmq] {
            var frame = try RemotingCommand.request(.pullMessage, header: h, serializeType: type).encodeFrame()
            let c = try XCTUnwrap(try RemotingFrameParser().decodeAll(&frame).first)
            XCTAssertEqual(try c.decodeHeader(H.self), h, "\(H.self) in a \(type) frame", file: file, line: line)
        }
    }

    func assertThrowsMissing<H: CommandCustomHeader>(
        _ key: String, _ body: @autoclosure () throws -> H, _ what: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try body(), what, file: file, line: line) {
            XCTAssertEqual($0 as? RemotingError, .missingHeaderField(key), what, file: file, line: line)
        }
    }

    // MARK: the two serialisations agree

    func testDictionaryAndBinaryRoundTripsAgreeFieldForField() throws {
        let pull = PullMessageRequestHeader(
            consumerGroup: "G1", topic: "T", queueId: 3, queueOffset: 1 << 40, maxMsgNums: 32, sysFlag: 0x3,
            commitOffset: -1, suspendTimeoutMillis: 15_000, subscription: "a || b", subVersion: 1_700_000_000_000,
            expressionType: "TAG", maxMsgBytes: Int32.max, brokerName: "broker-a")
        try assertRoundTrips(pull)
        try assertRoundTrips(PullMessageRequestHeader(consumerGroup: "G1", topic: "T", queueId: 0, queueOffset: 0))
        try assertRoundTrips(PullMessageResponseHeader(suggestWhichBrokerId: 1, nextBeginOffset: 2, minOffset: 0, maxOffset: 9,
                                                       topicSysFlag: 1, groupSysFlag: nil, forbiddenType: -1))
        try assertRoundTrips(SendMessageResponseHeader(msgId: "0A", queueId: 1, queueOffset: Int64.min, transactionId: "tx",
                                                       msgRegion: "R", traceOn: false))
        try assertRoundTrips(SendMessageResponseHeader())
        try assertRoundTrips(RegisterBrokerRequestHeader(
            brokerName: "b", brokerAddr: "1.2.3.4:10911", clusterName: "c", haServerAddr: "1.2.3.4:10912", brokerId: 0,
            heartbeatTimeoutMillis: 30_000, enableActingMaster: nil, compressed: true, bodyCrc32: -5, zoneName: "z"))
        try assertRoundTrips(EndTransactionRequestHeader(topic: nil, producerGroup: "pg", tranStateTableOffset: 7,
                                                         commitLogOffset: 8, commitOrRollback: 12, msgId: "m"))
        try assertRoundTrips(GetConsumeStatsRequestHeader(consumerGroup: "g", topic: "t", topicList: ["a", "b"]))
        try assertRoundTrips(GetConsumeStatsRequestHeader(consumerGroup: "g"))
    }

    func testOptionalNilIsLeftOutAndDefaultedFieldsAreAlwaysSent() throws {
        let answer = SendMessageResponseHeader()
        XCTAssertEqual(answer.toExtFields(), ["MSG_REGION": "DefaultRegion", "TRACE_ON": "true"])
        let section = try binarySection(answer)
        var keys: [String] = []
        section.forEachField { k, _ in keys.append(String(decoding: k, as: UTF8.self)) }
        XCTAssertEqual(keys, ["MSG_REGION", "TRACE_ON"])
        // The four offsets of a pull answer travel whatever their values.
        XCTAssertEqual(PullMessageResponseHeader().toExtFields(),
                       ["suggestWhichBrokerId": "0", "nextBeginOffset": "0", "minOffset": "0", "maxOffset": "0"])
        XCTAssertEqual(ResetOffsetRequestHeader(topic: "t", group: "g", timestamp: 5, isForce: false).toExtFields(),
                       ["topic": "t", "group": "g", "timestamp": "5", "isForce": "false", "queueId": "-1"])
        // Absent defaulted keys decode to Java's defaults, not the Swift initialiser's.
        let reg = try RegisterBrokerRequestHeader(extFields: ["brokerName": "b", "brokerAddr": "a", "clusterName": "c",
                                                              "haServerAddr": "h", "brokerId": "0"])
        XCTAssertNil(reg.enableActingMaster)
        XCTAssertFalse(reg.compressed)
        XCTAssertEqual(reg.bodyCrc32, 0)
        let create = try CreateTopicRequestHeader(extFields: ["topic": "t", "readQueueNums": "8", "writeQueueNums": "8",
                                                               "perm": "6"])
        XCTAssertEqual(create.defaultTopic, "TBW102")
        XCTAssertEqual(create.topicFilterType, "SINGLE_TAG")
        XCTAssertNil(create.topicSysFlag)
        // The C++ client's empty strings for absent groups.
        let unregister = try UnregisterClientRequestHeader(binaryExtFields: try binarySection(
            [("clientID", "c"), ("producerGroup", ""), ("consumerGroup", "cg")]))
        XCTAssertEqual(unregister, UnregisterClientRequestHeader(clientID: "c", producerGroup: nil, consumerGroup: "cg"))
        XCTAssertEqual(try UnregisterClientRequestHeader(extFields: ["clientID": "c", "producerGroup": ""]),
                       UnregisterClientRequestHeader(clientID: "c"))
    }

    // MARK: errors

    func testMissingRequiredFieldNamesItsKey() throws {
        let pull = PullMessageRequestHeader(consumerGroup: "G", topic: "T", queueId: 1, queueOffset: 2, subscription: "*")
        for key in ["consumerGroup", "topic", "queueId", "queueOffset", "maxMsgNums", "sysFlag", "commitOffset",
                    "suspendTimeoutMillis", "subVersion"] {
            var map = pull.toExtFields()
            map.removeValue(forKey: key)
            assertThrowsMissing(key, try PullMessageRequestHeader(extFields: map), "map without \(key)")
            let entries = map.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            assertThrowsMissing(key, try PullMessageRequestHeader(binaryExtFields: try self.binarySection(entries)),
                                "binary without \(key)")
        }
        // Several missing: the first in field order is named, on both paths.
        assertThrowsMissing("producerGroup", try EndTransactionRequestHeader(extFields: ["msgId": "m"]), "map")
        assertThrowsMissing("producerGroup", try EndTransactionRequestHeader(binaryExtFields: try self.binarySection([("msgId", "m")])),
                            "binary")
        // An empty text cannot travel in a binary header (Java reads length 0 as null): a required one is missing.
        assertThrowsMissing("topic", try TopicRequestHeader(binaryExtFields: try self.binarySection(TopicRequestHeader(topic: ""))),
                            "empty topic")
    }

    func testUnparsableNumbersAreErrorsWithJavaRules() throws {
        for bad in ["x1", "1x", "", " ", "1.5", "0x10", "9223372036854775808", "--1"] {
            let map = ["topic": "t", "group": "g", "timestamp": bad]
            assertThrowsMissing("timestamp", try ResetOffsetRequestHeader(extFields: map), "map \(bad)")
            assertThrowsMissing("timestamp", try ResetOffsetRequestHeader(binaryExtFields: try self.binarySection(
                [("topic", "t"), ("group", "g"), ("timestamp", bad)])), "binary \(bad)")
        }
        // Int32 fields refuse what only fits an Int64.
        assertThrowsMissing("queueId", try TopicQueueRequestHeader(extFields: ["topic": "t", "queueId": "2147483648"]), "map")
        assertThrowsMissing("queueId", try TopicQueueRequestHeader(binaryExtFields: try self.binarySection(
            [("topic", "t"), ("queueId", "2147483648")])), "binary")
        // Spaces around a number and a sign are Java's parseLong after trim.
        for (text, value) in [(" 12 ", Int64(12)), ("+7", 7), ("-9223372036854775808", Int64.min)] {
            XCTAssertEqual(try ResetOffsetRequestHeader(extFields: ["topic": "t", "group": "g", "timestamp": text]).timestamp, value)
            XCTAssertEqual(try ResetOffsetRequestHeader(binaryExtFields: try binarySection(
                [("topic", "t"), ("group", "g"), ("timestamp", text)])).timestamp, value)
        }
        // Unparsable optional numbers are absent; defaulted ones take their default; flags are
        // Boolean.parseBoolean (only a case-insensitive "true").
        let decoders: [([String: String]) throws -> ResetOffsetRequestHeader] = [
            { m in try ResetOffsetRequestHeader(extFields: m) },
            { m in try ResetOffsetRequestHeader(binaryExtFields: try self.binarySection(m.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })) },
        ]
        for decode in decoders {
            let h = try decode(["topic": "t", "group": "g", "timestamp": "1", "queueId": "q", "offset": "1e3", "isForce": "yes"])
            XCTAssertEqual(h.queueId, -1)
            XCTAssertNil(h.offset)
            XCTAssertFalse(h.isForce)
            XCTAssertTrue(try decode(["topic": "t", "group": "g", "timestamp": "1", "isForce": "tRuE"]).isForce)
        }
    }

    func testRepeatedKeyInABinarySectionLastOneWins() throws {
        let h = try ResetOffsetRequestHeader(binaryExtFields: try binarySection(
            [("topic", "t1"), ("group", "g"), ("timestamp", "x"), ("offset", "5"), ("topic", "t2"), ("timestamp", "7"),
             ("offset", "bad")]))
        XCTAssertEqual(h.topic, "t2")
        XCTAssertEqual(h.timestamp, 7)
        XCTAssertNil(h.offset)
        assertThrowsMissing("timestamp", try ResetOffsetRequestHeader(binaryExtFields: try self.binarySection(
            [("topic", "t"), ("group", "g"), ("timestamp", "7"), ("timestamp", "x")])), "a bad last value")
    }

    // MARK: every header

    func testEveryHeaderRoundTripsASampleValueAndChecksEachRequiredField() throws {
        for type in Self.described { try checkEveryField(type) }
    }

    private func checkEveryField<H: DescribedHeader & Equatable>(_ type: H.Type) throws {
        let full = sample(type)
        try assertRoundTrips(full)
        XCTAssertEqual(Set(full.toExtFields().keys), Set(H.schema.fields.map(\.name)), "\(H.self): every field travels")
        // The smallest value: the optional fields at what their absence decodes to.
        var minimal = full
        for f in H.schema.fields where !f.isRequired { f.reset(&minimal) }
        try assertRoundTrips(minimal)
        let map = full.toExtFields()
        for f in H.schema.fields {
            var without = map
            without.removeValue(forKey: f.name)
            let entries = H.schema.fields.compactMap { g in without[g.name].map { (g.name, $0) } }
            var unparsable = entries
            unparsable.append((f.name, "not a number"))
            let kind = f.value(full)
            if f.isRequired {
                assertThrowsMissing(f.name, try H(extFields: without), "\(H.self) map without \(f.name)")
                assertThrowsMissing(f.name, try H(binaryExtFields: try self.binarySection(entries)),
                                    "\(H.self) binary without \(f.name)")
                if case .number? = kind {
                    assertThrowsMissing(f.name, try H(extFields: without.merging([f.name: "not a number"]) { $1 }),
                                        "\(H.self) map, \(f.name) unparsable")
                    assertThrowsMissing(f.name, try H(binaryExtFields: try self.binarySection(unparsable)),
                                        "\(H.self) binary, \(f.name) unparsable")
                }
            } else {
                // Absent (and, for a number, unparsable) is the value the field starts from.
                var expected = full
                f.reset(&expected)
                XCTAssertEqual(try H(extFields: without), expected, "\(H.self) map without \(f.name)")
                XCTAssertEqual(try H(binaryExtFields: try binarySection(entries)), expected, "\(H.self) binary without \(f.name)")
                if case .number? = kind {
                    XCTAssertEqual(try H(binaryExtFields: try binarySection(unparsable)), expected, "\(H.self) \(f.name) unparsable")
                }
            }
        }
    }

    func testTheListCoversEveryHeaderInTheSources() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources")
        let files = try XCTUnwrap(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil))
        let conformance = try NSRegularExpression(pattern: #"struct (\w+): (?:DescribedHeader|CommandCustomHeader)\b"#)
        var declared: Set<String> = []
        for case let url as URL in files where url.pathExtension == "swift" {
            let text = try String(contentsOf: url, encoding: .utf8)
            for m in conformance.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                if let r = Range(m.range(at: 1), in: text) { declared.insert(String(text[r])) }
            }
        }
        let listed = Set(Self.described.map { String(describing: $0) })
        XCTAssertEqual(declared.subtracting(Self.specialised), listed)
        XCTAssertTrue(declared.isSuperset(of: Self.specialised))
    }
}
