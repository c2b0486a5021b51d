// JavaFormat: the bits of Java's printf and toString that `mqadmin` output relies on — padding and
// truncation, Double.toString, local timestamps ("human2" and consumerProgress's form), Java map text,
// version names, timestamp inputs (admin.md §4). Pure functions; used by every sub-command.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Remoting

/// `%-Ns`: left-aligned, padded, never truncated.
func l(_ s: String, _ width: Int) -> String { s.count >= width ? s : s + String(repeating: " ", count: width - s.count) }
/// `%Ns`: right-aligned.
func r(_ s: String, _ width: Int) -> String { s.count >= width ? s : String(repeating: " ", count: width - s.count) + s }
func l(_ n: Int64, _ width: Int) -> String { l(String(n), width) }
func l(_ n: Int32, _ width: Int) -> String { l(String(n), width) }
/// RocketMQ's `UtilAll.frontStringAtLeast`: the first `n` characters.
func trunc(_ s: String, _ n: Int) -> String { s.count <= n ? s : String(s.prefix(n)) }

/// `%.Nf`.
func fixed(_ v: Double, _ digits: Int) -> String {
    guard v.isFinite else { return v.isNaN ? "NaN" : (v > 0 ? "Infinity" : "-Infinity") }
    var buffer = [CChar](repeating: 0, count: 64)
    _ = withVaList([v]) { vsnprintf(&buffer, 64, "%.\(digits)f", $0) }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
/// `%9.2f` and friends: fixed, right-aligned to `width`.
func fixed(_ v: Double, _ digits: Int, width: Int) -> String { r(fixed(v, digits), width) }

/// Java `Double.toString` for the values admin prints (`0.0`, `12.5`, `1.0E7`).
func javaDouble(_ v: Double) -> String {
    if v == v.rounded(), abs(v) < 1e7 { return "\(Int64(v)).0" }
    if abs(v) >= 1e7 {
        let e = Int(log10(abs(v)).rounded(.down))
        let m = v / pow(10, Double(e))
        return "\(m == m.rounded() ? "\(Int64(m)).0" : "\(m)")E\(e)"
    }
    return "\(v)"
}

/// Local-time formatting of epoch milliseconds; `millis` adds `,SSS`.
func localTime(_ ms: Int64, millis: Bool) -> String {
    var t = time_t(ms / 1000)
    var tmv = tm()
    localtime_r(&t, &tmv)
    let base = "\(tmv.tm_year + 1900)-\(two(tmv.tm_mon + 1))-\(two(tmv.tm_mday)) \(two(tmv.tm_hour)):\(two(tmv.tm_min)):\(two(tmv.tm_sec))"
    guard millis else { return base }
    let frac = Int(ms % 1000)
    return base + "," + (frac < 10 ? "00" : frac < 100 ? "0" : "") + String(frac)
}
private func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : String(n) }

/// `yyyy-MM-dd HH:mm:ss,SSS` (UtilAll.timeMillisToHumanString2).
func human2(_ ms: Int64) -> String { localTime(ms, millis: true) }

func nowMs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

/// Timestamp inputs: epoch ms, `yyyy-MM-dd#HH:mm:ss:SSS` (local), or `now` when allowed.
func parseTimestamp(_ s: String, allowNow: Bool = false) throws -> Int64 {
    if allowNow && s == "now" { return nowMs() }
    if let n = Int64(s) { return n }
    let parts = s.split(whereSeparator: { "-#:".contains($0) }).map { Int32($0) }
    guard parts.count == 7, parts.allSatisfy({ $0 != nil }) else {
        throw ParseError(description: "bad timestamp \(s): use epoch milliseconds or yyyy-MM-dd#HH:mm:ss:SSS")
    }
    let p = parts.map { $0 ?? 0 }
    var tmv = tm()
    tmv.tm_year = p[0] - 1900
    tmv.tm_mon = p[1] - 1
    tmv.tm_mday = p[2]
    tmv.tm_hour = p[3]
    tmv.tm_min = p[4]
    tmv.tm_sec = p[5]
    tmv.tm_isdst = -1
    return Int64(mktime(&tmv)) * 1000 + Int64(p[6])
}

/// Java `Map.toString`: `{k=v, k2=v2}`.
func javaMap(_ pairs: [(String, String)]) -> String {
    "{" + pairs.map { "\($0.0)=\($0.1)" }.joined(separator: ", ") + "}"
}

/// `MQVersion.getVersionDesc`: `V5_3_3`, `V4_9_4_SNAPSHOT`, ….
func versionName(_ v: Int32) -> String {
    func name(_ major: Int32, _ base: Int32) -> String {
        let n = v - base
        let release = n % 2 == 0
        let k = release ? n / 2 : (n + 1) / 2
        return "V\(major)_\(k / 10)_\(k % 10)" + (release ? "" : "_SNAPSHOT")
    }
    if v >= 413 { return name(5, 413) }
    if v >= 213 { return name(4, 213) }
    return "V_\(v)"
}

/// PermName.perm2String: `RW-`.
func permText(_ perm: Int32) -> String {
    (perm & PermName.read != 0 ? "R" : "-") + (perm & PermName.write != 0 ? "W" : "-") + (perm & PermName.inherit != 0 ? "X" : "-")
}

/// `MessageQueue [topic=T, brokerName=B, queueId=N]`.
func mqText(_ mq: MessageQueue) -> String {
    "MessageQueue [topic=\(mq.topic), brokerName=\(mq.brokerName), queueId=\(mq.queueId)]"
}
