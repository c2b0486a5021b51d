// ServiceThread: a named background thread with a wake-up signal, as RocketMQ's ServiceThread.
// Used by the flush, group-commit, dispatch (reput), allocator and clean services. `run` is called
// once on the new thread; it loops until `isStopped`, sleeping with `waitForRunning(ms)` which a
// `wakeup()` from any thread cuts short.
import Foundation
import Synchronization

// Sendable because: all mutable state is guarded by `condition` (NSCondition) except `notifiedFlag`,
// an atomic hint; the thread handle is set once under the condition.
public final class ServiceThread: @unchecked Sendable {
    public let name: String
    private let condition = NSCondition()
    private var notified = false
    /// Mirrors `notified` so that wakeup() from a hot path costs one load while a wake-up is pending.
    private let notifiedFlag = Atomic<Bool>(false)
    private var stopped = false
    private var finished = false
    private var started = false

    public init(name: String) {
        self.name = name
    }

    /// Nice value for service threads started from now on (storeServiceThreadNice; 0 = as the process).
    static let niceness = Atomic<Int32>(0)

    /// Starts the thread running `body`; body should loop `while !thread.isStopped`.
    public func start(_ body: @escaping @Sendable (ServiceThread) -> Void) {
        condition.lock()
        precondition(!started, "\(name) started twice")
        started = true
        condition.unlock()
        let thread = Thread { [self] in
            // Foundation applies a name on Linux only when set from the thread itself, and Linux refuses a
            // name over 15 bytes (ps, top -H, perf show it): "ReputMessageService" becomes "ReputMessageSer".
            Thread.current.name = String(name.utf8.prefix(15)) ?? name
            let nice = ServiceThread.niceness.load(ordering: .relaxed)
            // On Linux the nice value is per thread: PRIO_PROCESS with who 0 sets the calling thread's.
            if nice != 0 { _ = setpriority(__priority_which_t(0), 0, nice) }
            body(self)
            condition.lock()
            finished = true
            condition.broadcast()
            condition.unlock()
        }
        thread.start()
    }

    public var isStopped: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopped
    }

    /// Wakes a thread sleeping in waitForRunning (or makes its next wait return at once).
    public func wakeup() {
        if notifiedFlag.load(ordering: .relaxed) { return }
        condition.lock()
        if !notified {
            notified = true
            notifiedFlag.store(true, ordering: .relaxed)
            condition.signal()
        }
        condition.unlock()
    }

    /// Sleeps up to `intervalMs` unless woken. Returns true if woken.
    @discardableResult
    public func waitForRunning(_ intervalMs: Int64) -> Bool {
        waitForRunning(nanoseconds: UInt64(max(0, intervalMs)) * 1_000_000)
    }

    /// Sleeps up to `intervalNs` nanoseconds unless woken. Returns true if woken.
    @discardableResult
    public func waitForRunning(nanoseconds intervalNs: UInt64) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if notified || stopped {
            notified = false
            notifiedFlag.store(false, ordering: .relaxed)
            return true
        }
        let deadline = Date(timeIntervalSinceNow: Double(intervalNs) / 1e9)
        while !notified && !stopped {
            if !condition.wait(until: deadline) { break }
        }
        let woken = notified
        notified = false
        notifiedFlag.store(false, ordering: .relaxed)
        return woken
    }

    /// Like waitForRunning, but a wake-up is answered `coalescingNs` late: meanwhile the wake-up stays
    /// pending, so the further wakeup() calls of a put-per-message hot path cost one load each and the
    /// sleeping thread is signalled at most once per period instead of once per message. For services
    /// whose work may lag a millisecond (async commit and flush), never for group commit.
    @discardableResult
    public func waitForRunning(_ intervalMs: Int64, coalescingNs: UInt64) -> Bool {
        let woken = waitForRunning(intervalMs)
        guard woken && coalescingNs > 0 else { return woken }
        condition.lock()
        defer { condition.unlock() }
        notified = true
        notifiedFlag.store(true, ordering: .relaxed)
        let deadline = Date(timeIntervalSinceNow: Double(coalescingNs) / 1e9)
        while !stopped {
            if !condition.wait(until: deadline) { break }
        }
        // The work that follows covers every wake-up that arrived during the pause.
        notified = false
        notifiedFlag.store(false, ordering: .relaxed)
        return true
    }

    /// Asks the loop to stop and waits until `body` has returned (if the thread was started).
    public func shutdown() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while started && !finished {
            condition.wait()
        }
        condition.unlock()
    }
}
