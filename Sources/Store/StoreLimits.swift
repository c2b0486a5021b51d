// StoreLimits: the Swift side's fixed limits, each with where it comes from and what happens at it.
// Layout constants mirror Sources/CStore/include/apus_limits.h (one source of truth for bytes).
import CStore

public enum StoreLimits {
    /// ConsumeQueue store unit in bytes (store.md §6.1).
    public static let consumeQueueUnitBytes = Int64(APUS_CQ_UNIT_BYTES)
    /// Bytes kept free after the last record of a CommitLog segment for the BLANK filler (store.md §3.6).
    public static let blankBytesMin = Int64(APUS_BLANK_BYTES_MIN)
    /// Room for everything but the body in one record (store.md §3.7).
    public static let recordHeaderBytesReserved = Int(APUS_RECORD_HEADER_BYTES_RESERVED)
    /// Properties are prefixed by a signed short (store.md §3.4): longer => PROPERTIES_SIZE_EXCEEDED.
    public static let propertiesBytesMax = Int(APUS_PROPS_BYTES_MAX)
    /// Pending SYNC_FLUSH requests the group-commit queue holds; beyond it puts get `.flushQueueFull`
    /// (the broker answers SYSTEM_BUSY) instead of the queue growing.
    public static let groupCommitRequestsMax = 65_536
    /// How long a writer waits for the allocator's next segment before CREATE_MAPPED_FILE_FAILED (store.md §5).
    public static let allocateWaitMs: Int64 = 5_000
    /// Index query results are capped at maxMsgsNumBatch (store.md §7.5).
    public static let indexQueryResultsMax = 64
    /// Dispatch reads at most this many bytes per pass before checking for stop and shutdown.
    public static let dispatchPassBytesMax: Int64 = 8 << 20
    /// How late the async commit and flush services answer a put's wake-up, so that a burst of puts
    /// signals them once (ServiceThread.waitForRunning(_:coalescingNs:)); dispatch polls at 1 ms anyway.
    public static let wakeupCoalescingNs: UInt64 = 1_000_000
    /// Pull batches never exceed 128 MiB (broker.md §3.3).
    public static let getMessageBytesMax = 128 << 20
}
