// MessageEncoder: turns a MessageToStore (or each item of a batch) into RocketMQ record bytes with
// CStore's encoder, before the put lock: CRC and copying happen here, so under the lock only offsets
// are patched and bytes copied (store.md §3.8). Runs on the caller's thread and encodes into that
// thread's scratch buffer (apus_scratch), so a put allocates nothing for its bytes.
import Common
import CStore
import Glibc

/// Encoded records in the calling thread's scratch buffer: valid on this thread until its next encode,
/// so a put encodes and appends without passing them to another thread or across a suspension point.
// Sendable because: never sent anywhere; the conformance only lets the put lock's closure read the
// pointer on the thread that owns the buffer.
struct EncodedMessages: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<UInt8>
    /// Length of all records (the body included when `body` is set).
    let length: Int
    let count: Int
    /// A single record encoded without its body (apus_record_encode_split): `pointer` holds the fixed part
    /// (`bodyAt` bytes) then the topic/properties part, and the put lock copies the body from here. Valid
    /// only inside the caller's `withUnsafeBufferPointer` over the message body.
    var body: UnsafeBufferPointer<UInt8>? = nil
    var bodyAt: Int = 0
}

enum EncodeFailure: Error {
    case messageIllegal(String)
    case propertiesSizeExceeded(String)

    var result: PutMessageResult {
        switch self {
        case .messageIllegal(let why): return PutMessageResult(status: .messageIllegal, remark: why)
        case .propertiesSizeExceeded(let why): return PutMessageResult(status: .propertiesSizeExceeded, remark: why)
        }
    }
}

struct MessageEncoder {
    let storeHost: MessageHost
    let bodyBytesMax: Int32

    private func fillHost(_ host: MessageHost, _ bytes: inout (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                                                             UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)) -> UInt8 {
        withUnsafeMutableBytes(of: &bytes) { raw in
            switch host.address {
            case .v4(let a):
                raw.storeBytes(of: a.bigEndian, as: UInt32.self)
                return 4
            case .v6(let h, let l):
                raw.storeBytes(of: h.bigEndian, as: UInt64.self)
                raw.storeBytes(of: l.bigEndian, toByteOffset: 8, as: UInt64.self)
                return 16
            }
        }
    }

    private func baseFields(sysFlag: Int32, bornTimestampMs: Int64, bornHost: MessageHost, reconsumeTimes: Int32,
                            queueId: Int32) -> apus_record_fields {
        var f = apus_record_fields()
        f.queue_id = queueId
        f.sys_flag = sysFlag
        f.reconsume_times = reconsumeTimes
        f.born_timestamp_ms = bornTimestampMs
        f.born_host_len = fillHost(bornHost, &f.born_host)
        f.born_port = bornHost.port
        f.store_host_len = fillHost(storeHost, &f.store_host)
        f.store_port = storeHost.port
        f.body_bytes_max = UInt32(bodyBytesMax)
        return f
    }

    private static func describe(_ rc: Int64, bodyCount: Int, max: Int32) -> EncodeFailure {
        switch Int32(-rc) {
        case E2BIG: return .propertiesSizeExceeded("properties longer than \(StoreLimits.propertiesBytesMax) bytes")
        case EMSGSIZE: return .messageIllegal("message body of \(bodyCount) bytes exceeds maxMessageSize \(max)")
        default: return .messageIllegal("illegal message fields (topic length or host)")
        }
    }

    /// Encodes one message around `body` (the message's body bytes, which the caller keeps alive until the
    /// append is done): the header, topic and properties go to the scratch buffer, the body is copied once,
    /// under the put lock, straight into the log.
    func encode(_ m: MessageToStore, body b: UnsafeBufferPointer<UInt8>) throws(EncodeFailure) -> EncodedMessages {
        var f = baseFields(sysFlag: m.sysFlag, bornTimestampMs: m.bornTimestampMs, bornHost: m.bornHost,
                           reconsumeTimes: m.reconsumeTimes, queueId: m.queueId)
        f.flag = m.flag
        f.prepared_tx_offset = m.preparedTransactionOffset
        var topic = m.topic
        var props = m.properties
        let result: Result<EncodedMessages, EncodeFailure> = topic.withUTF8 { t in
            props.withUTF8 { p in
                f.point(topic: t, properties: p, body: b)
                let len = apus_record_length(&f)
                if len < 0 { return .failure(Self.describe(len, bodyCount: b.count, max: bodyBytesMax)) }
                let headBytes = Int(len) - b.count
                guard let out = apus_scratch(headBytes) else { return .failure(.messageIllegal("out of memory encoding \(len) bytes")) }
                var bodyAt: UInt32 = 0
                let n = apus_record_encode_split(&f, out, headBytes, &bodyAt)
                precondition(n == len)
                return .success(EncodedMessages(pointer: out, length: Int(len), count: 1, body: b, bodyAt: Int(bodyAt)))
            }
        }
        switch result {
        case .success(let e): return e
        case .failure(let e): throw e
        }
    }

    /// Expands a client batch body into one record per item (store.md §3.9).
    func encode(_ batch: MessageBatchToStore) throws(EncodeFailure) -> EncodedMessages {
        if batch.body.count > Int(bodyBytesMax) {
            throw .messageIllegal("batch body of \(batch.body.count) bytes exceeds maxMessageSize \(bodyBytesMax)")
        }
        var f = baseFields(sysFlag: batch.sysFlag, bornTimestampMs: batch.bornTimestampMs, bornHost: batch.bornHost,
                           reconsumeTimes: batch.reconsumeTimes, queueId: batch.queueId)
        var topic = batch.topic
        let result: Result<EncodedMessages, EncodeFailure> = topic.withUTF8 { t in
            batch.body.withUnsafeBufferPointer { body in
                f.topic = t.baseAddress
                f.topic_len = UInt32(t.count)
                guard let base = body.baseAddress, body.count > 0 else { return .failure(.messageIllegal("empty batch")) }
                // First pass: validate items and size the output.
                var items: [apus_batch_item] = []
                var total = 0
                var at = 0
                while at < body.count {
                    var item = apus_batch_item()
                    let n = apus_batch_item_read(base + at, body.count - at, &item)
                    if n <= 0 { return .failure(.messageIllegal("malformed batch item at byte \(at)")) }
                    f.body = base + at + Int(item.body_pos)
                    f.body_len = item.body_len
                    f.props = base + at + Int(item.props_pos)
                    f.props_len = item.props_len
                    let len = apus_record_length(&f)
                    if len < 0 { return .failure(Self.describe(len, bodyCount: Int(item.body_len), max: bodyBytesMax)) }
                    total += Int(len)
                    items.append(item)
                    at += Int(n)
                }
                var itemStart = 0
                guard let out = apus_scratch(total) else { return .failure(.messageIllegal("out of memory encoding \(total) bytes")) }
                var written = 0
                for item in items {
                    let itemBase = base + itemStart
                    f.flag = item.flag
                    f.body = itemBase + Int(item.body_pos)
                    f.body_len = item.body_len
                    f.props = itemBase + Int(item.props_pos)
                    f.props_len = item.props_len
                    let n = apus_record_encode(&f, out + written, total - written)
                    precondition(n > 0)
                    written += Int(n)
                    itemStart += Int(item.props_pos + item.props_len)
                }
                precondition(written == total)
                return .success(EncodedMessages(pointer: out, length: total, count: items.count))
            }
        }
        switch result {
        case .success(let e): return e
        case .failure(let e): throw e
        }
    }
}

extension apus_record_fields {
    /// Points the variable-length parts at borrowed bytes; valid only while those buffers are.
    mutating func point(topic: UnsafeBufferPointer<UInt8>, properties: UnsafeBufferPointer<UInt8>, body: UnsafeBufferPointer<UInt8>) {
        self.topic = topic.baseAddress
        topic_len = UInt32(topic.count)
        props = properties.baseAddress
        props_len = UInt32(properties.count)
        self.body = body.baseAddress
        body_len = UInt32(body.count)
    }
}
