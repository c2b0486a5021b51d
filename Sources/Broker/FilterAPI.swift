// FilterAPI: tag subscriptions to the tag-hash set the store filters on (spec broker.md §4.1). The broker
// recomputes hashes from the tag strings and never trusts a client's codeSet (C++ sends atoi(tag), §17).
// Pure functions; called by the pull processor and the hold service on any thread.

public enum FilterAPI {
    /// Java `String.hashCode` over UTF-16 units, 32-bit wrapping.
    public static func javaHashCode(_ s: String) -> Int32 {
        var h: Int32 = 0
        for unit in s.utf16 { h = h &* 31 &+ Int32(unit) }
        return h
    }

    /// Tags of an expression: split on `||`, trimmed, empties dropped; nil means "all" (`*` or empty).
    public static func tags(ofExpression expression: String?) -> [String]? {
        guard let expression else { return nil }
        let trimmed = expression.trimmingSpacesAndTabs
        if trimmed.isEmpty || trimmed == "*" { return nil }
        var out: [String] = []
        var rest = Substring(trimmed)
        while let range = rest.range(of: "||") {
            out.append(String(rest[..<range.lowerBound]).trimmingSpacesAndTabs)
            rest = rest[range.upperBound...]
        }
        out.append(String(rest).trimmingSpacesAndTabs)
        let tags = out.filter { !$0.isEmpty }
        return tags.isEmpty ? nil : tags
    }

    /// The hash set the store filters with; empty = all messages.
    public static func tagsCodes(ofExpression expression: String?) -> Set<Int32> {
        guard let tags = tags(ofExpression: expression) else { return [] }
        return Set(tags.map(javaHashCode))
    }

    /// Same, for a subscription registered by heartbeat (tagsSet preferred, else subString).
    static func tagsCodes(of sub: SubscriptionDataView) -> Set<Int32> {
        if !sub.tagsSet.isEmpty { return Set(sub.tagsSet.filter { $0 != "*" }.map(javaHashCode)) }
        return tagsCodes(ofExpression: sub.subString)
    }
}

/// The parts of a SubscriptionData the filter reads.
struct SubscriptionDataView {
    let subString: String
    let tagsSet: [String]
}

extension String {
    var trimmingSpacesAndTabs: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
