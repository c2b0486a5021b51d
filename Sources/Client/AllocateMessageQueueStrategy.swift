// Allocation strategies of the clustering rebalance (client.md §8.6): averagely, by circle, consistent
// hash (MD5 ring, 10 virtual nodes per consumer). Pure functions over sorted lists; any task.

import Foundation
import Remoting

public protocol AllocateMessageQueueStrategy: Sendable {
    var name: String { get }
    /// Queues of `mqAll` for `currentCID`; both lists sorted. Empty when `currentCID` is not in `cidAll`.
    func allocate(group: String, currentCID: String, mqAll: [MessageQueue], cidAll: [String]) -> [MessageQueue]
}

public struct AllocateMessageQueueAveragely: AllocateMessageQueueStrategy {
    public init() {}
    public var name: String { "AVG" }
    public func allocate(group: String, currentCID: String, mqAll: [MessageQueue], cidAll: [String]) -> [MessageQueue] {
        guard let index = cidAll.firstIndex(of: currentCID), !mqAll.isEmpty else { return [] }
        let n = mqAll.count, c = cidAll.count, mod = n % c
        let size = n <= c ? 1 : (mod > 0 && index < mod ? n / c + 1 : n / c)
        let start = mod > 0 && index < mod ? index * size : index * size + mod
        let range = min(size, n - start)
        guard range > 0 else { return [] }
        return (0..<range).map { mqAll[(start + $0) % n] }
    }
}

public struct AllocateMessageQueueAveragelyByCircle: AllocateMessageQueueStrategy {
    public init() {}
    public var name: String { "AVG_BY_CIRCLE" }
    public func allocate(group: String, currentCID: String, mqAll: [MessageQueue], cidAll: [String]) -> [MessageQueue] {
        guard let index = cidAll.firstIndex(of: currentCID) else { return [] }
        return stride(from: index, to: mqAll.count, by: cidAll.count).map { mqAll[$0] }
    }
}

public struct AllocateMessageQueueConsistentHash: AllocateMessageQueueStrategy {
    public let virtualNodeCount: Int
    public init(virtualNodeCount: Int = 10) { self.virtualNodeCount = virtualNodeCount }
    public var name: String { "CONSISTENT_HASH" }

    static func hash(_ key: String) -> UInt32 {
        let d = MD5.digest(Array(key.utf8))
        return UInt32(d[0]) << 24 | UInt32(d[1]) << 16 | UInt32(d[2]) << 8 | UInt32(d[3])
    }

    public func allocate(group: String, currentCID: String, mqAll: [MessageQueue], cidAll: [String]) -> [MessageQueue] {
        guard cidAll.contains(currentCID) else { return [] }
        var ring: [UInt32: String] = [:]
        for cid in cidAll { for r in 0..<virtualNodeCount { ring[Self.hash("\(cid)-\(r)")] = cid } }
        let positions = ring.keys.sorted()
        guard let smallest = positions.first else { return [] }
        return mqAll.filter { mq in
            let h = Self.hash(mq.description)
            var lo = 0, hi = positions.count
            while lo < hi { let mid = (lo + hi) / 2; if positions[mid] < h { lo = mid + 1 } else { hi = mid } }
            let owner = ring[lo < positions.count ? positions[lo] : smallest]
            return owner == currentCID
        }
    }
}

/// RFC 1321 MD5, enough for ring positions.
enum MD5 {
    private static let s: [UInt32] = [7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                                      5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
                                      4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                                      6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21]
    private static let k: [UInt32] = (0..<64).map { i in
        UInt32(truncatingIfNeeded: Int64(abs(sin(Double(i + 1))) * 4_294_967_296.0))
    }

    static func digest(_ input: [UInt8]) -> [UInt8] {
        var msg = input
        let bitLen = UInt64(input.count) &* 8
        msg.append(0x80)
        while msg.count % 64 != 56 { msg.append(0) }
        for i in 0..<8 { msg.append(UInt8((bitLen >> (8 * UInt64(i))) & 0xFF)) }
        var a0: UInt32 = 0x6745_2301, b0: UInt32 = 0xEFCD_AB89, c0: UInt32 = 0x98BA_DCFE, d0: UInt32 = 0x1032_5476
        for chunk in stride(from: 0, to: msg.count, by: 64) {
            var m = [UInt32](repeating: 0, count: 16)
            for i in 0..<16 {
                let b = chunk + i * 4
                m[i] = UInt32(msg[b]) | UInt32(msg[b + 1]) << 8 | UInt32(msg[b + 2]) << 16 | UInt32(msg[b + 3]) << 24
            }
            var a = a0, b = b0, c = c0, d = d0
            for i in 0..<64 {
                var f: UInt32
                let g: Int
                switch i {
                case 0..<16: f = (b & c) | (~b & d); g = i
                case 16..<32: f = (d & b) | (~d & c); g = (5 * i + 1) % 16
                case 32..<48: f = b ^ c ^ d; g = (3 * i + 5) % 16
                default: f = c ^ (b | ~d); g = (7 * i) % 16
                }
                f = f &+ a &+ k[i] &+ m[g]
                a = d; d = c; c = b
                b = b &+ ((f << s[i]) | (f >> (32 - s[i])))
            }
            a0 = a0 &+ a; b0 = b0 &+ b; c0 = c0 &+ c; d0 = d0 &+ d
        }
        var out: [UInt8] = []
        for v in [a0, b0, c0, d0] { for i in 0..<4 { out.append(UInt8((v >> (8 * UInt32(i))) & 0xFF)) } }
        return out
    }
}
