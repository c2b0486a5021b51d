// MessageExt: one stored message as a client sees it, decoded from the record bytes that PULL_MESSAGE,
// QUERY_MESSAGE and VIEW_MESSAGE_BY_ID return (spec remoting.md §12.1, §12.7, §13.1, §13.3), and the
// offset message id codec. Pure values; used by MQAdmin's message lookups and by `mqadmin`.

import Remoting

public struct MessageExt: Sendable, Equatable {
    public var topic: String
    public var queueId: Int32
    public var storeSize: Int32
    public var flag: Int32
    public var queueOffset: Int64
    public var commitLogOffset: Int64
    public var sysFlag: Int32
    public var bornTimestamp: Int64
    public var bornHost: String
    public var storeTimestamp: Int64
    public var storeHost: String
    public var reconsumeTimes: Int32
    public var preparedTransactionOffset: Int64
    public var bodyCRC: Int32
    public var body: [UInt8]
    public var properties: [String: String]
    /// hex(store host + port + commit-log offset), §13.1.
    public var offsetMsgId: String
    /// Broker name the message was read from, when known (set by pulls).
    public var brokerName: String?

    /// The id clients show: UNIQ_KEY when present, else the offset id.
    public var msgId: String { properties["UNIQ_KEY"] ?? offsetMsgId }
    public var tags: String? { properties["TAGS"] }
    public var keys: String? { properties["KEYS"] }
}

public enum MessageDecoder {
    static let magicV1: UInt32 = 0xDAA3_20A7
    static let magicV2: UInt32 = 0xDAA3_20AB

    /// Decodes concatenated records; a malformed record ends the batch (as the Java client does).
    public static func decodeAll(_ bytes: [UInt8]) -> [MessageExt] {
        var out: [MessageExt] = []
        var start = 0
        while start + 4 <= bytes.count {
            guard let (m, size) = decode(bytes, at: start) else { break }
            out.append(m)
            start += size
        }
        return out
    }

    /// One record at `start`; nil when it does not fit or does not parse.
    public static func decode(_ b: [UInt8], at start: Int) -> (MessageExt, Int)? {
        var r = Reader(bytes: b, at: start)
        guard let total = r.int32(), total > 0, start + Int(total) <= b.count,
              let magicRaw = r.int32(), let bodyCRC = r.int32(), let queueId = r.int32(), let flag = r.int32(),
              let queueOffset = r.int64(), let physical = r.int64(), let sysFlag = r.int32(), let born = r.int64()
        else { return nil }
        let magic = UInt32(bitPattern: magicRaw)
        guard magic == magicV1 || magic == magicV2,
              let bornHost = r.host(ipv6: sysFlag & 0x10 != 0), let store = r.int64(),
              let storeHostBytes = r.bytes(sysFlag & 0x20 != 0 ? 16 : 4), let storePort = r.int32(),
              let reconsume = r.int32(), let prepared = r.int64(), let bodyLen = r.int32(), bodyLen >= 0,
              var body = r.bytes(Int(bodyLen))
        else { return nil }
        if sysFlag & 0x1 != 0, let inflated = try? Zlib.inflate(body, outputBytesMax: 64 * 1024 * 1024) { body = inflated }
        let topicLen: Int
        if magic == magicV2 {
            guard let n = r.int16() else { return nil }
            topicLen = Int(n)
        } else {
            guard let n = r.int8() else { return nil }
            topicLen = Int(n)
        }
        guard topicLen >= 0, let topicBytes = r.bytes(topicLen), let propLen = r.int16(), propLen >= 0,
              let propBytes = r.bytes(Int(propLen))
        else { return nil }
        var idBytes = storeHostBytes
        idBytes += withUnsafeBytes(of: storePort.bigEndian, Array.init)
        idBytes += withUnsafeBytes(of: physical.bigEndian, Array.init)
        let m = MessageExt(
            topic: String(decoding: topicBytes, as: UTF8.self), queueId: queueId, storeSize: total, flag: flag,
            queueOffset: queueOffset, commitLogOffset: physical, sysFlag: sysFlag & ~0x1, bornTimestamp: born,
            bornHost: bornHost, storeTimestamp: store, storeHost: hostText(storeHostBytes, port: storePort),
            reconsumeTimes: reconsume, preparedTransactionOffset: prepared, bodyCRC: bodyCRC, body: body,
            properties: parseProperties(String(decoding: propBytes, as: UTF8.self)),
            offsetMsgId: hex(idBytes), brokerName: nil)
        return (m, Int(total))
    }

    /// `name\u{1}value\u{2}` pairs (§13.3).
    public static func parseProperties(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for segment in text.split(separator: "\u{2}") where segment.count >= 3 {
            guard let sep = segment.firstIndex(of: "\u{1}") else { continue }
            let name = String(segment[..<sep])
            let value = String(segment[segment.index(after: sep)...])
            if !name.isEmpty && !value.isEmpty { out[name] = value }
        }
        return out
    }

    public static func encodeProperties(_ props: [(String, String)]) -> String {
        props.map { "\($0.0)\u{1}\($0.1)\u{2}" }.joined()
    }

    static func hostText(_ address: [UInt8], port: Int32) -> String {
        if address.count == 4 { return address.map { String($0) }.joined(separator: ".") + ":\(port)" }
        var groups: [String] = []
        for i in stride(from: 0, to: address.count - 1, by: 2) {
            groups.append(String(UInt16(address[i]) << 8 | UInt16(address[i + 1]), radix: 16))
        }
        return groups.joined(separator: ":") + ":\(port)"
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789ABCDEF")
        var s = ""
        s.reserveCapacity(bytes.count * 2)
        for b in bytes { s.append(digits[Int(b >> 4)]); s.append(digits[Int(b & 0xF)]) }
        return s
    }

    /// Splits an offset message id into the store address and commit-log offset; nil when it is not one.
    public static func decodeOffsetMsgId(_ id: String) -> (address: String, offset: Int64)? {
        let chars = Array(id.utf8)
        guard chars.count == 32 || chars.count == 56 else { return nil }
        var bytes: [UInt8] = []
        var i = 0
        while i < chars.count {
            guard let hi = hexValue(chars[i]), let lo = hexValue(chars[i + 1]) else { return nil }
            bytes.append(hi << 4 | lo)
            i += 2
        }
        let ipLen = bytes.count == 16 ? 4 : 16
        var r = Reader(bytes: bytes, at: ipLen)
        guard let port = r.int32(), let offset = r.int64(), port > 0, port <= 65535, offset >= 0 else { return nil }
        return (hostText(Array(bytes[0..<ipLen]), port: port), offset)
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}

/// Big-endian reads that fail instead of trapping at the end of the buffer.
struct Reader {
    let bytes: [UInt8]
    var at: Int

    mutating func bytes(_ n: Int) -> [UInt8]? {
        guard n >= 0, at + n <= bytes.count else { return nil }
        defer { at += n }
        return Array(bytes[at..<at + n])
    }
    mutating func int8() -> Int8? { bytes(1).map { Int8(bitPattern: $0[0]) } }
    mutating func int16() -> Int16? { bytes(2).map { Int16(bitPattern: UInt16($0[0]) << 8 | UInt16($0[1])) } }
    mutating func int32() -> Int32? { bytes(4).map { Int32(bitPattern: $0.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }) } }
    mutating func int64() -> Int64? { bytes(8).map { Int64(bitPattern: $0.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }) } }
    mutating func host(ipv6: Bool) -> String? {
        guard let a = bytes(ipv6 ? 16 : 4), let port = int32() else { return nil }
        return MessageDecoder.hostText(a, port: port)
    }
}
