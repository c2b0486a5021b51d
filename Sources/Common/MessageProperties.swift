// MessageProperties: the properties string of a message (store.md §3.4, remoting.md §13.3): name \u{1}
// value \u{2} for each pair, every pair terminated. Parsing follows Java's rules (segments under 3 bytes,
// without \u{1}, or with an empty name or value are skipped; a later duplicate wins; a last pair without
// its terminator still counts). Pure functions over UTF-8 bytes; called on send, pull and store paths.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum MessageProperties {
    public static let nameValueSeparator: UInt8 = 1
    public static let propertySeparator: UInt8 = 2

    /// Encodes pairs in the order given (the broker keeps a stored message's order when it edits one).
    public static func encode(_ pairs: [(String, String)]) -> String {
        let total = pairs.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count + 2 }
        return write(pairs, total: total)
    }

    /// Encodes a dictionary with names in byte order, so the same properties give the same bytes.
    /// Built straight into the string's storage: this runs for every client send.
    public static func encode(_ properties: [String: String]) -> String {
        if properties.isEmpty { return "" }
        var pairs = properties.map { ($0.key, $0.value) }
        if pairs.count > 1 { pairs.sort { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) } }
        let total = pairs.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count + 2 }
        return write(pairs, total: total)
    }

    private static func write(_ pairs: [(String, String)], total: Int) -> String {
        if total == 0 { return "" }
        return String(unsafeUninitializedCapacity: total) { out in
            var i = 0
            for (name, value) in pairs {
                for b in name.utf8 { out[i] = b; i += 1 }
                out[i] = nameValueSeparator; i += 1
                for b in value.utf8 { out[i] = b; i += 1 }
                out[i] = propertySeparator; i += 1
            }
            return i
        }
    }

    /// All pairs of a properties string, with Java's rules.
    public static func decode(_ text: String) -> [String: String] {
        var copy = text
        return copy.withUTF8 { decode(UnsafeRawBufferPointer($0)) }
    }

    /// All pairs of properties bytes as they sit in a record.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> [String: String] {
        var result: [String: String] = [:]
        forEachPair(bytes) { name, value in
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

    /// Calls `body(name, value)` for each valid pair of a properties string. The pointers are valid only
    /// during the call.
    public static func forEachPair(_ text: String, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) {
        var copy = text
        copy.withUTF8 { forEachPair(UnsafeRawBufferPointer($0), body) }
    }

    /// The same over raw bytes. Splitting a String by Character would run grapheme breaking over every
    /// byte of every send, so this works on bytes with memchr.
    public static func forEachPair(_ bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) {
        guard let raw = bytes.baseAddress else { return }
        var start = 0
        let n = bytes.count
        while start < n {
            let end = memchr(raw + start, Int32(propertySeparator), n - start).map { UnsafeRawPointer($0) - raw } ?? n
            if end - start >= 3, let sepPtr = memchr(raw + start, Int32(nameValueSeparator), end - start) {
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

/// The store-side spellings the broker reads properties with (RocketMQ's MessageConst names).
extension MessageProperties {
    public static let keys = MessageConst.keys
    public static let tags = MessageConst.tags
    public static let waitStoreMsgOk = MessageConst.waitStoreMsgOK
    public static let delayTimeLevel = MessageConst.delayTimeLevel
    public static let uniqueClientMessageIdKeyIndex = MessageConst.uniqueClientMessageIdKeyIndex
    public static let transactionPrepared = MessageConst.transactionPrepared
    public static let realTopic = MessageConst.realTopic
    public static let realQueueId = MessageConst.realQueueId
}
