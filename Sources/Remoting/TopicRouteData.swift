// TopicRouteData, QueueData, BrokerData: the route of a topic (spec remoting.md §11.1, §8.5).
// Built by the NameServer's RouteInfoManager, read by clients and brokers; plain values, any task.

/// Permission bits of a topic or broker (spec remoting.md §14.4).
public enum PermName {
    public static let inherit: Int32 = 1
    public static let write: Int32 = 2
    public static let read: Int32 = 4
    public static let priority: Int32 = 8
    public static func isWriteable(_ perm: Int32) -> Bool { perm & write != 0 }
    public static func isReadable(_ perm: Int32) -> Bool { perm & read != 0 }
}

public struct QueueData: RemotingJSONBody, Equatable, Hashable {
    public var brokerName: String
    public var readQueueNums: Int32
    public var writeQueueNums: Int32
    public var perm: Int32
    public var topicSysFlag: Int32

    public init(brokerName: String, readQueueNums: Int32, writeQueueNums: Int32, perm: Int32, topicSysFlag: Int32 = 0) {
        self.brokerName = brokerName
        self.readQueueNums = readQueueNums
        self.writeQueueNums = writeQueueNums
        self.perm = perm
        self.topicSysFlag = topicSysFlag
    }

    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("QueueData")
        brokerName = o["brokerName"]?.stringValue ?? ""
        readQueueNums = o["readQueueNums"]?.int32Value ?? 0
        writeQueueNums = o["writeQueueNums"]?.int32Value ?? 0
        perm = o["perm"]?.int32Value ?? 0
        // `topicSynFlag` is the spelling up to 4.8.x (§18).
        topicSysFlag = o["topicSysFlag"]?.int32Value ?? o["topicSynFlag"]?.int32Value ?? 0
    }

    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.field("brokerName", brokerName)
        w.field("perm", perm)
        w.field("readQueueNums", readQueueNums)
        w.field("topicSysFlag", topicSysFlag)
        w.field("writeQueueNums", writeQueueNums)
        w.endObject()
    }
}

public struct BrokerData: RemotingJSONBody, Equatable {
    public var cluster: String
    public var brokerName: String
    /// brokerId (0 = master) -> "ip:port". Written with bare numeric keys in fastjson style (§16.1).
    public var brokerAddrs: [Int64: String]
    public var zoneName: String?
    public var enableActingMaster: Bool

    public init(
        cluster: String, brokerName: String, brokerAddrs: [Int64: String] = [:], zoneName: String? = nil,
        enableActingMaster: Bool = false
    ) {
        self.cluster = cluster
        self.brokerName = brokerName
        self.brokerAddrs = brokerAddrs
        self.zoneName = zoneName
        self.enableActingMaster = enableActingMaster
    }

    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("BrokerData")
        cluster = o["cluster"]?.stringValue ?? ""
        brokerName = o["brokerName"]?.stringValue ?? ""
        var addrs: [Int64: String] = [:]
        if let table = o["brokerAddrs"]?.objectValue {
            for (key, value) in table.members {
                guard let id = key.text.flatMap({ Int64($0) }), let addr = value.stringValue else {
                    throw .malformedBody("brokerAddrs key is not a broker id")
                }
                addrs[id] = addr
            }
        }
        brokerAddrs = addrs
        zoneName = o["zoneName"]?.stringValue
        enableActingMaster = o["enableActingMaster"]?.boolValue ?? false
    }

    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.key("brokerAddrs")
        w.beginObject()
        for id in brokerAddrs.keys.sorted() {
            w.numericKey(id)
            w.value(brokerAddrs[id] ?? "")
        }
        w.endObject()
        w.field("brokerName", brokerName)
        w.field("cluster", cluster)
        w.field("enableActingMaster", enableActingMaster)
        w.field("zoneName", zoneName)
        w.endObject()
    }

    /// The master's address (id 0), if registered.
    public var masterAddr: String? { brokerAddrs[0] }
}

public struct TopicRouteData: RemotingJSONBody, Equatable {
    public var orderTopicConf: String?
    public var queueDatas: [QueueData]
    public var brokerDatas: [BrokerData]
    /// brokerAddr -> filter server addresses.
    public var filterServerTable: [String: [String]]

    public init(
        orderTopicConf: String? = nil, queueDatas: [QueueData] = [], brokerDatas: [BrokerData] = [],
        filterServerTable: [String: [String]] = [:]
    ) {
        self.orderTopicConf = orderTopicConf
        self.queueDatas = queueDatas
        self.brokerDatas = brokerDatas
        self.filterServerTable = filterServerTable
    }

    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("TopicRouteData")
        orderTopicConf = o["orderTopicConf"]?.stringValue
        var queues: [QueueData] = []
        for q in o["queueDatas"]?.arrayValue ?? [] { queues.append(try QueueData(json: q)) }
        queueDatas = queues
        var brokers: [BrokerData] = []
        for b in o["brokerDatas"]?.arrayValue ?? [] { brokers.append(try BrokerData(json: b)) }
        brokerDatas = brokers
        var filters: [String: [String]] = [:]
        for (key, value) in o["filterServerTable"]?.objectValue?.members ?? [] {
            guard let addr = key.text else { continue }
            filters[addr] = (value.arrayValue ?? []).compactMap(\.stringValue)
        }
        filterServerTable = filters
    }

    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.key("brokerDatas")
        w.beginArray()
        for b in brokerDatas { b.writeJSON(to: &w) }
        w.endArray()
        w.key("filterServerTable")
        w.beginObject()
        for addr in filterServerTable.keys.sorted() {
            w.field(addr, strings: filterServerTable[addr] ?? [])
        }
        w.endObject()
        w.field("orderTopicConf", orderTopicConf)
        w.key("queueDatas")
        w.beginArray()
        for q in queueDatas { q.writeJSON(to: &w) }
        w.endArray()
        w.endObject()
    }
}
