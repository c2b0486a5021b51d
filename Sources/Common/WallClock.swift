// WallClock: milliseconds since the epoch from CLOCK_REALTIME (Java's System.currentTimeMillis), without
// Foundation. Used for born timestamps, UNIQ_KEY month offsets and subscription versions; any thread.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum WallClock {
    public static func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
