// TopicConfig, DataVersion, TopicConfigSerializeWrapper: a broker's topic table as registered with the
// NameServer (spec remoting.md §8.2, §11.10, §11.2). Plain values; any task.

public struct DataVersion: RemotingJSONBody, Equatable, Hashable {
    public var counter: Int64
    public var timestamp: Int64
    /// 5.x only; absent from 4.x brokers.
    public var stateVersion: Int64?

    public init(counter: Int64 = 0, timestamp: Int64 = 0, stateVersion: Int64? = 0) {
        self.counter = counter
        self.timestamp = timestamp
        self.stateVersion = stateVersion
    }

    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("DataVersion")
        counter = o["counter"]?.int64Value ?? 0
        timestamp = o["timestamp"]?.int64Value ?? 0
        stateVersion = o["stateVersion"]?.int64Value
    }

    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.field("counter", counter)
        w.field("stateVersion", stateVersion)
        w.field("timestamp", timestamp)
        w.endObject()
    }

    /// Java `DataVersion.equals`: counter and timestamp (and stateVersion when both carry one).
    public func sameVersion(as other: DataVersion) -> Bool {
        counter == other.counter && timestamp == other.timestamp && (stateVersion ?? 0) == (other.stateVersion ?? 0)
    }
}

public struct TopicConfig: RemotingJSONBody, Equatable {
    public var topicName: String
    public var readQueueNums: Int32
    public var writeQueueNums: Int32
    public var perm: Int32
    /// `SINGLE_TAG` or `MULTI_TAG`.
    public var topicFilterType: String
    public var topicSysFlag: Int32
    public var order: Bool
    public var attributes: [String: String]

    public init(
        topicName: String, readQueueNums: Int32 = 16, writeQueueNums: Int32 = 16, perm: Int32 = 6,
        topicFilterType: String = "SINGLE_TAG", topicSysFlag: Int32 = 0, order: Bool = false,
        attributes: [String: String] = [:]
    ) {
        self.topicName = topicName
        self.readQueueNums = readQueueNums
        self.writeQueueNums = writeQueueNums
        self.perm = perm
        self.topicFilterType = topicFilterType
        self.topicSysFlag = topicSysFlag
        self.order = order
        self.attributes = attributes
    }

    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("TopicConfig")
        topicName = o["topicName"]?.stringValue ?? ""
        readQueueNums = o["readQueueNums"]?.int32Value ?? 16
        writeQueueNums = o["writeQueueNums"]?.int32Value ?? 16
        perm = o["perm"]?.int32Value ?? 6
        topicFilterType = o["topicFilterType"]?.stringValue ?? "SINGLE_TAG"
        topicSysFlag = o["topicSysFlag"]?.int32Value ?? 0
        order = o["order"]?.boolValue ?? false
        var attrs: [String: String] = [:]
        for (k, v) in o["attributes"]?.objectValue?.members ?? [] {
            if let key = k.text, let value = v.stringValue { attrs[key] = value }
        }
        attributes = attrs
    }

    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.field("attributes", stringMap: attributes)
        w.field("order", order)
        w.field("perm", perm)
        w.field("readQueueNums", readQueueNums)
        w.field("topicFilterType", topicFilterType)
        w.field("topicName", topicName)
        w.field("topicSysFlag", topicSysFlag)
        w.field("writeQueueNums", writeQueueNums)
        w.endObject()
    }

    /// Java `TopicConfig.encode`: `name read write perm filterType attributesJSON` (§8.2).
    public var lineFormat: String {
        var w = JSONWriter()
        w.beginObject()
        for k in attributes.keys.sorted() { w.key(k); w.value(attributes[k] ?? "") }
        w.endObject()
        return "\(topicName) \(readQueueNums) \(writeQueueNums) \(perm) \(topicFilterType) \(w.text)"
    }

    /// Java `TopicConfig.decode`; nil when fewer than five fields.
    public init?(lineFormat: String) {
        let parts = lineFormat.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count >= 5, let r = Int32(parts[1]), let wq = Int32(parts[2]), let p = Int32(parts[3]) else {
            return nil
        }
        self.init(topicName: String(parts[0]), readQueueNums: r, writeQueueNums: wq, perm: p,
                  topicFilterType: String(parts[4]))
        if parts.count == 6, let attrs = try? JSONValue.parse(String(parts[5])).objectValue {
            for (k, v) in attrs.members { if let key = k.text, let value = v.stringValue { attributes[key] = value } }
        }
    }
}

public struct TopicConfigSerializeWrapper: RemotingJSONBody, Equatable {
    public var topicConfigTable: [String: TopicConfig]
    public var dataVersion: DataVersion

    public init(topicConfigTable: [String: TopicConfig] = [:], dataVersion: DataVersion = DataVersion()) {
        self.topicConfigTable = topicConfigTable
        self.dataVersion = dataVersion
    }

    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("TopicConfigSerializeWrapper")
        var table: [String: TopicConfig] = [:]
        for (key, value) in o["topicConfigTable"]?.objectValue?.members ?? [] {
            guard let name = key.text else { continue }
            var config = try TopicConfig(json: value)
            if config.topicName.isEmpty { config.topicName = name }
            table[name] = config
        }
        topicConfigTable = table
        dataVersion = try o["dataVersion"].map { v throws(RemotingError) in try DataVersion(json: v) } ?? DataVersion()
    }

    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.key("dataVersion")
        dataVersion.writeJSON(to: &w)
        w.key("topicConfigTable")
        w.beginObject()
        for name in topicConfigTable.keys.sorted() {
            guard let c = topicConfigTable[name] else { continue }
            w.key(name)
            c.writeJSON(to: &w)
        }
        w.endObject()
        w.endObject()
    }
}
