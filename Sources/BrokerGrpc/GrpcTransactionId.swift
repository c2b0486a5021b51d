// GrpcTransactionId: the transaction_id a transactional send answers with and EndTransaction names the half
// message by: `<commitLogOffset> <halfQueueOffset>` (what END_TRANSACTION's header carries), as text.

struct GrpcTransactionId: Sendable, Equatable {
    var commitLogOffset: Int64
    var halfQueueOffset: Int64

    var text: String { "\(commitLogOffset) \(halfQueueOffset)" }

    init(commitLogOffset: Int64, halfQueueOffset: Int64) {
        self.commitLogOffset = commitLogOffset
        self.halfQueueOffset = halfQueueOffset
    }

    /// Nil for text that is no id of ours.
    init?(_ text: String) {
        let parts = text.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 2, let c = Int64(parts[0]), let q = Int64(parts[1]), c >= 0, q >= 0 else { return nil }
        self.init(commitLogOffset: c, halfQueueOffset: q)
    }
}
