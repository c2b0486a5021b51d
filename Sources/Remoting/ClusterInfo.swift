// ClusterInfo, TopicList, KVTable: small NameServer bodies (spec remoting.md §11.2).
// Plain values built by NameServer processors and read by admin tools; any task.

public struct ClusterInfo: RemotingJSONBody, Equatable {
    public var brokerAddrTable: [String: BrokerData]
    public var clusterAddrTable: [String: [String]]

    public init(brokerAddrTable: [String: BrokerData] = [:], clusterAddrTable: [String: [String]] = [:]) {
        self.brokerAddrTable = brokerAddrTable
        self.clusterAddrTable = clusterAddrTable
    }

    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("ClusterInfo")
        var brokers: [String: BrokerData] = [:]
        for (key, value) in o["brokerAddrTable"]?.objectValue?.members ?? [] {
            guard let name = key.text else { continue }
            brokers[name] = try BrokerData(json: value)
        }
        brokerAddrTable = brokers
        var clusters: [String: [String]] = [:]
        for (key, value) in o["clusterAddrTable"]?.objectValue?.members ?? [] {
            guard let name = key.text else { continue }
            clusters[name] = (value.arrayValue ?? []).compactMap(\.stringValue)
        }
        clusterAddrTable = clusters
    }

    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.key("brokerAddrTable")
        w.beginObject()
        for name in brokerAddrTable.keys.sorted() {
            guard let b = brokerAddrTable[name] else { continue }
            w.key(name)
            b.writeJSON(to: &w)
        }
        w.endObject()
        w.key("clusterAddrTable")
        w.beginObject()
        for name in clusterAddrTable.keys.sorted() {
            w.field(name, strings: (clusterAddrTable[name] ?? []).sorted())
        }
        w.endObject()
        w.endObject()
    }
}

public struct TopicList: RemotingJSONBody, Equatable {
    public var topicList: [String]
    public var brokerAddr: String?

    public init(topicList: [String] = [], brokerAddr: String? = nil) {
        self.topicList = topicList
        self.brokerAddr = brokerAddr
    }

    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("TopicList")
        topicList = (o["topicList"]?.arrayValue ?? []).compactMap(\.stringValue)
        brokerAddr = o["brokerAddr"]?.stringValue
    }

    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.field("brokerAddr", brokerAddr)
        w.field("topicList", strings: topicList)
        w.endObject()
    }
}

public struct KVTable: RemotingJSONBody, Equatable {
    public var table: [String: String]

    public init(table: [String: String] = [:]) { self.table = table }

    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("KVTable")
        var t: [String: String] = [:]
        for (key, value) in o["table"]?.objectValue?.members ?? [] {
            guard let k = key.text, let v = value.stringValue else { continue }
            t[k] = v
        }
        table = t
    }

    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.field("table", stringMap: table)
        w.endObject()
    }
}
