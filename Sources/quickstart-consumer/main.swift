// quickstart-consumer: RocketMQ's quickstart Consumer — subscribes TopicTest "*" from the first offset and
// prints `ConsumeMessageThread_<group>_<n> Receive New Messages: [MessageExt ...]` per delivery until killed.

import Client
import Foundation

var options = PushConsumerOptions()
options.consumeFromWhere = .firstOffset
let consumer = PushConsumer(group: "please_rename_unique_group_name_4",
                            config: ClientConfig(namesrvAddr: ProcessInfo.processInfo.environment["NAMESRV_ADDR"] ?? "127.0.0.1:9876"),
                            options: options)
do {
    try consumer.subscribe("TopicTest", "*")
    consumer.registerMessageListener { msgs, context in
        print("\(context.threadName) Receive New Messages: [\(msgs.map(\.description).joined(separator: ", "))] ")
        return .consumeSuccess
    }
    try await consumer.start()
} catch {
    print("start failed: \(error)")
    exit(1)
}
print("Consumer Started.")
while true { try? await Task.sleep(for: .seconds(3600)) }
