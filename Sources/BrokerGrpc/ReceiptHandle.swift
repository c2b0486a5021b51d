// ReceiptHandle: what a received message's receipt_handle says, as text the client hands back unchanged
// on ack and ChangeInvisibleDuration: `<queueId> <queueOffset> <deliverySeq>`. The delivery sequence is new
// at each delivery and each change of invisible duration, so a handle of an earlier delivery no longer acks.

struct ReceiptHandle: Sendable, Equatable {
    var queueId: Int32
    var queueOffset: Int64
    var deliverySeq: Int64

    var text: String { "\(queueId) \(queueOffset) \(deliverySeq)" }

    init(queueId: Int32, queueOffset: Int64, deliverySeq: Int64) {
        self.queueId = queueId
        self.queueOffset = queueOffset
        self.deliverySeq = deliverySeq
    }

    /// Nil for text that is no handle of ours.
    init?(_ text: String) {
        let parts = text.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, let q = Int32(parts[0]), let o = Int64(parts[1]), let s = Int64(parts[2]),
              q >= 0, o >= 0 else { return nil }
        self.init(queueId: q, queueOffset: o, deliverySeq: s)
    }
}
