// StoredMessage: a decoded copy of one stored record (store.md §3.2), for the broker's paths that rebuild a
// message from a stored one (delay-level delivery, consumer send-back) and for tools. Decoding validates
// the record's structure with CStore (no CRC check: the bytes came from the store's own log); the fields
// come from Common's MessageDecoder, the one record decoder.
import Common
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
        // CStore checks the structure exactly as recovery does; Common's decoder reads the fields.
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
        var info = apus_record_info()
        guard apus_record_check(base, bytes.count, 0, &info) == APUS_RECORD_MESSAGE,
              let (m, _) = try? MessageDecoder.decode(bytes, at: 0) else { return nil }
        self.init(m)
    }

    /// The fields of a decoded message; properties are encoded again (names in byte order).
    public init(_ m: MessageExt) {
        topic = m.topic
        queueId = m.queueId
        flag = m.flag
        queueOffset = m.queueOffset
        physicalOffset = m.commitLogOffset
        sysFlag = m.sysFlag
        bornTimestampMs = m.bornTimestamp
        bornHost = m.bornHost
        storeTimestampMs = m.storeTimestamp
        storeHost = m.storeHost
        reconsumeTimes = m.reconsumeTimes
        preparedTransactionOffset = m.preparedTransactionOffset
        body = m.body
        properties = MessageProperties.encode(m.properties)
        storeSize = m.storeSize
    }

    public init?(_ result: SelectMappedBufferResult) { self.init(result.bytes) }

    /// The offset message id of this record (store.md §3.10).
    public var offsetMessageId: String { OffsetMessageId.make(host: storeHost, physicalOffset: physicalOffset) }
}
