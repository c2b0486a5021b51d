// MQVersion: the `version` ordinals that change behaviour (spec remoting.md §2.4).
// Constants only; read by processors choosing an encoding from the requester's version.

public enum MQVersion {
    /// NameServer parses RegisterBrokerBody (not a bare wrapper) from brokers at or above this.
    public static let v3_0_11: Int16 = 37
    /// Version the C++ client sends.
    public static let v4_6_0: Int16 = 333
    /// Clients at or above this get standard-JSON route data (§8.5).
    public static let v4_9_4: Int16 = 401
    /// Compressed RegisterBrokerBody carries the static-topic mapping section from here on (§8.2).
    public static let v5_0_0: Int16 = 413
    /// `CURRENT_VERSION` of the Java snapshot the spec was read from; Apus answers with it.
    public static let v5_3_3: Int16 = 479
    /// What Apus puts in the `version` of frames it sends.
    public static let current: Int16 = v5_3_3

    /// Release ordinal of 4.minor.patch / 5.minor.patch (§2.4).
    public static func ordinal(major: Int, minor: Int, patch: Int) -> Int16 {
        let base = major == 5 ? 413 : 213
        return Int16(base + 2 * (10 * minor + patch))
    }
}
