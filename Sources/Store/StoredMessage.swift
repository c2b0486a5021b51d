// StoredMessage: a decoded copy of one stored record (store.md §3.2), for the broker's paths that rebuild a
// message from a stored one (delay-level delivery, consumer send-back) and for tools. Decoding validates
// the record's structure with CStore (no CRC check: the bytes came from the store's own log).
import CStore

public struct StoredMessage: Sendable {
    public var topic: String
    public var queueId: Int32
    public var flag: Int32
    public var queueOffset: Int64
    public var physicalOffset: Int64
    public var sysFlag: Int32
    public var bornTimestampMs: Int64
    public var bornHost: MessageHost
    public var storeTimestampMs: Int64
    public var storeHost: MessageHost
    public var reconsumeTimes: Int32
    public var preparedTransactionOffset: Int64
    public var body: [UInt8]
    /// Encoded properties (name \u{1} value \u{2} ...).
    public var properties: String
    /// Bytes the record occupies.
    public var storeSize: Int32

    /// Decodes the record at the start of `bytes`; nil if it is not a whole, valid message record.
    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
        var info = apus_record_info()
        guard apus_record_check(base, bytes.count, 0, &info) == APUS_RECORD_MESSAGE else { return nil }
        func slice(_ pos: UInt32, _ len: UInt32) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(start: base + Int(pos), count: Int(len))
        }
        func host(_ pos: UInt32, _ len: UInt32, _ port: Int32) -> MessageHost {
            let b = slice(pos, len)
            if len == 4 {
                return MessageHost(.v4(b.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }), port: port)
            }
            let hi = b[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let lo = b[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            return MessageHost(.v6(hi, lo), port: port)
        }
        topic = String(decoding: slice(info.topic_pos, info.topic_len), as: UTF8.self)
        queueId = info.queue_id
        flag = info.flag
        queueOffset = info.queue_offset
        physicalOffset = info.physical_offset
        sysFlag = info.sys_flag
        bornTimestampMs = info.born_timestamp_ms
        bornHost = host(info.born_host_pos, info.born_host_len, info.born_port)
        storeTimestampMs = info.store_timestamp_ms
        storeHost = host(info.store_host_pos, info.store_host_len, info.store_port)
        reconsumeTimes = info.reconsume_times
        preparedTransactionOffset = info.prepared_tx_offset
        body = Array(slice(info.body_pos, info.body_len))
        properties = String(decoding: slice(info.props_pos, info.props_len), as: UTF8.self)
        storeSize = info.total_size
    }

    public init?(_ result: SelectMappedBufferResult) { self.init(result.bytes) }

    /// The offset message id of this record (store.md §3.10).
    public var offsetMessageId: String { OffsetMessageId.make(host: storeHost, physicalOffset: physicalOffset) }
}
