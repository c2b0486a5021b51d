// MessageProperties: the properties string of a record (store.md §3.4): name \u{1} value \u{2} for each
// pair, every pair terminated. Parsing follows Java's rules (segments under 3 chars, empty names or
// values ignored; a later duplicate wins). Well-known keys are named as in RocketMQ's MessageConst.
import Glibc

public enum MessageProperties {
    public static let nameValueSeparator: Character = "\u{1}"
    public static let propertySeparator: Character = "\u{2}"

    public static let keys = "KEYS"
    public static let tags = "TAGS"
    public static let waitStoreMsgOk = "WAIT"
    public static let delayTimeLevel = "DELAY"
    public static let uniqueClientMessageIdKeyIndex = "UNIQ_KEY"
    public static let transactionPrepared = "TRAN_MSG"
    public static let realTopic = "REAL_TOPIC"
    public static let realQueueId = "REAL_QID"

    /// Encodes pairs in the order given.
    public static func encode(_ pairs: [(String, String)]) -> String {
        var s = ""
        for (k, v) in pairs {
            s += k
            s.append(nameValueSeparator)
            s += v
            s.append(propertySeparator)
        }
        return s
    }

    /// All pairs, with Java's rules. Works on UTF-8 bytes (splitting a String by Character would run
    /// grapheme breaking over every byte of every send).
    public static func decode(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        forEachPair(text) { name, value in
            result[String(decoding: name, as: UTF8.self)] = String(decoding: value, as: UTF8.self)
        }
        return result
    }

    /// The value of one property, or nil (a later duplicate wins, as in decode). No dictionary is built.
    public static func value(of key: String, in text: String) -> String? {
        var found: String?
        var key = key
        key.withUTF8 { k in
            forEachPair(text) { name, value in
                if name.count == k.count, let n = name.baseAddress, let kb = k.baseAddress, memcmp(n, kb, k.count) == 0 {
                    found = String(decoding: value, as: UTF8.self)
                }
            }
        }
        return found
    }

    /// Calls `body(name, value)` for each valid pair: segments split on \u{2}, under 3 bytes or without a
    /// \u{1}, or with an empty name or value, are skipped. The pointers are valid only during the call.
    public static func forEachPair(_ text: String, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) {
        var copy = text
        copy.withUTF8 { utf8 in
            guard let base = utf8.baseAddress else { return }
            let raw = UnsafeRawPointer(base)
            var start = 0
            let n = utf8.count
            while start < n {
                let end = memchr(raw + start, 2, n - start).map { UnsafeRawPointer($0) - raw } ?? n
                if end - start >= 3, let sepPtr = memchr(raw + start, 1, end - start) {
                    let sep = UnsafeRawPointer(sepPtr) - raw
                    if sep > start && sep + 1 < end {
                        body(UnsafeRawBufferPointer(start: raw + start, count: sep - start),
                             UnsafeRawBufferPointer(start: raw + sep + 1, count: end - sep - 1))
                    }
                }
                start = end + 1
            }
        }
    }
}
