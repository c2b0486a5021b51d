// MessageClientIDSetter: the client unique id (UNIQ_KEY) — uppercase hex of IP, pid, a per-process
// random value, milliseconds since the start of the month and a counter (client.md §5.5).
// Process-wide state behind a Mutex; called by producers on any task.

import Foundation
import Synchronization

enum MessageClientIDSetter {
    private struct State {
        var counter: UInt16
        var monthStartMs: Int64
        var nextMonthStartMs: Int64
    }

    private static let state = Mutex<State>(State(
        counter: 0, monthStartMs: 0, nextMonthStartMs: 0))

    private static func makePrefix() -> [UInt8] {
        var p: [UInt8] = ClientConfig.localIPv4Bytes()
        let pid = UInt16(truncatingIfNeeded: getpid())
        p += [UInt8(pid >> 8), UInt8(pid & 0xFF)]
        let r = UInt32.random(in: 0...UInt32.max)
        p += [UInt8(r >> 24), UInt8((r >> 16) & 0xFF), UInt8((r >> 8) & 0xFF), UInt8(r & 0xFF)]
        return p
    }

    private static func monthBounds(now: Date) -> (Int64, Int64) {
        let cal = Calendar.current
        let comps = cal.dateComponents([.year, .month], from: now)
        let start = cal.date(from: comps) ?? now
        let next = cal.date(byAdding: .month, value: 1, to: start) ?? now.addingTimeInterval(86400 * 28)
        return (Int64(start.timeIntervalSince1970 * 1000), Int64(next.timeIntervalSince1970 * 1000))
    }

    private static let hex: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// IP, pid and the random value in hex: the first 20 characters of every id.
    private static let prefixHex: [UInt8] = makePrefix().flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 0xF)]] }

    /// A fresh id. Written straight into the string's storage: one per send.
    static func createUniqID() -> String {
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
        let (delta, counter) = state.withLock { s -> (UInt32, UInt16) in
            if nowMs >= s.nextMonthStartMs {
                (s.monthStartMs, s.nextMonthStartMs) = monthBounds(now: Date())
            }
            let c = s.counter
            s.counter &+= 1
            return (UInt32(bitPattern: Int32(truncatingIfNeeded: max(0, nowMs - s.monthStartMs))), c)
        }
        return String(unsafeUninitializedCapacity: prefixHex.count + 12) { out in
            var i = 0
            for b in prefixHex { out[i] = b; i += 1 }
            for shift in stride(from: 28, through: 0, by: -4) { out[i] = hex[Int((delta >> UInt32(shift)) & 0xF)]; i += 1 }
            for shift in stride(from: 12, through: 0, by: -4) { out[i] = hex[Int((counter >> UInt16(shift)) & 0xF)]; i += 1 }
            return i
        }
    }

    /// Sets UNIQ_KEY if absent.
    static func setUniqID(_ message: inout Message) {
        if message.properties[MessageConst.uniqueClientMessageIdKeyIndex] == nil {
            message.properties[MessageConst.uniqueClientMessageIdKeyIndex] = createUniqID()
        }
    }
}
