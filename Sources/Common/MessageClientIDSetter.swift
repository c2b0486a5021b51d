// MessageClientIDSetter: UNIQ_KEY values (client.md §5.5, broker.md §2.3) — 32 uppercase hex characters:
// IPv4 address (4 bytes), pid (2), a per-process random int (4), ms since the start of the month in local
// time (4), counter (2). The producer uses `createUniqID()` (the process-wide maker over the first
// non-loopback IPv4 address); the broker builds one maker over brokerIP1. Thread-safe (atomics only),
// called once per send on any thread: no lock, no Foundation formatting, one allocation (the String).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

public final class MessageClientIDSetter: Sendable {
    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// IP, pid and the random value in hex: the first 20 characters of every id.
    private let prefixHex: [UInt8]
    private let counter = Atomic<UInt16>(0)
    /// The current month's bounds in ms since the epoch. A rollover is rare and every thread that sees it
    /// computes the same values, so they are stored without a lock: start first, then next with release,
    /// and a reader that acquires next sees its start.
    private let monthStartMs: Atomic<Int64>
    private let nextMonthStartMs: Atomic<Int64>

    public init(ipv4Bytes: [UInt8]) {
        var p = ipv4Bytes.count == 4 ? ipv4Bytes : [127, 0, 0, 1]
        let pid = UInt16(truncatingIfNeeded: getpid())
        p += [UInt8(pid >> 8), UInt8(pid & 0xFF)]
        let salt = UInt32.random(in: 0...UInt32.max)
        p += [UInt8(salt >> 24), UInt8(salt >> 16 & 0xFF), UInt8(salt >> 8 & 0xFF), UInt8(salt & 0xFF)]
        prefixHex = p.flatMap { [Self.hexDigits[Int($0 >> 4)], Self.hexDigits[Int($0 & 0xF)]] }
        let (start, next) = Self.monthBounds(nowMs: WallClock.nowMs())
        monthStartMs = Atomic(start)
        nextMonthStartMs = Atomic(next)
    }

    /// Dotted IPv4 text ("10.0.0.5"); anything else falls back to 127.0.0.1.
    public convenience init(ipv4: String) {
        let bytes = ipv4.split(separator: ".", omittingEmptySubsequences: false).compactMap { UInt8($0) }
        self.init(ipv4Bytes: bytes)
    }

    /// The process-wide maker the producer uses.
    public static let shared = MessageClientIDSetter(ipv4Bytes: localIPv4Bytes())

    /// A fresh id from the process-wide maker.
    public static func createUniqID() -> String { shared.createUniqID() }

    /// A fresh id, written straight into the string's storage.
    public func createUniqID() -> String {
        let now = WallClock.nowMs()
        if now >= nextMonthStartMs.load(ordering: .acquiring) {
            let (start, next) = Self.monthBounds(nowMs: now)
            monthStartMs.store(start, ordering: .relaxed)
            nextMonthStartMs.store(next, ordering: .releasing)
        }
        let delta = UInt32(truncatingIfNeeded: max(0, now - monthStartMs.load(ordering: .relaxed)))
        let n = counter.wrappingAdd(1, ordering: .relaxed).oldValue
        return prefixHex.withUnsafeBufferPointer { prefix in
            String(unsafeUninitializedCapacity: prefix.count + 12) { out in
                var i = 0
                for b in prefix { out[i] = b; i += 1 }
                for shift in stride(from: 28, through: 0, by: -4) { out[i] = Self.hexDigits[Int(delta >> UInt32(shift) & 0xF)]; i += 1 }
                for shift in stride(from: 12, through: 0, by: -4) { out[i] = Self.hexDigits[Int(n >> UInt16(shift) & 0xF)]; i += 1 }
                return i
            }
        }
    }

    /// Start of this month and of the next one in local time, as Java's Calendar gives them.
    static func monthBounds(nowMs: Int64) -> (Int64, Int64) {
        var seconds = time_t(nowMs / 1000)
        var t = tm()
        guard localtime_r(&seconds, &t) != nil else { return (nowMs, nowMs + 28 * 86_400_000) }
        t.tm_mday = 1
        t.tm_hour = 0
        t.tm_min = 0
        t.tm_sec = 0
        t.tm_isdst = -1
        let start = mktime(&t)
        t.tm_mon += 1
        t.tm_isdst = -1
        let next = mktime(&t)
        return (Int64(start) * 1000, Int64(next) * 1000)
    }

    /// The first IPv4 address of this host that is not loopback, else 127.0.0.1.
    public static func localIPv4Bytes() -> [UInt8] {
        var addrs: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&addrs) == 0, let first = addrs else { return [127, 0, 0, 1] }
        defer { freeifaddrs(addrs) }
        var p: UnsafeMutablePointer<ifaddrs>? = first
        while let cur = p {
            if let sa = cur.pointee.ifa_addr, sa.pointee.sa_family == UInt8(AF_INET) {
                let a = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
                let b = withUnsafeBytes(of: a) { Array($0) }
                if b[0] != 127 { return b }
            }
            p = cur.pointee.ifa_next
        }
        return [127, 0, 0, 1]
    }
}

extension MessageClientIDSetter {
    /// Gives a message the process-wide maker's UNIQ_KEY unless it already has one (Java's `setUniqID`).
    public static func setUniqID(_ message: inout Message) {
        if message.properties[MessageConst.uniqueClientMessageIdKeyIndex] == nil {
            message.properties[MessageConst.uniqueClientMessageIdKeyIndex] = createUniqID()
        }
    }
}
