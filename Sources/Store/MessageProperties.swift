// MessageProperties: the properties string of a record (store.md §3.4): name \u{1} value \u{2} for each
// pair, every pair terminated. Parsing follows Java's rules (segments under 3 chars, empty names or
// values ignored; a later duplicate wins). Well-known keys are named as in RocketMQ's MessageConst.
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

    public static func decode(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for segment in text.split(separator: propertySeparator, omittingEmptySubsequences: true) where segment.count >= 3 {
            guard let sep = segment.firstIndex(of: nameValueSeparator) else { continue }
            let name = segment[..<sep], value = segment[segment.index(after: sep)...]
            if name.isEmpty || value.isEmpty { continue }
            result[String(name)] = String(value)
        }
        return result
    }
}
