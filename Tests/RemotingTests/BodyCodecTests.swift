// Body codec tests: fastjson's quirky output (bare numeric keys, object-literal keys, old spellings),
// the standard-JSON form, RegisterBrokerBody in JSON and compressed form, HeartbeatData from Java and C++.

import NIOCore
import XCTest

@testable import Remoting

final class BodyCodecTests: XCTestCase {
    func testOldStyleRouteDataWithBareNumericKeysParses() throws {
        let text = """
            {"brokerDatas":[{"brokerAddrs":{0:"192.168.0.20:10911",1:"192.168.0.21:10911"},
                             "brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false}],
             "filterServerTable":{},
             "queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}

            """
        let route = try TopicRouteData.decode(text)
        XCTAssertEqual(route.brokerDatas.first?.brokerAddrs, [0: "192.168.0.20:10911", 1: "192.168.0.21:10911"])
        XCTAssertEqual(route.queueDatas, [QueueData(brokerName: "broker-a", readQueueNums: 4, writeQueueNums: 4, perm: 6)])
    }

    func testRouteDataWritesBareKeysForOldClientsAndQuotedKeysForNew() throws {
        let route = TopicRouteData(
            queueDatas: [QueueData(brokerName: "b", readQueueNums: 4, writeQueueNums: 4, perm: 6)],
            brokerDatas: [BrokerData(cluster: "c", brokerName: "b", brokerAddrs: [1: "10.0.0.2:10911", 0: "10.0.0.1:10911"])])
        let old = route.jsonText(style: .fastjson)
        XCTAssertEqual(
            old,
            #"{"brokerDatas":[{"brokerAddrs":{0:"10.0.0.1:10911",1:"10.0.0.2:10911"},"brokerName":"b","cluster":"c","enableActingMaster":false}],"filterServerTable":{},"queueDatas":[{"brokerName":"b","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}"#)
        let standard = route.jsonText(style: .standard)
        XCTAssertTrue(standard.contains(#"{"0":"10.0.0.1:10911","1":"10.0.0.2:10911"}"#))
        XCTAssertEqual(try TopicRouteData.decode(old), route)
        XCTAssertEqual(try TopicRouteData.decode(standard), route)
    }

    func testStandardStyleEscapesNonASCIIAndSlash() {
        var w = JSONWriter(style: .standard)
        w.value("é/x")
        XCTAssertEqual(w.text, #""\u00e9\/x""#)
        var f = JSONWriter(style: .fastjson)
        f.value("é/x")
        XCTAssertEqual(f.text, "\"é/x\"")
    }

    func testOldTopicSynFlagSpellingIsAccepted() throws {
        let q = try QueueData.decode(#"{"brokerName":"b","perm":6,"readQueueNums":8,"topicSynFlag":2,"writeQueueNums":8}"#)
        XCTAssertEqual(q.topicSysFlag, 2)
    }

    func testClusterInfoExampleParses() throws {
        let text = #"{"brokerAddrTable":{"broker-a":{"brokerAddrs":{0:"192.168.0.20:10911"},"brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false}},"clusterAddrTable":{"DefaultCluster":["broker-a"]}}"#
        let info = try ClusterInfo.decode(text)
        XCTAssertEqual(info.clusterAddrTable, ["DefaultCluster": ["broker-a"]])
        XCTAssertEqual(info.brokerAddrTable["broker-a"]?.brokerAddrs[0], "192.168.0.20:10911")
        XCTAssertEqual(info.jsonText(), text)
    }

    func testObjectLiteralKeysParse() throws {
        let text = #"{"consumeTps":0.0,"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"TopicTest"}:{"brokerOffset":120,"consumerOffset":118,"lastTimestamp":1700000001234,"pullOffset":118}}}"#
        let v = try JSONValue.parse(text)
        let table = try XCTUnwrap(v["offsetTable"]?.objectValue)
        XCTAssertEqual(table.members.count, 1)
        guard case .object(let key) = table.members[0].key else { return XCTFail("key is not an object") }
        XCTAssertEqual(key["queueId"]?.intValue, 0)
        XCTAssertEqual(table.members[0].value["brokerOffset"]?.int64Value, 120)
        var w = JSONWriter()
        w.value(v)
        XCTAssertEqual(w.text, text)
    }

    func testLenientSyntaxParses() throws {
        let v = try JSONValue.parse("{a:'x',,\"b\":[1,,2,],\"c\":\"\\u00e9\\/\\ud83d\\ude00\",\"d\":1.5E-4,}\n")
        XCTAssertEqual(v["a"], .string("x"))
        XCTAssertEqual(v["b"], .array([.number("1"), .number("2")]))
        XCTAssertEqual(v["c"], .string("é/😀"))
        XCTAssertEqual(v["d"], .number("1.5E-4"))
    }

    func testDeepNestingIsRejectedNotCrashing() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        XCTAssertThrowsError(try JSONValue.parse(deep))
    }

    func testRegisterBrokerBodySpecExampleParses() throws {
        let text = """
            {"filterServerList":[],
             "topicConfigSerializeWrapper":{
               "dataVersion":{"counter":12,"stateVersion":0,"timestamp":1700000000000},
               "mappingDataVersion":{"counter":0,"stateVersion":0,"timestamp":1700000000000},
               "topicConfigTable":{
                 "TopicTest":{"attributes":{},"order":false,"perm":6,"readQueueNums":4,
                              "topicFilterType":"SINGLE_TAG","topicName":"TopicTest","topicSysFlag":0,"writeQueueNums":4}},
               "topicQueueMappingDetailMap":{},
               "topicQueueMappingInfoMap":{}}}
            """
        let body = try RegisterBrokerBody.decode(text)
        XCTAssertEqual(body.topicConfigSerializeWrapper.dataVersion, DataVersion(counter: 12, timestamp: 1_700_000_000_000, stateVersion: 0))
        XCTAssertEqual(body.topicConfigSerializeWrapper.topicConfigTable["TopicTest"]?.writeQueueNums, 4)
        XCTAssertEqual(try RegisterBrokerBody.decode(body.jsonText()), body)
    }

    func testCompressedRegisterBrokerBodyRoundTrips() throws {
        let body = RegisterBrokerBody(
            topicConfigSerializeWrapper: TopicConfigSerializeWrapper(
                topicConfigTable: [
                    "T1": TopicConfig(topicName: "T1", readQueueNums: 4, writeQueueNums: 4, perm: 6),
                    "TBW102": TopicConfig(topicName: "TBW102", readQueueNums: 8, writeQueueNums: 8, perm: 7,
                                          attributes: ["+message.type": "NORMAL"]),
                ],
                dataVersion: DataVersion(counter: 3, timestamp: 1_700_000_000_000, stateVersion: nil)),
            filterServerList: ["10.0.0.9:30000"])
        let compressed = try XCTUnwrap(body.encodeCompressed(version: 401))
        XCTAssertEqual(compressed.first, 0x78)  // zlib header
        let decoded = try RegisterBrokerBody.decodeCompressed(compressed, version: 401)
        XCTAssertEqual(decoded, body)
        XCTAssertThrowsError(try RegisterBrokerBody.decodeCompressed(Array(compressed.prefix(10)), version: 401))
    }

    func testCrc32IsMaskedTo31Bits() {
        // CRC32("123456789") = 0xCBF43926; masked = 0x4BF43926
        XCTAssertEqual(Zlib.crc32Masked(Array("123456789".utf8)), 0x4BF4_3926)
    }

    func testJavaHeartbeatParses() throws {
        let text = #"{"clientID":"192.168.0.10@12345#83729384722","consumerDataSet":[{"consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","consumeType":"CONSUME_PASSIVELY","groupName":"cg","messageModel":"CLUSTERING","subscriptionDataSet":[{"classFilterMode":false,"codeSet":[2598919],"expressionType":"TAG","subString":"TagA","subVersion":1700000000123,"tagsSet":["TagA"],"topic":"TopicTest"}],"unitMode":false}],"heartbeatFingerprint":0,"producerDataSet":[{"groupName":"CLIENT_INNER_PRODUCER"}],"withoutSub":false}"#
        let h = try HeartbeatData.decode(text)
        XCTAssertEqual(h.clientID, "192.168.0.10@12345#83729384722")
        XCTAssertEqual(h.consumerDataSet.first?.subscriptionDataSet.first?.codeSet, [2_598_919])
        XCTAssertEqual(h.producerDataSet, [ProducerData(groupName: "CLIENT_INNER_PRODUCER")])
        XCTAssertEqual(h.jsonText(), text)
    }

    func testCppHeartbeatWithOrdinalsAndStringSubVersionParses() throws {
        let text = #"{"clientID":"10.0.0.1@9","consumerDataSet":[{"consumeFromWhere":4,"consumeType":1,"groupName":"g","messageModel":1,"subscriptionDataSet":[{"codeSet":[0],"subString":"*","subVersion":"1700000000999","tagsSet":[],"topic":"T"}]}]}"#
            + "\n"
        let h = try HeartbeatData.decode(text)
        let c = try XCTUnwrap(h.consumerDataSet.first)
        XCTAssertEqual(c.consumeType.name, "CONSUME_PASSIVELY")
        XCTAssertEqual(c.messageModel.name, "CLUSTERING")
        XCTAssertEqual(c.consumeFromWhere.name, "CONSUME_FROM_FIRST_OFFSET")
        XCTAssertEqual(c.subscriptionDataSet.first?.subVersion, 1_700_000_000_999)
        XCTAssertEqual(c.subscriptionDataSet.first?.expressionType, "TAG")
        XCTAssertEqual(h.producerDataSet, [])
    }

    func testKVTableAndTopicListRoundTrip() throws {
        let kv = KVTable(table: ["b": "2", "a": "1"])
        XCTAssertEqual(kv.jsonText(), #"{"table":{"a":"1","b":"2"}}"#)
        XCTAssertEqual(try KVTable.decode(kv.jsonText()), kv)
        let tl = TopicList(topicList: ["TopicTest", "TBW102"])
        XCTAssertEqual(try TopicList.decode(tl.jsonText()), tl)
    }
}
