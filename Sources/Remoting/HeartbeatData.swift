// HeartbeatData, ProducerData, ConsumerData: the HEART_BEAT body a client sends to brokers (spec
// remoting.md §11.3, §17); SubscriptionData is Common's, its JSON form is here. Enums accept Java names or
// C++ ordinals. Plain values; any task.

import Common

/// A Java enum carried by name (Java) or ordinal (C++); unknown values keep their text.
public struct JavaEnumValue: Sendable, Equatable, Hashable {
    public let name: String
    public init(name: String) { self.name = name }

    init?(json: JSONValue?, names: [String]) {
        guard let json else { return nil }
        if case .number(let n) = json, let i = Int(n), i >= 0, i < names.count {
            self.name = names[i]
        } else if let s = json.stringValue {
            self.name = names.first { $0.caseInsensitiveCompare(s) } ?? s
        } else {
            return nil
        }
    }
}

extension String {
    fileprivate func caseInsensitiveCompare(_ other: String) -> Bool { lowercased() == other.lowercased() }
}

public enum ConsumeType {
    public static let names = ["CONSUME_ACTIVELY", "CONSUME_PASSIVELY", "CONSUME_POP"]
}
public enum MessageModel {
    public static let names = ["BROADCASTING", "CLUSTERING"]
}
public enum ConsumeFromWhere {
    public static let names = [
        "CONSUME_FROM_LAST_OFFSET", "CONSUME_FROM_LAST_OFFSET_AND_FROM_MIN_WHEN_BOOT_FIRST", "CONSUME_FROM_MIN_OFFSET",
        "CONSUME_FROM_MAX_OFFSET", "CONSUME_FROM_FIRST_OFFSET", "CONSUME_FROM_TIMESTAMP",
    ]
}

/// SubscriptionData itself is Common's (FilterAPI builds it); its JSON form lives here with the other bodies.
extension SubscriptionData: RemotingJSONBody {
    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("SubscriptionData")
        self.init(
            topic: o["topic"]?.stringValue ?? "", subString: o["subString"]?.stringValue ?? "*",
            tagsSet: (o["tagsSet"]?.arrayValue ?? []).compactMap(\.stringValue),
            codeSet: (o["codeSet"]?.arrayValue ?? []).compactMap(\.int32Value),
            subVersion: o["subVersion"]?.int64Value ?? 0, expressionType: o["expressionType"]?.stringValue ?? "TAG",
            classFilterMode: o["classFilterMode"]?.boolValue ?? false)
    }

    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.field("classFilterMode", classFilterMode)
        w.key("codeSet")
        w.beginArray()
        for c in codeSet { w.value(c) }
        w.endArray()
        w.field("expressionType", expressionType)
        w.field("subString", subString)
        w.field("subVersion", subVersion)
        w.field("tagsSet", strings: tagsSet)
        w.field("topic", topic)
        w.endObject()
    }
}

public struct ProducerData: RemotingJSONBody, Equatable {
    public var groupName: String
    public init(groupName: String) { self.groupName = groupName }
    public init(json: JSONValue) throws(RemotingError) {
        groupName = try json.requireObject("ProducerData")["groupName"]?.stringValue ?? ""
    }
    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.field("groupName", groupName)
        w.endObject()
    }
}

public struct ConsumerData: RemotingJSONBody, Equatable {
    public var groupName: String
    public var consumeType: JavaEnumValue
    public var messageModel: JavaEnumValue
    public var consumeFromWhere: JavaEnumValue
    public var subscriptionDataSet: [SubscriptionData]
    public var unitMode: Bool

    public init(
        groupName: String, consumeType: String = "CONSUME_PASSIVELY", messageModel: String = "CLUSTERING",
        consumeFromWhere: String = "CONSUME_FROM_LAST_OFFSET", subscriptionDataSet: [SubscriptionData] = [],
        unitMode: Bool = false
    ) {
        self.groupName = groupName
        self.consumeType = JavaEnumValue(name: consumeType)
        self.messageModel = JavaEnumValue(name: messageModel)
        self.consumeFromWhere = JavaEnumValue(name: consumeFromWhere)
        self.subscriptionDataSet = subscriptionDataSet
        self.unitMode = unitMode
    }

    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("ConsumerData")
        groupName = o["groupName"]?.stringValue ?? ""
        consumeType = JavaEnumValue(json: o["consumeType"], names: ConsumeType.names) ?? .init(name: "CONSUME_PASSIVELY")
        messageModel = JavaEnumValue(json: o["messageModel"], names: MessageModel.names) ?? .init(name: "CLUSTERING")
        consumeFromWhere =
            JavaEnumValue(json: o["consumeFromWhere"], names: ConsumeFromWhere.names)
            ?? .init(name: "CONSUME_FROM_LAST_OFFSET")
        var subs: [SubscriptionData] = []
        for s in o["subscriptionDataSet"]?.arrayValue ?? [] { subs.append(try SubscriptionData(json: s)) }
        subscriptionDataSet = subs
        unitMode = o["unitMode"]?.boolValue ?? false
    }

    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.field("consumeFromWhere", consumeFromWhere.name)
        w.field("consumeType", consumeType.name)
        w.field("groupName", groupName)
        w.field("messageModel", messageModel.name)
        w.key("subscriptionDataSet")
        w.beginArray()
        for s in subscriptionDataSet { s.writeJSON(to: &w) }
        w.endArray()
        w.field("unitMode", unitMode)
        w.endObject()
    }
}

public struct HeartbeatData: RemotingJSONBody, Equatable {
    public var clientID: String
    public var producerDataSet: [ProducerData]
    public var consumerDataSet: [ConsumerData]
    public var heartbeatFingerprint: Int32?
    public var withoutSub: Bool?

    public init(
        clientID: String, producerDataSet: [ProducerData] = [], consumerDataSet: [ConsumerData] = [],
        heartbeatFingerprint: Int32? = 0, withoutSub: Bool? = false
    ) {
        self.clientID = clientID
        self.producerDataSet = producerDataSet
        self.consumerDataSet = consumerDataSet
        self.heartbeatFingerprint = heartbeatFingerprint
        self.withoutSub = withoutSub
    }

    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("HeartbeatData")
        clientID = o["clientID"]?.stringValue ?? ""
        var producers: [ProducerData] = []
        for p in o["producerDataSet"]?.arrayValue ?? [] { producers.append(try ProducerData(json: p)) }
        producerDataSet = producers
        var consumers: [ConsumerData] = []
        for c in o["consumerDataSet"]?.arrayValue ?? [] { consumers.append(try ConsumerData(json: c)) }
        consumerDataSet = consumers
        heartbeatFingerprint = o["heartbeatFingerprint"]?.int32Value
        withoutSub = o["withoutSub"]?.boolValue
    }

    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.field("clientID", clientID)
        w.key("consumerDataSet")
        w.beginArray()
        for c in consumerDataSet { c.writeJSON(to: &w) }
        w.endArray()
        w.field("heartbeatFingerprint", heartbeatFingerprint)
        w.key("producerDataSet")
        w.beginArray()
        for p in producerDataSet { p.writeJSON(to: &w) }
        w.endArray()
        w.field("withoutSub", withoutSub)
        w.endObject()
    }
}
