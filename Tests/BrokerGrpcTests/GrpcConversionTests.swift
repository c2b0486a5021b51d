// GrpcConversionTests: the gRPC endpoint's pure parts — receipt handles, the delivery-time → delay-level
// mapping, the body digest the 5.x clients check, peers as BORNHOST, settings answers.

import Common
import GrpcAPI
import XCTest

@testable import BrokerGrpc

final class GrpcConversionTests: XCTestCase {
    func testReceiptHandleRoundTripsAndRefusesForeignText() {
        let h = ReceiptHandle(queueId: 3, queueOffset: 42, deliverySeq: 7)
        XCTAssertEqual(ReceiptHandle(h.text), h)
        for bad in ["", "3 42", "a 42 7", "3 42 7 9", "-1 42 7", "3 -2 7"] { XCTAssertNil(ReceiptHandle(bad), bad) }
    }

    func testTransactionIdRoundTripsAndRefusesForeignText() {
        let id = GrpcTransactionId(commitLogOffset: 123_456, halfQueueOffset: 7)
        XCTAssertEqual(GrpcTransactionId(id.text), id)
        for bad in ["", "1", "1 2 3", "x 2", "-1 2", "7F000001000000000001E240"] { XCTAssertNil(GrpcTransactionId(bad), bad) }
    }

    func testDeliveryTimeMapsToTheFirstLevelNotEarlierThanIt() {
        let levels: [Int64] = [1000, 5000, 10_000, 30_000]
        XCTAssertEqual(GrpcMessageConverter.delayLevel(forDelayMs: 0, levels: levels), 0)
        XCTAssertEqual(GrpcMessageConverter.delayLevel(forDelayMs: -5, levels: levels), 0)
        XCTAssertEqual(GrpcMessageConverter.delayLevel(forDelayMs: 1, levels: levels), 1)
        XCTAssertEqual(GrpcMessageConverter.delayLevel(forDelayMs: 1000, levels: levels), 1)
        XCTAssertEqual(GrpcMessageConverter.delayLevel(forDelayMs: 3000, levels: levels), 2)
        XCTAssertEqual(GrpcMessageConverter.delayLevel(forDelayMs: 99_000, levels: levels), 4)
        XCTAssertEqual(GrpcMessageConverter.delayLevel(forDelayMs: 5, levels: []), 0)
    }

    func testBodyDigestIsUpperCaseZeroPaddedCRC32() {
        XCTAssertEqual(GrpcMessageConverter.crc32Hex(Array("123456789".utf8)), "CBF43926")
        XCTAssertEqual(GrpcMessageConverter.crc32Hex([]), "00000000")
        XCTAssertEqual(GrpcMessageConverter.crc32Hex(Array("a".utf8)), "E8B7BE43")
    }

    func testPeerTextBecomesBornHost() {
        XCTAssertEqual(GrpcPeer.messageHost("ipv4:10.1.2.3:5000").description, "10.1.2.3:5000")
        XCTAssertEqual(GrpcPeer.messageHost("ipv6:[::1]:6000").description, "127.0.0.1:6000")
        XCTAssertEqual(GrpcPeer.messageHost("unix:/tmp/x").description, "127.0.0.1:0")
    }

    func testSentSystemPropertiesBecomeRocketMQProperties() {
        var m = Apache_Rocketmq_V2_Message()
        m.topic.name = "T"
        m.userProperties = ["b": "2", "a": "1"]
        m.systemProperties.tag = "TagA"
        m.systemProperties.keys = ["k1", "k2"]
        m.systemProperties.messageID = "ID1"
        m.systemProperties.messageGroup = "g"
        let text = GrpcMessageConverter.properties(of: m, delayLevel: 3, deliverAtMs: 1234)
        let p = MessageProperties.decode(text)
        XCTAssertEqual(p, ["a": "1", "b": "2", "TAGS": "TagA", "KEYS": "k1 k2", "UNIQ_KEY": "ID1", "__SHARDINGKEY": "g",
                           "DELAY": "3", "TIMER_DELIVER_MS": "1234"])
    }

    func testSettingsAnswerKeepsTheClientsAndAddsTheBrokersLimits() {
        var asked = Apache_Rocketmq_V2_Settings()
        asked.clientType = .producer
        var pub = Apache_Rocketmq_V2_Publishing()
        var t = Apache_Rocketmq_V2_Resource()
        t.name = "T"
        pub.topics = [t]
        asked.publishing = pub
        let answer = GrpcClientSettings.answer(to: asked, maxBodySize: 4096)
        XCTAssertEqual(answer.clientType, .producer)
        XCTAssertEqual(answer.publishing.topics.map(\.name), ["T"])
        XCTAssertEqual(answer.publishing.maxBodySize, 4096)
        XCTAssertEqual(answer.backoffPolicy.maxAttempts, GrpcClientSettings.producerMaxAttempts)
        guard case .exponentialBackoff? = answer.backoffPolicy.strategy else { return XCTFail("no exponential backoff") }

        var sub = Apache_Rocketmq_V2_Settings()
        sub.clientType = .simpleConsumer
        sub.subscription = Apache_Rocketmq_V2_Subscription()
        let subAnswer = GrpcClientSettings.answer(to: sub, maxBodySize: 4096)
        XCTAssertEqual(subAnswer.subscription.receiveBatchSize, 32)
        XCTAssertEqual(subAnswer.backoffPolicy.maxAttempts, GrpcClientSettings.consumerMaxAttempts)
    }
}
