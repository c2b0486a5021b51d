// Offset stores (client.md §8.4): RemoteBrokerOffsetStore keeps clustering offsets at the broker
// (QUERY/UPDATE_CONSUMER_OFFSET); LocalFileOffsetStore keeps broadcasting offsets in
// <dir>/<clientId>/<group>/offsets.json (fastjson object-keyed map, `.bak` copy). Memory tables behind
// Mutexes; persisted by the instance's 5 s task and at shutdown; any task.

import Foundation
import Remoting
import Synchronization

enum ReadOffsetType { case memory, store, memoryThenStore }

protocol OffsetStore: Sendable {
    func load() throws(MQClientError)
    /// Sets the in-memory offset; with `increaseOnly` a smaller value is ignored.
    func updateOffset(_ mq: MessageQueue, _ offset: Int64, increaseOnly: Bool)
    /// -1 when there is none; -2 when the store could not be asked.
    func readOffset(_ mq: MessageQueue, _ type: ReadOffsetType) async -> Int64
    func persistAll(_ mqs: Set<MessageQueue>) async
    func persist(_ mq: MessageQueue) async
    func removeOffset(_ mq: MessageQueue)
    /// The in-memory offsets of `topic` (Java's cloneOffsetTable; GET_CONSUMER_STATUS_FROM_CLIENT).
    func offsetTable(topic: String) -> [MessageQueue: Int64]
}

final class RemoteBrokerOffsetStore: OffsetStore {
    let instance: MQClientInstance
    let group: String
    private let table = Mutex<[MessageQueue: Int64]>([:])

    init(instance: MQClientInstance, group: String) {
        self.instance = instance
        self.group = group
    }

    func load() {}

    func updateOffset(_ mq: MessageQueue, _ offset: Int64, increaseOnly: Bool) {
        table.withLock { t in
            if let old = t[mq], increaseOnly, old >= offset { return }
            t[mq] = offset
        }
    }

    func readOffset(_ mq: MessageQueue, _ type: ReadOffsetType) async -> Int64 {
        if type != .store, let v = table.withLock({ $0[mq] }) { return v }
        if type == .memory { return -1 }
        do {
            let addr = try await instance.brokerAddressForOffsets(mq.brokerName, topic: mq.topic)
            guard let v = try await instance.api.queryConsumerOffset(addr, group: group, mq: mq) else { return -1 }
            updateOffset(mq, v, increaseOnly: false)
            return v
        } catch {
            return -2
        }
    }

    func persistAll(_ mqs: Set<MessageQueue>) async {
        let snapshot = table.withLock { t in
            for k in t.keys where !mqs.contains(k) { t[k] = nil }
            return t
        }
        for (mq, off) in snapshot { await persistOne(mq, off) }
    }

    func persist(_ mq: MessageQueue) async {
        if let off = table.withLock({ $0[mq] }) { await persistOne(mq, off) }
    }

    private func persistOne(_ mq: MessageQueue, _ off: Int64) async {
        // The master, or while it is gone a slave (Java's findBrokerAddressInSubscribe(master, false)).
        guard let addr = instance.findBrokerAddressInSubscribe(mq.brokerName, brokerId: 0) else { return }
        try? await instance.api.updateConsumerOffset(addr, group: group, mq: mq, offset: off)
    }

    func removeOffset(_ mq: MessageQueue) { table.withLock { _ = $0.removeValue(forKey: mq) } }

    func offsetTable(topic: String) -> [MessageQueue: Int64] { table.withLock { $0.filter { $0.key.topic == topic } } }
}

final class LocalFileOffsetStore: OffsetStore {
    let path: URL
    private let table = Mutex<[MessageQueue: Int64]>([:])

    init(directory: String, clientID: String, group: String) {
        path = URL(fileURLWithPath: directory).appendingPathComponent(clientID).appendingPathComponent(group)
            .appendingPathComponent("offsets.json")
    }

    static func parse(_ text: String) -> [MessageQueue: Int64]? {
        guard let json = try? JSONValue.parse(text), let table = json["offsetTable"]?.objectValue else { return nil }
        var out: [MessageQueue: Int64] = [:]
        for (k, v) in table.members {
            guard case .object(let keyObject) = k, let mq = try? MessageQueue(json: keyObject), let off = v.int64Value
            else { continue }
            out[mq] = off
        }
        return out
    }

    func load() throws(MQClientError) {
        for candidate in [path, path.appendingPathExtension("bak")] {
            if let text = try? String(contentsOf: candidate, encoding: .utf8), !text.isEmpty, let t = Self.parse(text) {
                table.withLock { $0 = t }
                return
            }
        }
    }

    func updateOffset(_ mq: MessageQueue, _ offset: Int64, increaseOnly: Bool) {
        table.withLock { t in
            if let old = t[mq], increaseOnly, old >= offset { return }
            t[mq] = offset
        }
    }

    func readOffset(_ mq: MessageQueue, _ type: ReadOffsetType) async -> Int64 {
        if type != .store, let v = table.withLock({ $0[mq] }) { return v }
        if type == .memory { return -1 }
        if let text = try? String(contentsOf: path, encoding: .utf8), let t = Self.parse(text), let v = t[mq] {
            updateOffset(mq, v, increaseOnly: false)
            return v
        }
        return -1
    }

    /// fastjson's pretty form with object keys.
    static func render(_ t: [MessageQueue: Int64]) -> String {
        var lines: [String] = []
        for (mq, off) in t.sorted(by: { $0.key < $1.key }) {
            let key = "{\"brokerName\":\"\(mq.brokerName)\",\"queueId\":\(mq.queueId),\"topic\":\"\(mq.topic)\"}"
            lines.append("\t\t\(key):\(off)")
        }
        return "{\n\t\"offsetTable\":{\n" + lines.joined(separator: ",\n") + "\n\t}\n}"
    }

    func persistAll(_ mqs: Set<MessageQueue>) async {
        var merged = (try? String(contentsOf: path, encoding: .utf8)).flatMap(Self.parse) ?? [:]
        let mem = table.withLock { $0 }
        for (mq, off) in mem where mqs.contains(mq) { merged[mq] = off }
        let fm = FileManager.default
        try? fm.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
        let bak = path.appendingPathExtension("bak")
        if fm.fileExists(atPath: path.path) {
            try? fm.removeItem(at: bak)
            try? fm.copyItem(at: path, to: bak)
        }
        try? Self.render(merged).write(to: path, atomically: true, encoding: .utf8)
    }

    func persist(_ mq: MessageQueue) async { await persistAll([mq]) }

    func removeOffset(_ mq: MessageQueue) { table.withLock { _ = $0.removeValue(forKey: mq) } }

    func offsetTable(topic: String) -> [MessageQueue: Int64] { table.withLock { $0.filter { $0.key.topic == topic } } }
}
