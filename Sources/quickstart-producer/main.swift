// quickstart-producer: RocketMQ's quickstart Producer — 1000 messages "Hello RocketMQ <i>" tagged TagA to
// TopicTest, printing each SendResult. Name server from NAMESRV_ADDR (default 127.0.0.1:9876).

import Client
import Foundation

let producer = Producer(group: "please_rename_unique_group_name",
                        config: ClientConfig(namesrvAddr: ProcessInfo.processInfo.environment["NAMESRV_ADDR"] ?? "127.0.0.1:9876"))
do { try await producer.start() } catch {
    print("start failed: \(error)")
    exit(1)
}
for i in 0..<1000 {
    do {
        let r = try await producer.send(Message(topic: "TopicTest", body: "Hello RocketMQ \(i)", tags: "TagA"), timeoutMs: 20_000)
        print(r)
    } catch {
        print(error)
        try? await Task.sleep(for: .seconds(1))
    }
}
await producer.shutdown()
