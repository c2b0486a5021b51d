// RequestExecutor: a named, bounded pool of threads on which request processors run, as RocketMQ pairs each
// processor with a ThreadPoolExecutor over a bounded queue (sendMessageThreadPoolNums and
// sendThreadPoolQueueCapacity, pullMessageThreadPoolNums and pullThreadPoolQueueCapacity, ...).
// A request waits in the queue until a thread takes it; a full queue refuses it (the dispatcher answers
// SYSTEM_BUSY [OVERLOAD]); a request that waited longer than `maxQueueWaitMs` is answered SYSTEM_BUSY
// [TIMEOUT_CLEAN_QUEUE] instead of processed (RocketMQ's BrokerFastFailure). The executor is also a
// TaskExecutor: a processor's async code runs on these threads, so a processor that blocks (disk, a
// ring, a lock) holds one of them and never a thread of Swift's cooperative pool.
// Threads start on demand up to `threadsMax` and stop at `shutdown`. Thread-safe.

import DequeModule
import Foundation

public final class RequestExecutor: TaskExecutor, @unchecked Sendable {
    // Sendable because: every mutable field below is guarded by `condition`.

    /// A request waiting for a thread: what to run, and how to answer it if it is never run.
    public struct QueuedRequest: Sendable {
        let enqueuedAtNs: UInt64
        let run: @Sendable () -> Void
        let refuse: @Sendable (_ remark: String) -> Void

        public init(run: @escaping @Sendable () -> Void, refuse: @escaping @Sendable (_ remark: String) -> Void) {
            self.enqueuedAtNs = DispatchTime.now().uptimeNanoseconds
            self.run = run
            self.refuse = refuse
        }
    }

    public let name: String
    public let threadsMax: Int
    public let queueCapacity: Int
    /// Queued longer than this (ms) ⇒ answered [TIMEOUT_CLEAN_QUEUE] instead of processed; nil = never.
    public let maxQueueWaitMs: Int64?

    private let condition = NSCondition()
    private var requests: Deque<QueuedRequest> = []
    /// Continuations of processor tasks: always taken before new requests, never refused.
    private var jobs: Deque<UnownedJob> = []
    /// Requests admitted and not yet finished (queued, running, or suspended in an await).
    private var admitted = 0
    private var threadsAlive = 0
    private var threadsIdle = 0
    private var threadsStarted = 0
    private var stopping = false

    public init(name: String, threads: Int, queueCapacity: Int, maxQueueWaitMs: Int64? = nil) {
        self.name = name
        self.threadsMax = max(1, threads)
        self.queueCapacity = max(1, queueCapacity)
        self.maxQueueWaitMs = maxQueueWaitMs
    }

    /// Admits a request unless the queue is full (or the executor stopped): false means refused, nothing
    /// queued. Every admitted request must be ended with `finished()` once its processing is over.
    public func submit(_ request: QueuedRequest) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        // The queue bound is RocketMQ's; the second bound also counts requests whose processors are
        // suspended in an await, so async processors cannot grow memory without bound either.
        guard !stopping, requests.count < queueCapacity, admitted < queueCapacity + threadsMax else { return false }
        requests.append(request)
        admitted += 1
        wakeOrStartThreadLocked()
        return true
    }

    /// Ends an admitted request (answered, refused, or handed on).
    public func finished() {
        condition.lock()
        admitted -= 1
        if admitted == 0 { condition.broadcast() }
        condition.unlock()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        jobs.append(unowned)
        wakeOrStartThreadLocked()
        condition.unlock()
    }

    /// Requests waiting for a thread now.
    public var queueSize: Int {
        condition.lock()
        defer { condition.unlock() }
        return requests.count
    }

    /// Threads alive now (started on demand, gone after shutdown).
    public var threadCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return threadsAlive
    }

    /// Answers (without processing) the queued requests that waited longer than `maxQueueWaitMs`, oldest
    /// first: RocketMQ's BrokerFastFailure sweep. Returns how many.
    @discardableResult
    public func cleanExpired(nowNs: UInt64 = DispatchTime.now().uptimeNanoseconds) -> Int {
        guard let maxWait = maxQueueWaitMs else { return 0 }
        let limitNs = UInt64(max(0, maxWait)) * 1_000_000
        var expired: [(QueuedRequest, Int)] = []
        condition.lock()
        while let head = requests.first, nowNs &- head.enqueuedAtNs > limitNs, nowNs > head.enqueuedAtNs {
            requests.removeFirst()
            expired.append((head, requests.count))
        }
        condition.unlock()
        for (r, size) in expired { refuse(r, prefix: "[TIMEOUT_CLEAN_QUEUE]", nowNs: nowNs, queueSize: size) }
        return expired.count
    }

    /// Answers every queued request with `prefix` (RocketMQ's [PCBUSY_CLEAN_QUEUE] while the page cache is
    /// busy). Returns how many.
    @discardableResult
    public func cleanAll(prefix: String) -> Int {
        condition.lock()
        let all = Array(requests)
        requests.removeAll()
        condition.unlock()
        let now = DispatchTime.now().uptimeNanoseconds
        for (i, r) in all.enumerated() { refuse(r, prefix: prefix, nowNs: now, queueSize: all.count - i - 1) }
        return all.count
    }

    private func refuse(_ r: QueuedRequest, prefix: String, nowNs: UInt64, queueSize: Int) {
        let waitedMs = nowNs >= r.enqueuedAtNs ? (nowNs - r.enqueuedAtNs) / 1_000_000 : 0
        r.refuse("\(prefix)broker busy, start flow control for a while, period in queue: \(waitedMs)ms, size of queue: \(queueSize)")
        finished()
    }

    /// Stops taking requests, answers the queued ones, waits up to `timeoutMs` for admitted requests to
    /// finish, then lets the threads end and waits for them.
    public func shutdown(timeoutMs: Int64 = 5_000) {
        condition.lock()
        stopping = true
        let queued = Array(requests)
        requests.removeAll()
        condition.unlock()
        for r in queued {
            r.refuse("[OVERLOAD]system busy, start flow control for a while")
            finished()
        }
        let deadline = Date(timeIntervalSinceNow: Double(timeoutMs) / 1000)
        condition.lock()
        while admitted > 0, condition.wait(until: deadline) {}
        condition.broadcast()
        while threadsAlive > 0, condition.wait(until: deadline) {}
        condition.unlock()
    }

    // MARK: threads

    private func wakeOrStartThreadLocked() {
        if threadsIdle > 0 {
            condition.signal()
        } else if threadsAlive < threadsMax {
            threadsAlive += 1
            threadsStarted += 1
            // "<name>_<n>" as RocketMQ names its pool threads (Linux keeps 15 bytes). Foundation applies a
            // name on Linux only when set from the thread itself.
            let threadName = "\(name)_\(threadsStarted)"
            let thread = Thread { [self] in
                Thread.current.name = threadName
                workerLoop()
            }
            thread.start()
        }
    }

    private func workerLoop() {
        let executor = asUnownedTaskExecutor()
        condition.lock()
        while true {
            if let job = jobs.popFirst() {
                condition.unlock()
                job.runSynchronously(on: executor)
                condition.lock()
                continue
            }
            if let request = requests.popFirst() {
                condition.unlock()
                run(request)
                condition.lock()
                continue
            }
            // A stopping executor keeps its threads while tasks it admitted may still resume on it.
            if stopping && admitted == 0 { break }
            threadsIdle += 1
            condition.wait()
            threadsIdle -= 1
        }
        threadsAlive -= 1
        condition.broadcast()
        condition.unlock()
    }

    private func run(_ request: QueuedRequest) {
        if let maxWait = maxQueueWaitMs {
            let now = DispatchTime.now().uptimeNanoseconds
            if now > request.enqueuedAtNs, now - request.enqueuedAtNs > UInt64(max(0, maxWait)) * 1_000_000 {
                let size = queueSize
                refuse(request, prefix: "[TIMEOUT_CLEAN_QUEUE]", nowNs: now, queueSize: size)
                return
            }
        }
        request.run()
    }
}
