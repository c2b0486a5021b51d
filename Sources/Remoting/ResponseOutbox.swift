// ResponseOutbox: answers written to a channel from off its event loop (the group-commit thread under
// SYNC_FLUSH, the send, pull and admin executors), gathered so the loop writes and flushes them together:
// one hop onto the loop and one flush per gathering, not per answer. Callable from any thread.

import NIOCore
import Synchronization

final class ResponseOutbox: Sendable {
    private struct State {
        var waiting: [RemotingCommand] = []
        /// A drain is already queued on the event loop: later answers ride along with it.
        var drainQueued = false
    }

    private let state = Mutex(State())
    private let eventLoop: any EventLoop
    private let handler: NIOLoopBound<RemotingChannelHandler>

    init(eventLoop: any EventLoop, handler: NIOLoopBound<RemotingChannelHandler>) {
        self.eventLoop = eventLoop
        self.handler = handler
    }

    /// Queues `response`; the first answer of a gathering schedules the drain.
    func post(_ response: RemotingCommand) {
        let schedule = state.withLock { s -> Bool in
            s.waiting.append(response)
            if s.drainQueued { return false }
            s.drainQueued = true
            return true
        }
        guard schedule else { return }
        eventLoop.execute { self.drain() }
    }

    /// On the event loop: writes everything gathered so far, flushed as one read batch's answers are.
    private func drain() {
        let responses = state.withLock { s -> [RemotingCommand] in
            s.drainQueued = false
            let gathered = s.waiting
            s.waiting = []
            return gathered
        }
        handler.value.writeResponses(responses)
    }
}
