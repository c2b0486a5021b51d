// BackgroundTasks: the owner of a component's background work (pull loops, periodic jobs, delayed retries).
// Every task a component starts goes through its owner, so none is fire-and-forget: `shutdown()` refuses
// new work, cancels what runs and returns once every task has ended, which lets a component stop in order
// (consumers before the client instance, processors before the store). Thread-safe; any thread or task.
// A shutdown called from one of the owner's own tasks (a listener stopping its consumer) waits for all the
// others, not for itself, so it cannot deadlock.

import Synchronization

public final class BackgroundTasks: Sendable {
    private struct State {
        var tasks: [UInt64: Task<Void, Never>] = [:]
        var nextId: UInt64 = 0
        var closed = false
        /// Shutdowns waiting, each with the task it runs on when that is one of ours (not waited for).
        var drained: [(caller: UInt64?, continuation: CheckedContinuation<Void, Never>)] = []

        func isDrained(except caller: UInt64?) -> Bool {
            tasks.isEmpty || (tasks.count == 1 && caller.map { tasks[$0] != nil } == true)
        }
    }

    /// The owner and id of the task running now, when it is one an owner started: its own shutdown must
    /// not wait for it. A plain `Task {}` started inside inherits it, which only means one wait skipped.
    @TaskLocal private static var current: (owner: ObjectIdentifier, id: UInt64)?

    /// What it belongs to, for logs.
    public let name: String
    private let state = Mutex(State())
    /// Tasks running under every owner in the process: a stop that leaves tasks behind shows here.
    private static let live = Atomic<Int>(0)

    public init(name: String) { self.name = name }

    /// Tasks still running under every owner in this process.
    public static var liveCount: Int { live.load(ordering: .relaxed) }

    /// Tasks still running under this owner.
    public var count: Int { state.withLock { $0.tasks.count } }

    /// Whether `shutdown` has begun: new work is refused.
    public var isClosed: Bool { state.withLock { $0.closed } }

    /// Starts `body` as a task this owner tracks. Returns false (and starts nothing) once shutdown began.
    @discardableResult
    public func spawn(_ body: @escaping @Sendable () async -> Void) -> Bool {
        state.withLock { s in
            guard !s.closed else { return false }
            let id = s.nextId
            s.nextId += 1
            Self.live.add(1, ordering: .relaxed)
            // Created under the lock, so the task's own removal can never come before its insertion.
            let me = ObjectIdentifier(self)
            s.tasks[id] = Task { [self] in
                await Self.$current.withValue((me, id)) { await body() }
                finished(id)
            }
            return true
        }
    }

    /// Runs `body` after `delay` unless the owner shuts down first (a cancelled sleep ends the task).
    @discardableResult
    public func spawn(after delay: Duration, _ body: @escaping @Sendable () async -> Void) -> Bool {
        spawn {
            do { try await Task.sleep(for: delay) } catch { return }
            await body()
        }
    }

    /// Runs `body` every `interval`, the first time after `initialDelay`, until shutdown. A slow run delays the
    /// next (fixed delay, as Java's scheduleWithFixedDelay), so runs never overlap.
    @discardableResult
    public func spawnPeriodic(initialDelay: Duration, every interval: Duration,
                              _ body: @escaping @Sendable () async -> Void) -> Bool {
        spawn {
            var wait = initialDelay
            while !Task.isCancelled {
                do { try await Task.sleep(for: wait) } catch { return }
                await body()
                wait = interval
            }
        }
    }

    private func finished(_ id: UInt64) {
        let waiters: [CheckedContinuation<Void, Never>] = state.withLock { s in
            s.tasks[id] = nil
            Self.live.subtract(1, ordering: .relaxed)
            guard s.closed else { return [] }
            var ready: [CheckedContinuation<Void, Never>] = []
            var waiting: [(caller: UInt64?, continuation: CheckedContinuation<Void, Never>)] = []
            for w in s.drained {
                if s.isDrained(except: w.caller) { ready.append(w.continuation) } else { waiting.append(w) }
            }
            s.drained = waiting
            return ready
        }
        for w in waiters { w.resume() }
    }

    /// Refuses new work, cancels every task and waits until all have ended. Safe to call more than once
    /// and from several tasks. Called from one of this owner's tasks, it cancels that one too (its caller
    /// sees `Task.isCancelled` afterwards) but waits only for the others.
    public func shutdown() async {
        let caller = Self.current.flatMap { $0.owner == ObjectIdentifier(self) ? $0.id : nil }
        let running: [Task<Void, Never>] = state.withLock { s in
            s.closed = true
            return Array(s.tasks.values)
        }
        for t in running { t.cancel() }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let done = state.withLock { s -> Bool in
                if s.isDrained(except: caller) { return true }
                s.drained.append((caller, c))
                return false
            }
            if done { c.resume() }
        }
    }
}
