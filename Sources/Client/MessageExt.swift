// MessageExt: a message as a consumer sees it — the stored record's fields (queue, offsets, hosts,
// timestamps, reconsumeTimes) plus the message. Decoded by MessageDecoder; handed to listeners on any task.

import Remoting

public struct MessageExt: Sendable, CustomStringConvertible {
    public var message: Message
    public var brokerName: String = ""
    public var queueId: Int32 = 0
    public var storeSize: Int32 = 0
    public var queueOffset: Int64 = 0
    /// Stored sysFlag (compression bits kept so callers can see how the record was stored).
    public var sysFlag: Int32 = 0
    public var bornTimestamp: Int64 = 0
    public var bornHost: String = ""
    public var storeTimestamp: Int64 = 0
    public var storeHost: String = ""
    /// Commit-log offset of the record.
    public var commitLogOffset: Int64 = 0
    public var bodyCRC: Int32 = 0
    public var reconsumeTimes: Int32 = 0
    public var preparedTransactionOffset: Int64 = 0
    /// hex(storeHost ip + port + commitLogOffset).
    public var offsetMsgId: String = ""

    public var topic: String {
        get { message.topic }
        set { message.topic = newValue }
    }
    public var body: [UInt8] { message.body }
    public var tags: String? { message.tags }
    public var keys: [String] { message.keys }
    public var properties: [String: String] { message.properties }
    public var flag: Int32 { message.flag }
    public var transactionId: String? { message.transactionId }
    /// UNIQ_KEY when present, else the offset id.
    public var msgId: String { message.uniqueKey ?? offsetMsgId }
    /// The compression the record was stored with, if any.
    public var storedCompression: CompressionType? {
        sysFlag & CompressionType.compressedFlag != 0 ? CompressionType.of(sysFlag: sysFlag) : nil
    }

    public init(message: Message) { self.message = message }

    /// Java `MessageExt.toString` shape.
    public var description: String {
        let props = message.properties.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        return "MessageExt [brokerName=\(brokerName), queueId=\(queueId), storeSize=\(storeSize), queueOffset=\(queueOffset), "
            + "sysFlag=\(sysFlag), bornTimestamp=\(bornTimestamp), bornHost=/\(bornHost), storeTimestamp=\(storeTimestamp), "
            + "storeHost=/\(storeHost), msgId=\(msgId), commitLogOffset=\(commitLogOffset), bodyCRC=\(bodyCRC), "
            + "reconsumeTimes=\(reconsumeTimes), preparedTransactionOffset=\(preparedTransactionOffset), "
            + "toString()=Message{topic='\(message.topic)', flag=\(message.flag), properties={\(props)}, "
            + "body=[\(message.body.prefix(64).map { String(Int8(bitPattern: $0)) }.joined(separator: ", "))"
            + "\(message.body.count > 64 ? ", ..." : "")], transactionId='null'}]"
    }
}

/// Decodes stored records (spec remoting.md §12.7).
enum MessageDecoder {
    static let magicV1: UInt32 = 0xDAA3_20A7
    static let magicV2: UInt32 = 0xDAA3_20AB
    private static let hex: [UInt8] = Array("0123456789ABCDEF".utf8)

    private struct Reader {
        let b: UnsafeRawBufferPointer
        var at: Int
        mutating func need(_ n: Int) throws(MQClientError) {
            guard n >= 0, at + n <= b.count else { throw .illegalArgument("record truncated") }
        }
        mutating func i32() throws(MQClientError) -> Int32 {
            try need(4)
            defer { at += 4 }
            return Int32(bitPattern: UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3]))
        }
        mutating func i64() throws(MQClientError) -> Int64 {
            let hi = UInt64(UInt32(bitPattern: try i32()))
            let lo = UInt64(UInt32(bitPattern: try i32()))
            return Int64(bitPattern: hi << 32 | lo)
        }
        mutating func bytes(_ n: Int) throws(MQClientError) -> ArraySlice<UInt8> {
            try need(n)
            defer { at += n }
            return ArraySlice(UnsafeRawBufferPointer(rebasing: b[at..<at + n]))
        }
        mutating func host(ipv6: Bool) throws(MQClientError) -> (text: String, raw: [UInt8]) {
            let ip = Array(try bytes(ipv6 ? 16 : 4))
            let port = try i32()
            let p = UInt32(bitPattern: port)
            let raw = ip + [UInt8(p >> 24), UInt8((p >> 16) & 0xFF), UInt8((p >> 8) & 0xFF), UInt8(p & 0xFF)]
            let text: String
            if ipv6 {
                text = stride(from: 0, to: 16, by: 2).map { String(UInt16(ip[$0]) << 8 | UInt16(ip[$0 + 1]), radix: 16) }
                    .joined(separator: ":")
            } else {
                text = ip.map { String($0) }.joined(separator: ".")
            }
            return (text + ":\(port)", raw)
        }
    }

    /// Every record of a pull body; a bad record stops decoding (the rest is dropped, like Java).
    static func decodeAll(_ bytes: [UInt8], decompress: Bool = true) -> [MessageExt] {
        var out: [MessageExt] = []
        bytes.withUnsafeBytes { raw in
            var start = 0
            while start < raw.count {
                do {
                    let (m, size) = try decodeOne(raw, at: start, decompress: decompress)
                    out.append(m)
                    start += size
                } catch {
                    break
                }
            }
        }
        return out
    }

    static func decodeOne(_ raw: UnsafeRawBufferPointer, at start: Int, decompress: Bool) throws(MQClientError)
        -> (MessageExt, Int)
    {
        var r = Reader(b: raw, at: start)
        let total = try r.i32()
        guard total > 0, start + Int(total) <= raw.count else { throw .illegalArgument("bad record size \(total)") }
        let magic = UInt32(bitPattern: try r.i32())
        guard magic == magicV1 || magic == magicV2 else { throw .illegalArgument("bad magic") }
        var m = MessageExt(message: Message(topic: "", body: []))
        m.storeSize = total
        m.bodyCRC = try r.i32()
        m.queueId = try r.i32()
        m.message.flag = try r.i32()
        m.queueOffset = try r.i64()
        m.commitLogOffset = try r.i64()
        m.sysFlag = try r.i32()
        m.bornTimestamp = try r.i64()
        m.bornHost = try r.host(ipv6: m.sysFlag & 0x10 != 0).text
        m.storeTimestamp = try r.i64()
        let store = try r.host(ipv6: m.sysFlag & 0x20 != 0)
        m.storeHost = store.text
        m.reconsumeTimes = try r.i32()
        m.preparedTransactionOffset = try r.i64()
        let bodyLen = Int(try r.i32())
        var body = Array(try r.bytes(bodyLen))
        if decompress, m.sysFlag & CompressionType.compressedFlag != 0 {
            body = try CompressionType.of(sysFlag: m.sysFlag).decompress(body)
        }
        m.message.body = body
        let topicLen: Int
        if magic == magicV2 {
            let b = Array(try r.bytes(2))
            topicLen = Int(Int16(bitPattern: UInt16(b[0]) << 8 | UInt16(b[1])))
        } else {
            topicLen = Int(Int8(bitPattern: try r.bytes(1).first ?? 0))
        }
        m.message.topic = String(decoding: try r.bytes(topicLen), as: UTF8.self)
        try r.need(2)
        let propLen = Int(Int16(bitPattern: UInt16(raw[r.at]) << 8 | UInt16(raw[r.at + 1])))
        r.at += 2
        m.message.properties = MessageProperties.decode(try r.bytes(propLen))
        var id: [UInt8] = []
        for b in store.raw { id.append(hex[Int(b >> 4)]); id.append(hex[Int(b & 0xF)]) }
        let off = UInt64(bitPattern: m.commitLogOffset)
        for shift in stride(from: 56, through: 0, by: -8) {
            let b = UInt8((off >> UInt64(shift)) & 0xFF)
            id.append(hex[Int(b >> 4)]); id.append(hex[Int(b & 0xF)])
        }
        m.offsetMsgId = String(decoding: id, as: UTF8.self)
        return (m, Int(total))
    }

    /// The commit-log offset inside an offset message id (32 hex chars for an IPv4 store host, 56 for
    /// IPv6: the last 16 are the offset); nil for anything else.
    static func commitLogOffset(ofMessageId id: String) -> Int64? {
        let chars = Array(id.utf8)
        guard chars.count == 32 || chars.count == 56 else { return nil }
        var value: UInt64 = 0
        for c in chars.suffix(16) {
            let digit: UInt8
            switch c {
            case 0x30...0x39: digit = c - 0x30
            case 0x41...0x46: digit = c - 0x41 + 10
            case 0x61...0x66: digit = c - 0x61 + 10
            default: return nil
            }
            value = value << 4 | UInt64(digit)
        }
        return Int64(bitPattern: value)
    }

    /// Batch body of SEND_BATCH_MESSAGE (remoting.md §9.2).
    static func encodeBatch(_ messages: [Message]) -> [UInt8] {
        var out: [UInt8] = []
        func put32(_ v: Int32) {
            let u = UInt32(bitPattern: v)
            out += [UInt8(u >> 24), UInt8((u >> 16) & 0xFF), UInt8((u >> 8) & 0xFF), UInt8(u & 0xFF)]
        }
        for m in messages {
            let props = Array(MessageProperties.encode(m.properties).utf8)
            put32(Int32(20 + m.body.count + 2 + props.count))
            put32(0); put32(0); put32(m.flag); put32(Int32(m.body.count))
            out += m.body
            out += [UInt8(props.count >> 8 & 0xFF), UInt8(props.count & 0xFF)]
            out += props
        }
        return out
    }
}
