// AttributeParser: the text form of a topic-attribute modification, `+key=value` to add or change and `-key`
// to remove, comma-separated (Java: AttributeParser). `mqadmin updateTopic -a` checks it before sending;
// the broker parses the CreateTopicRequestHeader's `attributes` with it. Pure functions; any thread.

public enum AttributeParser {
    /// `+a=b,+c=d,-e` → `["+a": "b", "+c": "d", "-e": ""]` (keys keep their sign). Throws the reason, naming
    /// the item, for an item with `=` but no `+`, without `=` and without `-`, or a key given twice.
    public static func parseToMap(_ text: String?) throws(AttributeFormatError) -> [String: String] {
        guard let text, !text.isEmpty else { return [:] }
        var out: [String: String] = [:]
        for item in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            let key: String, value: String
            if let eq = item.firstIndex(of: "=") {
                key = String(item[..<eq])
                value = String(item[item.index(after: eq)...])
                guard key.hasPrefix("+") else { throw AttributeFormatError("add/alter attribute format is wrong: \(key)") }
            } else {
                key = item
                value = ""
                guard key.hasPrefix("-") else { throw AttributeFormatError("delete attribute format is wrong: \(key)") }
            }
            guard out.updateValue(value, forKey: key) == nil else { throw AttributeFormatError("key duplication: \(key)") }
        }
        return out
    }

    /// The inverse, in key order (`-e` without `=`).
    public static func parseToString(_ modification: [String: String]) -> String {
        modification.keys.sorted().map { k in
            let v = modification[k] ?? ""
            return v.isEmpty ? k : "\(k)=\(v)"
        }.joined(separator: ",")
    }
}

public struct AttributeFormatError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
