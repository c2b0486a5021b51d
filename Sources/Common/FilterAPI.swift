// FilterAPI: tag expressions ("*" or "TagA || TagB", client.md §8.9, broker.md §4.1) to tags, to the hash
// codes the ConsumeQueue filters on (Java `String.hashCode`), and to SubscriptionData. The broker
// recomputes codes from the tag strings and never trusts a client's codeSet (C++ sends atoi(tag), §17).
// Pure functions; called by consumers and by the pull processor on any thread.

public enum FilterAPI {
    /// Java `String.hashCode`: 31-polynomial over UTF-16 code units, wrapping at 32 bits (so a character
    /// beyond the BMP counts as its two surrogates, as in Java).
    public static func javaHashCode(_ s: String) -> Int32 {
        var h: Int32 = 0
        for unit in s.utf16 { h = h &* 31 &+ Int32(unit) }
        return h
    }

    /// Tags of an expression: split on `||`, trimmed as Java's `trim()` does, empties dropped; nil means
    /// every message (`*`, empty or no expression).
    public static func tags(ofExpression expression: String?) -> [String]? {
        guard let expression else { return nil }
        let trimmed = javaTrim(Substring(expression))
        if trimmed.isEmpty || trimmed == "*" { return nil }
        var out: [String] = []
        var rest = trimmed
        while let range = rest.firstRange(of: "||") {
            out.append(String(javaTrim(rest[..<range.lowerBound])))
            rest = rest[range.upperBound...]
        }
        out.append(String(javaTrim(rest)))
        let tags = out.filter { !$0.isEmpty }
        return tags.isEmpty ? nil : tags
    }

    /// The hash set the store filters with; empty = all messages.
    public static func tagsCodes(ofExpression expression: String?) -> Set<Int32> {
        guard let tags = tags(ofExpression: expression) else { return [] }
        return Set(tags.map(javaHashCode))
    }

    /// The same for a registered subscription (its tags preferred, else its expression).
    public static func tagsCodes(of subscription: SubscriptionData) -> Set<Int32> {
        if !subscription.tagsSet.isEmpty { return Set(subscription.tagsSet.filter { $0 != "*" }.map(javaHashCode)) }
        return tagsCodes(ofExpression: subscription.subString)
    }

    /// A TAG subscription; `subVersion` defaults to now, as Java's does.
    public static func buildSubscriptionData(topic: String, expression: String?, subVersion: Int64 = WallClock.nowMs()) -> SubscriptionData {
        guard let tags = tags(ofExpression: expression) else {
            return SubscriptionData(topic: topic, subString: "*", subVersion: subVersion)
        }
        let subString = String(javaTrim(Substring(expression ?? "")))
        return SubscriptionData(topic: topic, subString: subString, tagsSet: tags, codeSet: tags.map(javaHashCode),
                                subVersion: subVersion)
    }

    /// The exact tag check a consumer makes after the broker's hash filter (hashes can collide).
    public static func matches(_ subscription: SubscriptionData, tags: String?) -> Bool {
        subscription.tagsSet.isEmpty || tags.map { subscription.tagsSet.contains($0) } ?? false
    }

    /// Java's `String.trim()`: drops leading and trailing characters up to U+0020.
    private static func javaTrim(_ s: Substring) -> Substring {
        var s = s
        while let f = s.unicodeScalars.first, f.value <= 0x20 { s = s.dropFirst() }
        while let l = s.unicodeScalars.last, l.value <= 0x20 { s = s.dropLast() }
        return s
    }
}
