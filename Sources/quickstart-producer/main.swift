// quickstart-producer: RocketMQ's quickstart Producer — 1000 messages "Hello RocketMQ <i>" tagged TagA to
// TopicTest, printing each SendResult. Name server from NAMESRV_ADDR (default 127.0.0.1:9876). SIGINT or
// SIGTERM stop it after the send under way, shut the producer down and exit 0. Lines are flushed one by
// one, also into a pipe.

import Client
import ServerSupport
import Foundation
import Synchronization

let stop = StopSignals()
let stopRequested = Atomic<Bool>(false)
let watcher = Task {
    _ = await stop.first()
    stopRequested.store(true, ordering: .relaxed)
}

let producer = Producer(group: "please_rename_unique_group_name",
                        config: ClientConfig(namesrvAddr: ProcessInfo.processInfo.environment["NAMESRV_ADDR"] ?? "127.0.0.1:9876"))
do { try await producer.start() } catch {
    LineOutput.print("start failed: \(error)")
    exit(1)
}
for i in 0..<1000 where !stopRequested.load(ordering: .relaxed) {
    do {
        let r = try await producer.send(Message(topic: "TopicTest", body: "Hello RocketMQ \(i)", tags: "TagA"), timeoutMs: 20_000)
        LineOutput.print(r.description)
    } catch {
        LineOutput.print("\(error)")
        try? await Task.sleep(for: .seconds(1))
    }
}
await producer.shutdown()
watcher.cancel()
