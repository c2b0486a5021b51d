// GrpcClientSettings: the Settings a 5.x client receives on its telemetry stream, in answer to the
// Settings it opened the stream with (the proxy's settings sync). A client's start waits for this answer.
// Producers get the publishing limits and a retry policy; consumers their subscription back with the batch
// size and long-polling time the broker allows.

import GrpcAPI
import SwiftProtobuf

enum GrpcClientSettings {
    /// Send attempts of a producer (the proxy's default retry policy: 3 attempts, backoff 10 ms to 1 s).
    static let producerMaxAttempts: Int32 = 3
    /// Deliveries of a consumer's message before it goes to the dead-letter queue (RocketMQ's 16 retries + 1).
    static let consumerMaxAttempts: Int32 = 17

    /// `fifo`: the consumer's group is orderly (the client then consumes a message group in order).
    static func answer(to asked: Apache_Rocketmq_V2_Settings, maxBodySize: Int32, fifo: Bool = false) -> Apache_Rocketmq_V2_Settings {
        var s = asked
        var backoff = Apache_Rocketmq_V2_RetryPolicy()
        var exponential = Apache_Rocketmq_V2_ExponentialBackoff()
        exponential.initial = Google_Protobuf_Duration(seconds: 0, nanos: 10_000_000)
        exponential.max = Google_Protobuf_Duration(seconds: 1, nanos: 0)
        exponential.multiplier = 2
        switch asked.pubSub {
        case .publishing(var p)?:
            p.maxBodySize = maxBodySize
            // The broker does not keep a message type per topic: every queue takes every type.
            p.validateMessageType = false
            s.publishing = p
            backoff.maxAttempts = producerMaxAttempts
            backoff.exponentialBackoff = exponential
        case .subscription(var sub)?:
            if !sub.hasReceiveBatchSize { sub.receiveBatchSize = 32 }
            sub.fifo = fifo
            if !sub.hasLongPollingTimeout { sub.longPollingTimeout = Google_Protobuf_Duration(seconds: 20, nanos: 0) }
            s.subscription = sub
            backoff.maxAttempts = consumerMaxAttempts
            var custom = Apache_Rocketmq_V2_CustomizedBackoff()
            custom.next = [1, 5, 10, 30, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600, 1200, 1800, 3600, 7200]
                .map { Google_Protobuf_Duration(seconds: $0, nanos: 0) }
            backoff.customizedBackoff = custom
        case nil:
            backoff.maxAttempts = producerMaxAttempts
            backoff.exponentialBackoff = exponential
        }
        s.backoffPolicy = backoff
        var metric = Apache_Rocketmq_V2_Metric()
        metric.on = false
        s.metric = metric
        return s
    }
}
