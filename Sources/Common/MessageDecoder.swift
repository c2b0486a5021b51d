// MessageDecoder: stored message records to MessageExt — the bytes of a pull body, QUERY_MESSAGE and
// VIEW_MESSAGE_BY_ID answers and CHECK_TRANSACTION_STATE bodies (store.md §3.2, remoting.md §12.7). Every
// read is bounds-checked and a bad record is a MessageDecodingError naming the field, never a trap.
// Bodies come back as stored: decompression (sysFlag 0x1 / compression type) is the client's business.
// Pure functions; called on any task.
//
// Layout (big-endian), v2 magic, IPv4 hosts, topic "T", body "hi", properties "TAGS\u{1}A\u{2}":
//   00000066 DAA320AB <bodyCRC 4> <queueId 4> <flag 4> <queueOffset 8> <physicalOffset 8> <sysFlag 4>
//   <bornTimestamp 8> <bornHost 4 + port 4> <storeTimestamp 8> <storeHost 4 + port 4> <reconsume 4>
//   <preparedTxOffset 8> 00000002 6869 | 0001 54 | 0007 54414753 01 41 02
// v1 magic (DAA320A7) has a one-byte topic length; sysFlag 0x10 / 0x20 make the born / store host 16 bytes.

public struct MessageDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        /// The bytes end inside `field`.
        case truncated(field: String)
        /// The total size is not positive or runs past the bytes given.
        case badTotalSize(Int32)
        case badMagic(UInt32)
        /// A length field (`field`) is negative.
        case negativeLength(field: String)
    }
    public var reason: Reason
    /// Where the record starts in the bytes given.
    public var recordStart: Int

    public init(reason: Reason, recordStart: Int) {
        self.reason = reason
        self.recordStart = recordStart
    }

    public var description: String {
        switch reason {
        case .truncated(let f): return "message record at \(recordStart) truncated in \(f)"
        case .badTotalSize(let n): return "message record at \(recordStart) has bad total size \(n)"
        case .badMagic(let m): return "message record at \(recordStart) has bad magic 0x\(String(m, radix: 16, uppercase: true))"
        case .negativeLength(let f): return "message record at \(recordStart) has a negative \(f) length"
        }
    }
}

public enum MessageDecoder {
    public static let magicV1: UInt32 = 0xDAA3_20A7
    public static let magicV2: UInt32 = 0xDAA3_20AB
    /// sysFlag bits naming 16-byte (IPv6) born and store hosts.
    public static let bornHostV6Flag: Int32 = 0x10
    public static let storeHostV6Flag: Int32 = 0x20

    /// Every record of concatenated record bytes; a bad record ends the batch (the rest is dropped, as
    /// the Java client does).
    public static func decodeAll(_ bytes: [UInt8]) -> [MessageExt] {
        bytes.withUnsafeBytes { raw in
            var out: [MessageExt] = []
            var start = 0
            while start < raw.count, let (m, size) = try? decode(raw, at: start) {
                out.append(m)
                start += size
            }
            return out
        }
    }

    /// The record at `start` and the bytes it occupies.
    public static func decode(_ bytes: [UInt8], at start: Int = 0) throws(MessageDecodingError) -> (MessageExt, Int) {
        let result = bytes.withUnsafeBytes { raw -> Result<(MessageExt, Int), MessageDecodingError> in
            do throws(MessageDecodingError) { return .success(try decode(raw, at: start)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    public static func decode(_ raw: UnsafeRawBufferPointer, at start: Int) throws(MessageDecodingError) -> (MessageExt, Int) {
        var r = RecordReader(bytes: raw, at: start, recordStart: start)
        let total = try r.int32("TOTALSIZE")
        guard total > 0, start <= raw.count, Int(total) <= raw.count - start else {
            throw MessageDecodingError(reason: .badTotalSize(total), recordStart: start)
        }
        // The record's own size bounds every later read, so a bad length cannot reach the next record.
        r = RecordReader(bytes: UnsafeRawBufferPointer(rebasing: raw[start..<start + Int(total)]), at: 4, recordStart: start)
        let magic = UInt32(bitPattern: try r.int32("MAGICCODE"))
        guard magic == magicV1 || magic == magicV2 else { throw MessageDecodingError(reason: .badMagic(magic), recordStart: start) }
        var m = MessageExt(message: Message(topic: "", body: []))
        m.storeSize = total
        m.bodyCRC = try r.int32("BODYCRC")
        m.queueId = try r.int32("QUEUEID")
        m.message.flag = try r.int32("FLAG")
        m.queueOffset = try r.int64("QUEUEOFFSET")
        m.commitLogOffset = try r.int64("PHYSICALOFFSET")
        m.sysFlag = try r.int32("SYSFLAG")
        m.bornTimestamp = try r.int64("BORNTIMESTAMP")
        m.bornHost = try r.host(ipv6: m.sysFlag & bornHostV6Flag != 0, "BORNHOST")
        m.storeTimestamp = try r.int64("STORETIMESTAMP")
        m.storeHost = try r.host(ipv6: m.sysFlag & storeHostV6Flag != 0, "STOREHOST")
        m.reconsumeTimes = try r.int32("RECONSUMETIMES")
        m.preparedTransactionOffset = try r.int64("PREPAREDTRANSACTIONOFFSET")
        m.message.body = Array(try r.bytes(Int(try r.int32("BODYLENGTH")), "BODY"))
        let topicLength = magic == magicV2 ? Int(try r.int16("TOPICLENGTH")) : Int(try r.uint8("TOPICLENGTH"))
        m.message.topic = String(decoding: try r.bytes(topicLength, "TOPIC"), as: UTF8.self)
        let propertiesLength = Int(try r.int16("PROPERTIESLENGTH"))
        m.message.properties = MessageProperties.decode(try r.bytes(propertiesLength, "PROPERTIES"))
        return (m, Int(total))
    }
}

/// Big-endian reads that throw instead of trapping at the end of the bytes.
struct RecordReader {
    let bytes: UnsafeRawBufferPointer
    var at: Int
    let recordStart: Int

    mutating func bytes(_ n: Int, _ field: String) throws(MessageDecodingError) -> UnsafeRawBufferPointer {
        guard n >= 0 else { throw MessageDecodingError(reason: .negativeLength(field: field), recordStart: recordStart) }
        guard at <= bytes.count, n <= bytes.count - at else {
            throw MessageDecodingError(reason: .truncated(field: field), recordStart: recordStart)
        }
        defer { at += n }
        return UnsafeRawBufferPointer(rebasing: bytes[at..<at + n])
    }

    private mutating func be<T: FixedWidthInteger>(_: T.Type, _ field: String) throws(MessageDecodingError) -> T {
        let b = try bytes(MemoryLayout<T>.size, field)
        return b.reduce(T(0)) { $0 << 8 | T($1) }
    }

    mutating func uint8(_ field: String) throws(MessageDecodingError) -> UInt8 { try be(UInt8.self, field) }
    mutating func int16(_ field: String) throws(MessageDecodingError) -> Int16 { Int16(bitPattern: try be(UInt16.self, field)) }
    mutating func int32(_ field: String) throws(MessageDecodingError) -> Int32 { Int32(bitPattern: try be(UInt32.self, field)) }
    mutating func int64(_ field: String) throws(MessageDecodingError) -> Int64 { Int64(bitPattern: try be(UInt64.self, field)) }

    mutating func host(ipv6: Bool, _ field: String) throws(MessageDecodingError) -> MessageHost {
        let address = try bytes(ipv6 ? 16 : 4, field)
        let port = try int32(field + " port")
        // 4 or 16 bytes were just read, which MessageHost always accepts.
        return MessageHost(addressBytes: address, port: port) ?? .loopback
    }
}
