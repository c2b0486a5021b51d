// StoredMessage → record bytes: re-encodes a decoded (and possibly edited) stored message in the
// CommitLog record format with every field as it stands — offsets and store time included — for
// bodies the broker builds rather than copies (CHECK_TRANSACTION_STATE, remoting.md §12.2: V1 magic
// and a one-byte topic length for any topic of up to 127 bytes).
import Common
import CStore

extension StoredMessage {
    /// The record bytes, or nil if the fields cannot form a record (empty or over-long topic, properties
    /// over 32 KiB).
    public func encodedRecord() -> [UInt8]? {
        var f = apus_record_fields()
        f.queue_id = queueId
        f.flag = flag
        f.queue_offset = queueOffset
        f.physical_offset = physicalOffset
        f.sys_flag = sysFlag
        f.reconsume_times = reconsumeTimes
        f.born_timestamp_ms = bornTimestampMs
        f.store_timestamp_ms = storeTimestampMs
        f.prepared_tx_offset = preparedTransactionOffset
        f.born_port = bornHost.port
        f.store_port = storeHost.port
        // The body came out of the store, so no size limit applies to it a second time.
        f.body_bytes_max = UInt32(Int32.max)
        func fill(_ host: MessageHost, _ out: UnsafeMutableRawBufferPointer) -> UInt8 {
            let bytes = host.addressBytes
            out.copyBytes(from: bytes)
            return UInt8(bytes.count)
        }
        f.born_host_len = withUnsafeMutableBytes(of: &f.born_host) { fill(bornHost, $0) }
        f.store_host_len = withUnsafeMutableBytes(of: &f.store_host) { fill(storeHost, $0) }
        var topicText = topic
        var propsText = properties
        return topicText.withUTF8 { t in
            propsText.withUTF8 { p in
                body.withUnsafeBufferPointer { b -> [UInt8]? in
                    f.point(topic: t, properties: p, body: b)
                    let len = apus_record_length(&f)
                    guard len > 0 else { return nil }
                    var failed = false
                    let bytes = [UInt8](unsafeUninitializedCapacity: Int(len)) { out, initialized in
                        let n = apus_record_encode(&f, out.baseAddress, out.count)
                        failed = n != len
                        initialized = failed ? 0 : Int(n)
                    }
                    return failed ? nil : bytes
                }
            }
        }
    }
}
