// RegisterBrokerBody: what a broker sends with REGISTER_BROKER, as JSON or in the compressed binary form
// (spec remoting.md §8.2). Encoded by the broker's registration service, decoded by the NameServer; any task.

import NIOCore

public struct RegisterBrokerBody: RemotingJSONBody, Equatable {
    public var topicConfigSerializeWrapper: TopicConfigSerializeWrapper
    public var filterServerList: [String]

    /// Bound on the inflated size of a compressed body (the frame bound is 16 MiB; topic lines compress well).
    public static let inflatedBytesMax = 256 * 1024 * 1024

    public init(topicConfigSerializeWrapper: TopicConfigSerializeWrapper = .init(), filterServerList: [String] = []) {
        self.topicConfigSerializeWrapper = topicConfigSerializeWrapper
        self.filterServerList = filterServerList
    }

    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("RegisterBrokerBody")
        if let wrapper = o["topicConfigSerializeWrapper"] {
            topicConfigSerializeWrapper = try TopicConfigSerializeWrapper(json: wrapper)
        } else {
            // Brokers older than V3_0_11 send the bare wrapper.
            topicConfigSerializeWrapper = try TopicConfigSerializeWrapper(json: json)
        }
        filterServerList = (o["filterServerList"]?.arrayValue ?? []).compactMap(\.stringValue)
    }

    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.field("filterServerList", strings: filterServerList)
        w.key("topicConfigSerializeWrapper")
        topicConfigSerializeWrapper.writeJSON(to: &w)
        w.endObject()
    }

    /// Decodes a request body: compressed form when the header said so, JSON otherwise.
    public static func decode(_ body: ByteBuffer?, compressed: Bool, version: Int32) throws(RemotingError)
        -> RegisterBrokerBody
    {
        guard let body, body.readableBytes > 0 else { return RegisterBrokerBody() }
        if compressed {
            return try decodeCompressed(body.getBytes(at: body.readerIndex, length: body.readableBytes) ?? [],
                                        version: version)
        }
        return try decode(body)
    }

    /// The zlib form: DataVersion JSON, topic lines, filter servers, (>= V5_0_0) mapping infos.
    public func encodeCompressed(version: Int32 = Int32(MQVersion.current)) -> [UInt8]? {
        var out: [UInt8] = []
        func put(_ v: Int32) { withUnsafeBytes(of: v.bigEndian) { out.append(contentsOf: $0) } }
        func putBlock(_ bytes: [UInt8]) { put(Int32(bytes.count)); out.append(contentsOf: bytes) }
        var w = JSONWriter()
        topicConfigSerializeWrapper.dataVersion.writeJSON(to: &w)
        putBlock(w.bytes)
        let topics = topicConfigSerializeWrapper.topicConfigTable
        put(Int32(topics.count))
        for name in topics.keys.sorted() {
            guard let t = topics[name] else { continue }
            putBlock(Array(t.lineFormat.utf8))
        }
        var f = JSONWriter()
        f.beginArray()
        for s in filterServerList { f.value(s) }
        f.endArray()
        putBlock(f.bytes)
        if version >= Int32(MQVersion.v5_0_0) { put(0) }
        return Zlib.deflate(out)
    }

    public static func decodeCompressed(_ compressed: [UInt8], version: Int32) throws(RemotingError)
        -> RegisterBrokerBody
    {
        let raw = try Zlib.inflate(compressed, outputBytesMax: inflatedBytesMax)
        var index = 0
        func int32() throws(RemotingError) -> Int32 {
            guard index + 4 <= raw.count else { throw .malformedBody("compressed register body truncated") }
            let v = raw[index..<index + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            index += 4
            return Int32(bitPattern: v)
        }
        func block() throws(RemotingError) -> [UInt8] {
            let n = Int(try int32())
            guard n >= 0, index + n <= raw.count else { throw .malformedBody("compressed register body truncated") }
            defer { index += n }
            return Array(raw[index..<index + n])
        }
        let dataVersion = try DataVersion(json: try JSONValue.parse(String(decoding: try block(), as: UTF8.self)))
        let count = try int32()
        guard count >= 0 else { throw .malformedBody("negative topic count") }
        var table: [String: TopicConfig] = [:]
        for _ in 0..<count {
            let line = String(decoding: try block(), as: UTF8.self)
            guard let config = TopicConfig(lineFormat: line) else { throw .malformedBody("bad topic line \(line)") }
            table[config.topicName] = config
        }
        let filters = try JSONValue.parse(String(decoding: try block(), as: UTF8.self))
        // The >= V5_0_0 mapping section (static topics) is not used by Apus and is left unread.
        return RegisterBrokerBody(
            topicConfigSerializeWrapper: TopicConfigSerializeWrapper(topicConfigTable: table, dataVersion: dataVersion),
            filterServerList: (filters.arrayValue ?? []).compactMap(\.stringValue))
    }
}
