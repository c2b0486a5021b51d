// PullRequestHoldService: parks empty pulls (long polling) keyed `topic@queueId` and re-executes them when
// a message for that queue is dispatched (store's onMessageArriving, dispatcher thread — only a table lookup
// happens there) or when their hold time ends (a sweep task) (spec broker.md §3.5). Thread-safe behind a mutex.

import Logging
import Remoting
import Synchronization

struct PullRequest: Sendable {
    let request: RemotingCommand
    let channel: RemotingChannel
    let topic: String
    let queueId: Int32
    let pullFromThisOffset: Int64
    let tagsCodes: Set<Int32>
    let suspendTimestampMs: Int64
    let timeoutMs: Int64
}

final class PullRequestHoldService: Sendable {
    private let table = Mutex<[String: [PullRequest]]>([:])
    /// Set at shutdown: a pull that would park is answered at once instead.
    private let closed = Atomic<Bool>(false)
    private let maxOffset: @Sendable (String, Int32) -> Int64
    /// What a woken request is re-executed with: the pull processor and its executor, set once the
    /// processor exists (it is built over the controller that owns this service) and emptied at shutdown.
    private let reexecutor = Mutex<(processor: PullMessageProcessor, executor: RequestExecutor)?>(nil)

    /// `maxOffset` reads the store.
    init(maxOffset: @escaping @Sendable (String, Int32) -> Int64) {
        self.maxOffset = maxOffset
    }

    func setReexecutor(_ processor: PullMessageProcessor?, on executor: RequestExecutor) {
        reexecutor.withLock { $0 = processor.map { ($0, executor) } }
    }

    /// Re-executed on the pull executor, as a fresh pull would be (a cold read may wait there).
    private func execute(_ request: PullRequest) {
        guard let r = reexecutor.withLock({ $0 }) else { return }
        r.processor.reexecute(request, on: r.executor)
    }

    static func key(_ topic: String, _ queueId: Int32) -> String { "\(topic)@\(queueId)" }

    /// Parks a request; if a message landed between the read and now, it is woken at once.
    func suspend(_ request: PullRequest) {
        if closed.load(ordering: .acquiring) { return execute(request) }
        let key = Self.key(request.topic, request.queueId)
        table.withLock { $0[key, default: []].append(request) }
        let newest = maxOffset(request.topic, request.queueId)
        if newest > request.pullFromThisOffset { notifyMessageArriving(topic: request.topic, queueId: request.queueId, maxOffset: newest, tagsCode: nil) }
    }

    /// Wakes the parked requests of a queue that the new message satisfies. Cheap when nothing is parked.
    func notifyMessageArriving(topic: String, queueId: Int32, maxOffset: Int64, tagsCode: Int64?, nowMs now: Int64? = nil) {
        let key = Self.key(topic, queueId)
        let woken: [PullRequest] = table.withLock { t in
            guard let list = t[key], !list.isEmpty else { return [] }
            var keep: [PullRequest] = []
            var wake: [PullRequest] = []
            for r in list {
                var match = maxOffset > r.pullFromThisOffset
                if match, let code = tagsCode, !r.tagsCodes.isEmpty {
                    match = r.tagsCodes.contains(Int32(truncatingIfNeeded: code))
                }
                if match || (now.map { $0 >= r.suspendTimestampMs + r.timeoutMs } ?? false) {
                    wake.append(r)
                } else {
                    keep.append(r)
                }
            }
            t[key] = keep.isEmpty ? nil : keep
            return wake
        }
        for r in woken { execute(r) }
    }

    /// The periodic check: every key against the queue's max offset and every request's deadline.
    func sweep(nowMs now: Int64) {
        let keys: [(String, Int32)] = table.withLock { t in t.values.compactMap { $0.first.map { ($0.topic, $0.queueId) } } }
        for (topic, queueId) in keys {
            notifyMessageArriving(topic: topic, queueId: queueId, maxOffset: maxOffset(topic, queueId), tagsCode: nil, nowMs: now)
        }
    }

    /// Shutdown: no more parking; every parked request is answered now.
    func close() {
        closed.store(true, ordering: .releasing)
        let all = table.withLock { t in defer { t = [:] }; return t.values.flatMap { $0 } }
        for r in all { execute(r) }
    }

    var parkedCount: Int { table.withLock { $0.values.reduce(0) { $0 + $1.count } } }
}
