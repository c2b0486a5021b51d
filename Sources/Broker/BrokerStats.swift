// BrokerStats: counters behind GET_BROKER_RUNTIME_INFO (messages and bytes put and got since start) and
// the per group@topic pull rates of GET_CONSUME_STATS (GroupGetStats). Atomics; updated by the send and
// pull processors on any task.

import Synchronization

public final class BrokerStats: Sendable {
    let bootTimestampMs = nowMs()
    private let putMessages = Atomic<Int>(0)
    private let putBytes = Atomic<Int>(0)
    private let putFailures = Atomic<Int>(0)
    private let getMessages = Atomic<Int>(0)
    private let getBytes = Atomic<Int>(0)
    /// Messages pulled per topic@group over the last minute (consume TPS).
    let groupGetNums = GroupGetStats()

    func recordPut(messages: Int, bytes: Int, ok: Bool) {
        if ok {
            putMessages.add(messages, ordering: .relaxed)
            putBytes.add(bytes, ordering: .relaxed)
        } else {
            putFailures.add(1, ordering: .relaxed)
        }
    }

    func recordGet(messages: Int, bytes: Int) {
        getMessages.add(messages, ordering: .relaxed)
        getBytes.add(bytes, ordering: .relaxed)
    }

    var putMessagesTotal: Int { putMessages.load(ordering: .relaxed) }
    var putBytesTotal: Int { putBytes.load(ordering: .relaxed) }
    var putFailuresTotal: Int { putFailures.load(ordering: .relaxed) }
    var getMessagesTotal: Int { getMessages.load(ordering: .relaxed) }
    var getBytesTotal: Int { getBytes.load(ordering: .relaxed) }
}
