// TopicAttributes: the topic attributes a broker accepts and how a modification (`+key=value`, `-key`)
// changes a topic's current ones (Java: TopicAttributes.ALL and AttributeUtil.alterCurrentAttributes).
// Used by TopicConfigManager.updateTopicConfig under its lock, so a check and the change it allows are one
// step. A refusal names the key; nothing changes.

struct TopicAttribute: Sendable {
    enum Kind: Sendable {
        case oneOf(Set<String>)
        case range(Int64, Int64)
    }
    let name: String
    /// False: may be set only when the topic is created.
    let changeable: Bool
    let kind: Kind

    func verify(_ value: String) throws(TopicAttributeError) {
        switch kind {
        case .oneOf(let universe):
            guard universe.contains(value) else {
                throw TopicAttributeError("value \(value) of attribute \(name) is not in set: [\(universe.sorted().joined(separator: ", "))]")
            }
        case .range(let lo, let hi):
            guard let n = Int64(value) else { throw TopicAttributeError("value \(value) of attribute \(name) is not a number") }
            guard (lo...hi).contains(n) else { throw TopicAttributeError("value \(value) of attribute \(name) is not in range(\(lo), \(hi))") }
        }
    }
}

struct TopicAttributeError: Error, Equatable, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum TopicAttributes {
    static let queueType = TopicAttribute(name: "queue.type", changeable: false, kind: .oneOf(["BatchCQ", "SimpleCQ"]))
    static let cleanupPolicy = TopicAttribute(name: "cleanup.policy", changeable: false, kind: .oneOf(["DELETE", "COMPACTION"]))
    static let messageType = TopicAttribute(name: "message.type", changeable: true,
                                            kind: .oneOf(["UNSPECIFIED", "NORMAL", "FIFO", "DELAY", "TRANSACTION", "MIXED"]))
    /// Kept and shown only: Apus has no tiered store to apply it to (Java stores it the same way then).
    static let reserveTime = TopicAttribute(name: "reserve.time", changeable: true, kind: .range(-1, Int64.max))

    static let all: [String: TopicAttribute] = Dictionary(uniqueKeysWithValues: [queueType, cleanupPolicy, messageType, reserveTime].map {
        ($0.name, $0)
    })

    /// The attributes after `modification` (keys with their `+`/`-` sign) is applied to `current`. On a
    /// topic being created only `+` is allowed and unchangeable attributes may be set; on an existing topic
    /// `-` needs the key to be present and unchangeable attributes are refused.
    static func alter(current: [String: String], modification: [String: String], creating: Bool)
        throws(TopicAttributeError) -> [String: String]
    {
        var result = current
        var seen = Set<String>()
        for signed in modification.keys.sorted() {
            let value = modification[signed] ?? ""
            let sign = signed.first
            let key = String(signed.dropFirst())
            guard !key.isEmpty, !key.contains("+"), !key.contains("-") else { throw TopicAttributeError("kv string format wrong: \(signed)") }
            guard seen.insert(key).inserted else { throw TopicAttributeError("alter duplication key. key: \(key)") }
            guard let attribute = all[key] else { throw TopicAttributeError("unsupported key: \(key)") }
            switch sign {
            case "+":
                if !creating && !attribute.changeable {
                    throw TopicAttributeError("attempt to update an unchangeable attribute. key: \(key)")
                }
                try attribute.verify(value)
                result[key] = value
            case "-":
                if creating { throw TopicAttributeError("only add attribute is supported while creating topic. key: \(key)") }
                guard current[key] != nil else { throw TopicAttributeError("attempt to delete a nonexistent key: \(key)") }
                if !attribute.changeable { throw TopicAttributeError("attempt to update an unchangeable attribute. key: \(key)") }
                result[key] = nil
            default:
                throw TopicAttributeError("wrong format key: \(signed)")
            }
        }
        return result
    }
}
