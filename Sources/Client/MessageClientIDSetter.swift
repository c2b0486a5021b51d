// MessageClientIDSetter: the client unique id (UNIQ_KEY) — uppercase hex of IP, pid, a per-process
// random value, milliseconds since the start of the month and a counter (client.md §5.5).
// Process-wide state behind a Mutex; called by producers on any task.

import Foundation
import Synchronization

enum MessageClientIDSetter {
    private struct State {
        var prefix: [UInt8]
        var counter: UInt16
        var monthStartMs: Int64
        var nextMonthStartMs: Int64
    }

    private static let state = Mutex<State>(State(
        prefix: makePrefix(), counter: 0, monthStartMs: 0, nextMonthStartMs: 0))

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

    /// A fresh id.
    static func createUniqID() -> String {
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
        var bytes: [UInt8] = state.withLock { s in
            if nowMs >= s.nextMonthStartMs {
                (s.monthStartMs, s.nextMonthStartMs) = monthBounds(now: Date())
            }
            var b = s.prefix
            let delta = Int32(truncatingIfNeeded: max(0, nowMs - s.monthStartMs))
            let d = UInt32(bitPattern: delta)
            b += [UInt8(d >> 24), UInt8((d >> 16) & 0xFF), UInt8((d >> 8) & 0xFF), UInt8(d & 0xFF)]
            let c = s.counter
            s.counter &+= 1
            b += [UInt8(c >> 8), UInt8(c & 0xFF)]
            return b
        }
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 0xF)]) }
        bytes.removeAll()
        return String(decoding: out, as: UTF8.self)
    }

    /// Sets UNIQ_KEY if absent.
    static func setUniqID(_ message: inout Message) {
        if message.properties[MessageConst.uniqueClientMessageIdKeyIndex] == nil {
            message.properties[MessageConst.uniqueClientMessageIdKeyIndex] = createUniqID()
        }
    }
}
