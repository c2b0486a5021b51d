// DescriptorLimit: raises this process's soft RLIMIT_NOFILE to its hard limit at start (RocketMQ asks
// operators for `ulimit -n 655350`; a server doing it itself cannot be starved by a shell's default 1024),
// and says how many connections a server may hold so the rest stay free for its own files. Called once
// by mqbroker and mqnamesrv before they bind.

import Glibc

public struct DescriptorLimit: Sendable, Equatable {
    /// The soft limit found at start.
    public var softBefore: Int
    /// The soft limit now (the hard limit, unless raising failed).
    public var soft: Int
    public var hard: Int

    /// Raises the soft limit to the hard one; never lowers it. A failure leaves the limit as it was.
    public static func raiseToHard() -> DescriptorLimit {
        var lim = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &lim) == 0 else {
            return DescriptorLimit(softBefore: 1024, soft: 1024, hard: 1024)
        }
        let before = lim.rlim_cur
        if lim.rlim_cur < lim.rlim_max {
            var raised = lim
            raised.rlim_cur = lim.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { lim = raised }
        }
        return DescriptorLimit(softBefore: Self.count(before), soft: Self.count(lim.rlim_cur), hard: Self.count(lim.rlim_max))
    }

    private static func count(_ v: rlim_t) -> Int { v > rlim_t(Int32.max) ? Int(Int32.max) : Int(v) }  // RLIM_INFINITY too

    /// Descriptors always left to the server's own files (segments, config files, logs, rings, event loops)
    /// whatever the share allows.
    public static let reservedForFiles = 128

    /// Connections a server may hold: `percent` of the soft limit, never eating into `reservedForFiles`,
    /// and at least 16 so a tiny limit still serves someone.
    public func maxConnections(percent: Int) -> Int {
        let share = soft * max(1, min(percent, 100)) / 100  // soft ≤ Int32.max: no overflow
        return max(16, min(share, soft - Self.reservedForFiles))
    }

    /// The line both servers log at start.
    public func describe(maxConnections: Int) -> String {
        let raised = soft > softBefore ? "raised from \(softBefore) to \(soft)" : "\(soft)"
        return "open files limit: soft \(raised), hard \(hard); connections accepted up to \(maxConnections), the rest kept for the store and logs"
    }
}
