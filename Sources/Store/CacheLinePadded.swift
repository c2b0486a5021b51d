// CacheLinePadded: a value alone on its cache lines. The CommitLog's put lock is taken and released by
// the writer on every put while the dispatcher and flusher poll the published offsets; sharing a line
// made every unlock (a locked cmpxchg) wait for the line to come back from the other core (measured:
// ~120 ns of a ~900 ns put). Boxing each hot value with 128 bytes on either side keeps writers and
// readers of different values off each other's lines.

final class CacheLinePadded<Value: ~Copyable & Sendable>: Sendable {
    private let before: (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64,
                         Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    let value: Value
    private let after: (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64,
                        Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

    init(_ value: consuming Value) { self.value = value }
}
