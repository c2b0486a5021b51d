// TopicPublishInfo: the writable queues of a topic built from its route (client.md §6.3) and the
// round-robin queue choice; MQFaultStrategy: latency fault tolerance (client.md §6.4).
// Immutable route snapshot plus an atomic index / a Mutex table; any task.

import Foundation
import Remoting
import Synchronization

final class TopicPublishInfo: Sendable {
    let orderTopic: Bool
    let messageQueueList: [MessageQueue]
    let route: TopicRouteData
    private let sendWhichQueue = Atomic<Int>(Int.random(in: 0..<Int(Int32.max)))

    init(topic: String, route: TopicRouteData) {
        self.route = route
        var list: [MessageQueue] = []
        if let conf = route.orderTopicConf, !conf.isEmpty {
            for entry in conf.split(separator: ";") {
                let kv = entry.split(separator: ":")
                if kv.count == 2, let n = Int32(kv[1]) {
                    for q in 0..<n { list.append(MessageQueue(topic: topic, brokerName: String(kv[0]), queueId: q)) }
                }
            }
            orderTopic = true
        } else {
            for qd in route.queueDatas.sorted(by: { $0.brokerName < $1.brokerName }) where PermName.isWriteable(qd.perm) {
                guard route.brokerDatas.first(where: { $0.brokerName == qd.brokerName })?.masterAddr != nil else { continue }
                for q in 0..<qd.writeQueueNums {
                    list.append(MessageQueue(topic: topic, brokerName: qd.brokerName, queueId: q))
                }
            }
            orderTopic = false
        }
        messageQueueList = list
    }

    var ok: Bool { !messageQueueList.isEmpty }

    private func nextIndex() -> Int {
        sendWhichQueue.wrappingAdd(1, ordering: .relaxed).newValue & 0x7FFF_FFFF
    }

    func resetIndex() { sendWhichQueue.store(Int.random(in: 0..<Int(Int32.max)), ordering: .relaxed) }

    /// Round-robin, avoiding `lastBrokerName` and (when given) brokers the filter rejects.
    func selectOneMessageQueue(lastBrokerName: String?, available: ((String) -> Bool)? = nil) -> MessageQueue? {
        let n = messageQueueList.count
        guard n > 0 else { return nil }
        if lastBrokerName != nil || available != nil {
            for _ in 0..<n {
                let mq = messageQueueList[nextIndex() % n]
                if mq.brokerName != lastBrokerName && (available?(mq.brokerName) ?? true) { return mq }
            }
        }
        return messageQueueList[nextIndex() % n]
    }
}

/// Per-broker isolation windows recorded after each send attempt.
final class MQFaultStrategy: Sendable {
    static let latencyMax: [Int64] = [50, 100, 550, 1_800, 3_000, 5_000, 15_000]
    static let notAvailableDuration: [Int64] = [0, 0, 2_000, 5_000, 6_000, 10_000, 30_000]

    struct Item { var latency: Int64; var startTimestamp: Int64; var reachable: Bool }
    let enabled: Bool
    private let table = Mutex<[String: Item]>([:])

    init(enabled: Bool) { self.enabled = enabled }

    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    func isAvailable(_ broker: String) -> Bool {
        table.withLock { t in t[broker].map { Self.nowMs() >= $0.startTimestamp } ?? true }
    }

    func isReachable(_ broker: String) -> Bool { table.withLock { $0[broker]?.reachable ?? true } }

    func updateFaultItem(_ broker: String, latency: Int64, isolation: Bool, reachable: Bool) {
        guard enabled else { return }
        let lat = isolation ? 10_000 : latency
        var duration: Int64 = 0
        for i in stride(from: Self.latencyMax.count - 1, through: 0, by: -1) where lat >= Self.latencyMax[i] {
            duration = Self.notAvailableDuration[i]
            break
        }
        let until = Self.nowMs() + duration
        table.withLock { t in
            var item = t[broker] ?? Item(latency: lat, startTimestamp: until, reachable: reachable)
            item.latency = lat
            item.startTimestamp = max(item.startTimestamp, until)
            item.reachable = reachable
            t[broker] = item
        }
    }

    func selectOneMessageQueue(_ info: TopicPublishInfo, lastBrokerName: String?) -> MessageQueue? {
        guard enabled else { return info.selectOneMessageQueue(lastBrokerName: lastBrokerName) }
        if lastBrokerName != nil { info.resetIndex() }
        if let mq = info.selectOneMessageQueue(lastBrokerName: lastBrokerName, available: { self.isAvailable($0) }),
           isAvailable(mq.brokerName), mq.brokerName != lastBrokerName
        {
            return mq
        }
        if let mq = info.selectOneMessageQueue(lastBrokerName: lastBrokerName, available: { self.isReachable($0) }),
           isReachable(mq.brokerName), mq.brokerName != lastBrokerName
        {
            return mq
        }
        return info.selectOneMessageQueue(lastBrokerName: nil)
    }
}
