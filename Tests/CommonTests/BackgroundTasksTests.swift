// BackgroundTasksTests: an owner tracks what it starts, shutdown cancels and waits for all of it, and
// refuses work after it began.

import Common
import Synchronization
import Testing

/// A counter tasks can share (atomics cannot be captured by escaping closures).
final class Count: Sendable {
    private let value = Atomic<Int>(0)
    @discardableResult func increment() -> Int { value.add(1, ordering: .relaxed).newValue }
    var current: Int { value.load(ordering: .relaxed) }
}

@Suite struct BackgroundTasksTests {
    @Test func shutdownCancelsAndWaitsForEveryTask() async {
        let owner = BackgroundTasks(name: "test")
        let ended = Count()
        for _ in 0..<10 {
            owner.spawn {
                while !Task.isCancelled { await Task.yield() }
                ended.increment()
            }
        }
        #expect(owner.count == 10)
        await owner.shutdown()
        #expect(owner.count == 0)
        #expect(ended.current == 10)
        #expect(owner.isClosed)
        #expect(!owner.spawn {})
        await owner.shutdown()
    }

    @Test func finishedTasksLeaveTheOwner() async {
        let owner = BackgroundTasks(name: "test")
        let (stream, c) = AsyncStream.makeStream(of: Int.self)
        for i in 0..<5 { owner.spawn { c.yield(i) } }
        var seen = 0
        for await _ in stream { seen += 1; if seen == 5 { break } }
        await owner.shutdown()
        #expect(owner.count == 0)
    }

    @Test func periodicRunsUntilShutdownAndDelayedWorkIsDroppedByIt() async {
        let owner = BackgroundTasks(name: "test")
        let runs = Count()
        let (stream, c) = AsyncStream.makeStream(of: Void.self)
        owner.spawnPeriodic(initialDelay: .milliseconds(1), every: .milliseconds(1)) {
            if runs.increment() == 3 { c.yield() }
        }
        let late = Count()
        owner.spawn(after: .seconds(3600)) { late.increment() }
        for await _ in stream { break }
        await owner.shutdown()
        let after = runs.current
        #expect(after >= 3)
        #expect(late.current == 0)
        #expect(owner.count == 0)
    }
}

@Suite struct BackgroundTasksSelfShutdownTests {
    /// A listener that stops its own consumer runs on one of the owner's tasks: the shutdown it calls must
    /// wait for the other tasks and return, not wait for itself forever.
    @Test func shutdownFromOwnTaskWaitsForTheOthersOnly() async {
        let owner = BackgroundTasks(name: "test")
        let ended = Count()
        for _ in 0..<3 {
            owner.spawn {
                while !Task.isCancelled { await Task.yield() }
                ended.increment()
            }
        }
        let (stream, c) = AsyncStream.makeStream(of: Int.self)
        owner.spawn {
            await owner.shutdown()
            c.yield(ended.current)
            c.finish()
        }
        var seen = -1
        for await n in stream { seen = n }
        #expect(seen == 3)
        await owner.shutdown()
        #expect(owner.count == 0)
    }
}
