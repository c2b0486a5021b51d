// StoreCrashBody: the deterministic message bodies the crash-safety helper (apus-store-crasher) writes
// and the crash tests verify: message n of a run with `seed` has 1 to 3000 bytes starting "n=<n>;".
public enum StoreCrashBody {
    public static func make(_ n: Int, seed: UInt64) -> [UInt8] {
        var x = seed &+ UInt64(n) &* 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            x ^= x << 13
            x ^= x >> 7
            x ^= x << 17
            return x
        }
        let len = Int(next() % 3000) + 1
        var body = Array("n=\(n);".utf8)
        while body.count < len { body.append(UInt8(truncatingIfNeeded: next())) }
        return body
    }
}
