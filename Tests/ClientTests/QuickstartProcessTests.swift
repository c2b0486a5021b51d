// QuickstartProcessTests: quickstart-producer and quickstart-consumer as real processes with stdout piped
// to the test. Each line must reach the pipe when it is printed (not when a 4 KiB buffer fills or the
// process ends), and SIGTERM must end each in order with exit status 0: the producer after the send under
// way, the consumer with the offsets of everything it printed committed on the broker.

import ApusTestSupport
import Client
import Foundation
import Logging
import NIOPosix
import Remoting
import XCTest

final class QuickstartProcessTests: XCTestCase {
    static let consumerGroup = "please_rename_unique_group_name_4"

    func lines(_ p: ChildProcess, containing text: String) -> Int {
        p.output.value.split(separator: "\n").filter { $0.contains(text) }.count
    }

    func testQuickstartsPrintLineByLineIntoAPipeAndStopCleanlyOnSIGTERM() async throws {
        let cluster = try await Cluster.started()
        let remoting = RemotingClient(group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "quickstart-test"))
        // A teardown block, not `defer { Task { … } }`: such a task may never run before the runner exits, and
        // the broker it should stop then outlives the test (it did, with its 530 MB store).
        addTeardownBlock {
            await remoting.shutdown()
            await cluster.stopAll()
        }
        try await cluster.createTopic("TopicTest", queues: 4)
        let env = ["NAMESRV_ADDR": cluster.namesrvAddr]

        // The producer: its first SendResult shows up while it still runs; SIGTERM then stops it early.
        let producer = ChildProcess(binary: try findBinary("quickstart-producer", env: "APUS_QUICKSTART_PRODUCER"),
                                    arguments: [], environment: env)
        try await producer.start { $0.contains("SendResult [") ? true : nil }
        try await waitUntil("20 SendResults printed") { lines(producer, containing: "SendResult [") >= 20 }
        let producerStatus = await producer.stop()
        XCTAssertEqual(producerStatus, 0, producer.output.value.suffix(2000).description)
        let sent = lines(producer, containing: "sendStatus=SEND_OK")
        XCTAssertLessThan(sent, 1000, "SIGTERM did not stop the producer early")
        // Every send that completed was printed, and nothing else was sent (queue offsets follow the sends
        // once dispatch has caught up, which is asynchronous).
        func stored() async throws -> Int {
            var total: Int64 = 0
            for q in Int32(0)..<4 {
                let r = try await remoting.invokeSync(cluster.brokerAddr, .request(.getMaxOffset, header: TopicQueueRequestHeader(topic: "TopicTest", queueId: q)))
                total += try r.decodeHeader(OffsetResponseHeader.self).offset
            }
            return Int(total)
        }
        try await waitUntil("\(sent) messages dispatched") { ((try? await stored()) ?? 0) >= sent }
        let storedCount = try await stored()
        XCTAssertEqual(storedCount, sent)

        // The consumer: "Consumer Started." is a short line; block-buffered it would stay in the process.
        let consumer = ChildProcess(binary: try findBinary("quickstart-consumer", env: "APUS_QUICKSTART_CONSUMER"),
                                    arguments: [], environment: env)
        try await consumer.start { $0.contains("Consumer Started.") ? true : nil }
        try await waitUntil("every message printed by the consumer") {
            lines(consumer, containing: "Receive New Messages: [MessageExt") >= sent
        }
        // SIGTERM at once: the periodic offset persist (5 s) has not run, so committed offsets come from shutdown.
        let consumerStatus = await consumer.stop()
        XCTAssertEqual(consumerStatus, 0, consumer.output.value.suffix(2000).description)
        XCTAssertTrue(consumer.output.value.contains("Consumer shut down."), consumer.output.value.suffix(2000).description)
        let consumed = lines(consumer, containing: "Receive New Messages: [MessageExt")
        XCTAssertEqual(consumed, sent)
        var committed: Int64 = 0
        for q in Int32(0)..<4 {
            let h = QueryConsumerOffsetRequestHeader(consumerGroup: Self.consumerGroup, topic: "TopicTest", queueId: q)
            let r = try await remoting.invokeSync(cluster.brokerAddr, .request(.queryConsumerOffset, header: h))
            if r.responseCode == .success { committed += try r.decodeHeader(OffsetResponseHeader.self).offset }
        }
        XCTAssertEqual(Int(committed), consumed, "the broker's committed offsets differ from what the consumer printed")
        // Unregistered (and disconnected): the group has no consumer left on the broker.
        let online = try await remoting.invokeSync(cluster.brokerAddr, .request(.getConsumerConnectionList,
                                                   header: ConsumerGroupRequestHeader(consumerGroup: Self.consumerGroup)))
        XCTAssertEqual(online.responseCode, .consumerNotOnline)
    }
}
