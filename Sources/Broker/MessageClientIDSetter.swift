// MessageClientIDSetter: UNIQ_KEY values for messages that arrive without one (spec broker.md §2.3):
// hex of IP(4) + pid(2) + a per-process random int(4) + ms since the start of the month(4) + counter(2).
// Thread-safe (atomic counter); called by the send processor on any task.

import Foundation
import Synchronization

final class MessageClientIDSetter: Sendable {
    private let prefix: String
    private let counter = Atomic<UInt16>(0)
    private let monthStartMs: Int64

    init(ipv4: String) {
        var bytes: [UInt8] = ipv4.split(separator: ".").compactMap { UInt8($0) }
        if bytes.count != 4 { bytes = [127, 0, 0, 1] }
        let pid = UInt16(truncatingIfNeeded: getpid())
        bytes += [UInt8(pid >> 8), UInt8(pid & 0xFF)]
        let salt = UInt32.random(in: 0...UInt32.max)
        bytes += [UInt8(salt >> 24), UInt8(salt >> 16 & 0xFF), UInt8(salt >> 8 & 0xFF), UInt8(salt & 0xFF)]
        prefix = bytes.map { String(format: "%02X", $0) }.joined()
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone.current
        let start = cal.date(from: cal.dateComponents([.year, .month], from: Date())) ?? Date()
        monthStartMs = Int64(start.timeIntervalSince1970 * 1000)
    }

    func createUniqID() -> String {
        let elapsed = UInt32(truncatingIfNeeded: nowMs() - monthStartMs)
        let n = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return prefix + String(format: "%08X%04X", elapsed, n)
    }
}
