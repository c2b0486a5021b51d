// QuickStart: a minimal producer and consumer over the remoting protocol for trying `make run` without a
// RocketMQ client: `produce` sends messages (auto-creating the topic from TBW102), `consume` pulls every
// queue from the committed offset (or 0), prints the messages and commits the offsets.

import Common
import Foundation
import Logging
import NIOCore
import NIOPosix
import Remoting

enum QuickStart {
    static func produce(group: any EventLoopGroup, address: String, topic: String, count: Int) async throws {
        let client = RemotingClient(group: group, logger: Logger(label: "producer"))
        for i in 0..<count {
            let text = "Hello Apus \(i)"
            var r = RemotingCommand.request(.sendMessageV2, body: ByteBuffer(string: text))
            r.extFields = SendMessageRequestHeader(
                producerGroup: "QuickStartProducer", topic: topic, queueId: -1,
                bornTimestamp: Int64(Date().timeIntervalSince1970 * 1000),
                properties: "WAIT\u{1}true\u{2}TAGS\u{1}TagA\u{2}").toV2ExtFields()
            let resp = try await client.invokeSync(address, r)
            let h = try? resp.decodeHeader() as SendMessageResponseHeader
            print("SendResult [code=\(resp.code)\(resp.remark.map { " \($0)" } ?? ""), msgId=\(h?.transactionId ?? "-"), offsetMsgId=\(h?.msgId ?? "-"), queueId=\(h?.queueId.map { String($0) } ?? "-"), queueOffset=\(h?.queueOffset.map { String($0) } ?? "-")] \(text)")
        }
        await client.shutdown()
    }

    static func consume(group: any EventLoopGroup, address: String, topic: String, consumerGroup: String) async throws {
        let client = RemotingClient(group: group, logger: Logger(label: "consumer"))
        let routeless = 16
        var total = 0
        for q in Int32(0)..<Int32(routeless) {
            let query = try await client.invokeSync(address, .request(.queryConsumerOffset, header: QueryConsumerOffsetRequestHeader(
                consumerGroup: consumerGroup, topic: topic, queueId: q, setZeroIfNotFound: false)))
            var next = (try? query.decodeHeader() as OffsetResponseHeader)?.offset ?? 0
            var invalidQueue = false
            while true {
                let h = PullMessageRequestHeader(consumerGroup: consumerGroup, topic: topic, queueId: q, queueOffset: next,
                                                 maxMsgNums: 32, sysFlag: 4, subscription: "*")
                let r = try await client.invokeSync(address, .request(.pullMessage, header: h))
                if r.responseCode == .invalidParameter || r.responseCode == .topicNotExist { invalidQueue = true; break }
                guard r.responseCode == .success, let rh = try? r.decodeHeader() as PullMessageResponseHeader else { break }
                for body in bodies(r.bodyBytes) { print("queue \(q): \(String(decoding: body, as: UTF8.self))"); total += 1 }
                next = rh.nextBeginOffset
            }
            if invalidQueue { break }
            _ = try await client.invokeSync(address, .request(.updateConsumerOffset, header: UpdateConsumerOffsetRequestHeader(
                consumerGroup: consumerGroup, topic: topic, queueId: q, commitOffset: next)))
        }
        print("consumed \(total) messages from \(topic) as \(consumerGroup)")
        await client.shutdown()
    }

    /// Bodies of concatenated stored records, read with Common's decoder (a bad record ends the list).
    static func bodies(_ b: [UInt8]) -> [[UInt8]] { MessageDecoder.decodeAll(b).map(\.body) }
}
