// apus-store-crasher: a child process for the store's crash-safety and lock tests.
//   append <storeDir> <segmentBytes> <seed> <inFlight> [pool]
//       opens the store under SYNC_FLUSH (with "pool": ASYNC_FLUSH with transientStorePoolEnable) and appends
//       forever; after each acknowledged put prints
//       "ACK <n> <queueId> <queueOffset> <physicalOffset> <bodyBytes>" (one write per line), until killed.
//   hold <storeDir>
//       opens the store, prints "READY" and waits to be killed (a second opener must fail).
// Message n has topic CrashTopic, queue n % 4, KEYS "k<n>", and a body `StoreCrashBody.make(n, seed)`.
import Common
import Foundation
import Glibc
import ApusTestSupport
import Store

func say(_ line: String) {
    let s = line + "\n"
    _ = s.withCString { write(1, $0, strlen($0)) }
}

let args = CommandLine.arguments
guard args.count >= 3 else {
    say("usage: apus-store-crasher append <dir> <segmentBytes> <seed> <inFlight> | hold <dir>")
    exit(2)
}
var config = MessageStoreConfig(storePathRootDir: args[2])
config.flushDiskType = .syncFlush
switch args[1] {
case "hold":
    let store = try MessageStore(config: config)
    store.start()
    say("READY")
    while true { sleep(1000) }
case "append":
    guard args.count >= 6, let segment = Int64(args[3]), let seed = UInt64(args[4]), let inFlight = Int(args[5]) else { exit(2) }
    config.mappedFileSizeCommitLogBytes = segment
    if args.count >= 7 && args[6] == "pool" {
        config.flushDiskType = .asyncFlush
        config.transientStorePoolEnable = true
        config.transientStorePoolSize = 2
        config.commitIntervalCommitLogMs = 20
    }
    config.mappedFileSizeConsumeQueueBytes = 20 * 64
    config.maxHashSlotNum = 64
    config.maxIndexNum = 256
    let store: MessageStore
    do {
        store = try MessageStore(config: config)
    } catch {
        say("ERROR \(error)")
        exit(3)
    }
    store.start(cleanFirstDelayMs: 3_600_000)
    // Continue numbering after what the store already holds, so every run's messages are distinct.
    let base = Int(store.maxPhysicalOffset)
    say("START \(base)")
    let counter = ManagedAtomicCounter(base)
    for _ in 0..<inFlight {
        Thread.detachNewThread {
            while true {
                let n = counter.next()
                let body = StoreCrashBody.make(n, seed: seed)
                let m = MessageToStore(topic: "CrashTopic", queueId: Int32(n % 4), body: body,
                                       properties: MessageProperties.encode([("KEYS", "k\(n)"), ("WAIT", "true")]),
                                       bornTimestampMs: Int64(Date().timeIntervalSince1970 * 1000))
                let done = DispatchSemaphore(value: 0)
                store.putMessage(m) { r in
                    if r.status == .putOk, let a = r.append {
                        say("ACK \(n) \(n % 4) \(a.queueOffset) \(a.physicalOffset) \(body.count)")
                    } else {
                        say("FAIL \(n) \(r.status.rawValue)")
                    }
                    done.signal()
                }
                done.wait()
            }
        }
    }
    while true { sleep(1000) }
default:
    exit(2)
}

// Sendable because: the value is only touched under the lock.
final class ManagedAtomicCounter: @unchecked Sendable {
    private var value: Int
    private let lock = NSLock()
    init(_ start: Int) { value = start }
    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}
