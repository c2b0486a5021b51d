// Connection, ConsumerConnection, ProducerConnection and the producer-group header: the bodies of
// GET_CONSUMER_CONNECTION_LIST (203) and GET_PRODUCER_CONNECTION_LIST (204) (spec remoting.md §9.12, §11.9).
// Plain values; built by the broker's ConnectionQueryProcessor, read by Admin; any task.

import Common

/// One client connection as the broker saw its heartbeat.
public struct Connection: RemotingJSONBody, Equatable, Hashable {
    public var clientId: String
    public var clientAddr: String
    public var language: String
    public var version: Int32
    public init(clientId: String, clientAddr: String, language: String, version: Int32) {
        self.clientId = clientId
        self.clientAddr = clientAddr
        self.language = language
        self.version = version
    }
    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("Connection")
        clientId = o["clientId"]?.stringValue ?? ""
        clientAddr = o["clientAddr"]?.stringValue ?? ""
        if let n = o["language"]?.int64Value, n >= 0, n < 256 {
            language = LanguageCode(rawValue: UInt8(n)).name
        } else {
            language = o["language"]?.stringValue ?? "OTHER"
        }
        version = o["version"]?.int32Value ?? 0
    }
    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.field("clientAddr", clientAddr)
        w.field("clientId", clientId)
        w.field("language", language)
        w.field("version", version)
        w.endObject()
    }
}

public struct ConsumerConnection: RemotingJSONBody, Equatable {
    public var connectionSet: [Connection]
    public var subscriptionTable: [String: SubscriptionData]
    public var consumeType: String?
    public var messageModel: String?
    public var consumeFromWhere: String?

    public init(connectionSet: [Connection] = [], subscriptionTable: [String: SubscriptionData] = [:],
                consumeType: String? = nil, messageModel: String? = nil, consumeFromWhere: String? = nil) {
        self.connectionSet = connectionSet
        self.subscriptionTable = subscriptionTable
        self.consumeType = consumeType
        self.messageModel = messageModel
        self.consumeFromWhere = consumeFromWhere
    }

    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("ConsumerConnection")
        var set: [Connection] = []
        for c in o["connectionSet"]?.arrayValue ?? [] { set.append(try Connection(json: c)) }
        connectionSet = set
        var subs: [String: SubscriptionData] = [:]
        for (k, v) in o["subscriptionTable"]?.objectValue?.members ?? [] {
            guard let topic = k.text else { continue }
            subs[topic] = try SubscriptionData(json: v)
        }
        subscriptionTable = subs
        consumeType = JavaEnumValue(json: o["consumeType"], names: ConsumeType.names)?.name
        messageModel = JavaEnumValue(json: o["messageModel"], names: MessageModel.names)?.name
        consumeFromWhere = JavaEnumValue(json: o["consumeFromWhere"], names: ConsumeFromWhere.names)?.name
    }

    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.key("connectionSet")
        w.beginArray()
        for c in connectionSet.sorted(by: { $0.clientId < $1.clientId }) { c.writeJSON(to: &w) }
        w.endArray()
        w.field("consumeFromWhere", consumeFromWhere)
        w.field("consumeType", consumeType)
        w.field("messageModel", messageModel)
        w.key("subscriptionTable")
        w.beginObject()
        for topic in subscriptionTable.keys.sorted() {
            guard let s = subscriptionTable[topic] else { continue }
            w.key(topic)
            s.writeJSON(to: &w)
        }
        w.endObject()
        w.endObject()
    }
}

public struct ProducerConnection: RemotingJSONBody, Equatable {
    public var connectionSet: [Connection]
    public init(connectionSet: [Connection] = []) { self.connectionSet = connectionSet }
    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("ProducerConnection")
        var set: [Connection] = []
        for c in o["connectionSet"]?.arrayValue ?? [] { set.append(try Connection(json: c)) }
        connectionSet = set
    }
    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.key("connectionSet")
        w.beginArray()
        for c in connectionSet.sorted(by: { $0.clientId < $1.clientId }) { c.writeJSON(to: &w) }
        w.endArray()
        w.endObject()
    }
}

/// GET_PRODUCER_CONNECTION_LIST (204) header.
public struct GetProducerConnectionListRequestHeader: DescribedHeader, Equatable {
    public var producerGroup: String
    public init(producerGroup: String) { self.producerGroup = producerGroup }
    public static let schema = HeaderSchema(Self(producerGroup: ""), [.required("producerGroup", \.producerGroup)])
}
