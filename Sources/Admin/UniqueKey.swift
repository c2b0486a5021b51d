// UniqueKey: the UNIQ_KEY an admin send gives its message — 32 uppercase hex chars in the Java layout
// (IP, pid, a per-process hash, ms since the month began, counter; remoting.md §13.2) — and wall-clock ms.
// Called by MQAdmin.sendMessage from any task.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

enum UniqueKey {
    private static let counter = Atomic<UInt16>(0)
    private static let processHash = UInt32.random(in: 0...UInt32.max)

    static func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    static func next() -> String {
        var bytes: [UInt8] = [127, 0, 0, 1]
        let pid = UInt16(truncatingIfNeeded: getpid())
        bytes += [UInt8(pid >> 8), UInt8(pid & 0xFF)]
        bytes += withUnsafeBytes(of: processHash.bigEndian, Array.init)
        let sinceMonth = UInt32(truncatingIfNeeded: nowMs() % (31 * 86_400_000))
        bytes += withUnsafeBytes(of: sinceMonth.bigEndian, Array.init)
        let n = counter.wrappingAdd(1, ordering: .relaxed).newValue
        bytes += [UInt8(n >> 8), UInt8(n & 0xFF)]
        return MessageDecoder.hex(bytes)
    }
}
