// Message+UserProperty: the client's check on user properties (reserved names and blank text refused,
// client.md §5.1). Message itself is Common's; this adds the rule that throws MQClientError.

import Common

extension Message {
    /// Sets a user property; reserved names and blank names or values are refused.
    public mutating func putUserProperty(_ name: String, _ value: String) throws(MQClientError) {
        guard !name.allSatisfy(\.isWhitespace), !value.allSatisfy(\.isWhitespace) else {
            throw .illegalArgument("the name or value of property can not be null or blank string")
        }
        guard !MessageConst.reserved.contains(name) else {
            throw .illegalArgument("The Property<\(name)> is used by system, input another please")
        }
        properties[name] = value
    }
}
