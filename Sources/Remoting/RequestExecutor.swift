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
    /// What `shutdown` waits on (admitted work done, threads gone); separate from `condition`, whose
    /// signals are meant for idle workers and must never be taken by the waiting shutdown.
    private let drained = NSCondition()
    private var requests: Deque<QueuedRequest> = []
    /// Continuations of processor tasks: always taken before new requests, never refused.
    private var jobs: Deque<UnownedJob> = []
    /// Requests admitted and not yet finished (queued, running, or suspended in an await).
    private var admitted = 0
    private var threadsAlive = 0
    private var threadsIdle = 0
    private var threadsStarted = 0
    /// Workers inside a request's `run()` right now: the task it starts enqueues its first job from that
    /// worker, which takes it on its next turn, so no other thread needs waking for it.
    private var workersStartingTasks = 0
    private var stopping = false
    /// Last refusal logged (uptime ns): refusals under overload are logged at most once a second.
    private var lastRefusalLogNs: UInt64 = 0

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
        let wakeAll = admitted == 0 && stopping
        condition.unlock()
        if wakeAll { signalDrained() }
    }

    /// Whether a refusal should be logged now (at most once a second, so overload does not flood the log).
    public func shouldLogRefusal() -> Bool {
        let now = DispatchTime.now().uptimeNanoseconds
        condition.lock()
        defer { condition.unlock() }
        guard now &- lastRefusalLogNs >= 1_000_000_000 || lastRefusalLogNs == 0 else { return false }
        lastRefusalLogNs = now
        return true
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        jobs.append(unowned)
        if jobs.count > workersStartingTasks { wakeOrStartThreadLocked() }
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

    /// Stops taking requests; what is queued still runs (as Java's ThreadPoolExecutor.shutdown) while
    /// admitted work finishes, up to `timeoutMs`, after which what is still queued is answered
    /// [OVERLOAD]; then the threads end and are waited for. Blocks: call it from a thread of its own
    /// (`shutdownGracefully` does), never from an event loop or a cooperative thread.
    public func shutdown(timeoutMs: Int64 = 5_000) {
        condition.lock()
        stopping = true
        condition.broadcast()  // idle workers re-check: they drain the queue, then end once nothing is admitted
        condition.unlock()
        let deadline = Date(timeIntervalSinceNow: Double(timeoutMs) / 1000)
        drained.lock()
        while admittedNow > 0, drained.wait(until: deadline) {}
        drained.unlock()
        condition.lock()
        let leftover = Array(requests)
        requests.removeAll()
        condition.unlock()
        for r in leftover {
            r.refuse(RemotingDispatcher.overloadRemark)
            finished()
        }
        let threadsDeadline = Date(timeIntervalSinceNow: 2)
        drained.lock()
        while threadCount > 0, drained.wait(until: threadsDeadline) {}
        drained.unlock()
    }

    /// `shutdown` on a thread of its own, awaited: no cooperative thread is blocked meanwhile.
    public func shutdownGracefully(timeoutMs: Int64 = 5_000) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let thread = Thread { [self] in
                shutdown(timeoutMs: timeoutMs)
                c.resume()
            }
            thread.start()
        }
    }

    private var admittedNow: Int {
        condition.lock()
        defer { condition.unlock() }
        return admitted
    }

    private func signalDrained() {
        condition.lock()
        condition.broadcast()  // workers waiting for `admitted == 0` to end
        condition.unlock()
        drained.lock()
        drained.broadcast()
        drained.unlock()
    }

    // MARK: threads

    private func wakeOrStartThreadLocked() {
        if threadsIdle > 0 {
            condition.signal()
        } else if threadsAlive < threadsMax {
            threadsAlive += 1
            threadsStarted += 1
            // "<name>_<n>" as RocketMQ names its pool threads, shortened to Linux's 15 bytes with the number
            // kept (a longer name is refused outright). Foundation applies a name on Linux only when set
            // from the thread itself.
            let suffix = "_\(threadsStarted)"
            let threadName = String(name.utf8.prefix(max(1, 15 - suffix.utf8.count))).map { $0 + suffix } ?? name
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
                workersStartingTasks += 1
                condition.unlock()
                run(request)
                condition.lock()
                workersStartingTasks -= 1
                continue
            }
            // A stopping executor keeps its threads while tasks it admitted may still resume on it.
            if stopping && admitted == 0 { break }
            threadsIdle += 1
            condition.wait()
            threadsIdle -= 1
        }
        threadsAlive -= 1
        condition.unlock()
        signalDrained()
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
