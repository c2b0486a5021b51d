// SubscriptionData: one topic's subscription as a consumer registers it in heartbeats and pulls
// (common/protocol/heartbeat/SubscriptionData, client.md §8.9): the expression, its tags and their Java
// hash codes. A value; FilterAPI builds it from a tag expression, Remoting gives it its JSON form.

public struct SubscriptionData: Sendable, Equatable {
    public var topic: String
    public var subString: String
    public var tagsSet: [String]
    public var codeSet: [Int32]
    public var subVersion: Int64
    public var expressionType: String
    public var classFilterMode: Bool

    public init(
        topic: String, subString: String = "*", tagsSet: [String] = [], codeSet: [Int32] = [], subVersion: Int64 = 0,
        expressionType: String = "TAG", classFilterMode: Bool = false
    ) {
        self.topic = topic
        self.subString = subString
        self.tagsSet = tagsSet
        self.codeSet = codeSet
        self.subVersion = subVersion
        self.expressionType = expressionType
        self.classFilterMode = classFilterMode
    }
}
