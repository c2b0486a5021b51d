// quickstart-consumer: RocketMQ's quickstart Consumer — subscribes TopicTest "*" from the first offset and
// prints `ConsumeMessageThread_<group>_<n> Receive New Messages: [MessageExt ...]` per delivery. SIGINT or
// SIGTERM shut it down in order (running deliveries finish, offsets persisted, client unregistered from the
// brokers), then it exits 0. Lines are flushed one by one, also into a pipe.

import Client
import ServerSupport
import Foundation

let stop = StopSignals()

var options = PushConsumerOptions()
options.consumeFromWhere = .firstOffset
// Deliveries already printed get their offsets committed before the final persist.
options.awaitTerminationMillisWhenShutdown = 5_000
let consumer = PushConsumer(group: "please_rename_unique_group_name_4",
                            config: ClientConfig(namesrvAddr: ProcessInfo.processInfo.environment["NAMESRV_ADDR"] ?? "127.0.0.1:9876"),
                            options: options)
do {
    try consumer.subscribe("TopicTest", "*")
    consumer.registerMessageListener { msgs, context in
        LineOutput.print("\(context.threadName) Receive New Messages: [\(msgs.map(\.description).joined(separator: ", "))] ")
        return .consumeSuccess
    }
    try await consumer.start()
} catch {
    LineOutput.print("start failed: \(error)")
    exit(1)
}
LineOutput.print("Consumer Started.")
let sig = await stop.first()
LineOutput.print("Consumer shutting down (signal \(sig)).")
await consumer.shutdown()
LineOutput.print("Consumer shut down.")
exit(0)
