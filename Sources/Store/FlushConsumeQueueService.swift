// FlushConsumeQueueService: every flushIntervalConsumeQueue ms flushes ConsumeQueue files with
// unflushed units (one batched fdatasync) and writes the checkpoint; the logicsMsgTimestamp written is
// the one captured before the flush, so the checkpoint never claims more than is durable (store.md
// §6.7, §8). Runs on its own thread with its own ring.
import Logging

final class FlushConsumeQueueService: Sendable {
    private let consumeQueues: ConsumeQueueStore
    private let checkpoint: StoreCheckpoint
    private let ring: IORing
    /// flushIntervalConsumeQueue is read each round (StoreLiveSettings).
    private let settings: StoreLiveSettings
    private let thread = ServiceThread(name: "FlushConsumeQueueService")
    private let logger: Logger

    init(consumeQueues: ConsumeQueueStore, checkpoint: StoreCheckpoint, ring: IORing, settings: StoreLiveSettings, logger: Logger) {
        self.consumeQueues = consumeQueues
        self.checkpoint = checkpoint
        self.ring = ring
        self.settings = settings
        self.logger = logger
    }

    func start() {
        thread.start { [self] t in
            while !t.isStopped {
                t.waitForRunning(settings.current.flushIntervalConsumeQueueMs)
                flushOnce()
            }
            for _ in 0..<3 { flushOnce() }
        }
    }

    func flushOnce() {
        let logicsTs = checkpoint.logicsMsgTimestampMs
        do {
            try consumeQueues.flush(ring: ring)
            try checkpoint.flush(logicsMsgTimestampMs: logicsTs)
        } catch {
            logger.error("ConsumeQueue flush failed: \(error)")
        }
    }

    func shutdown() { thread.shutdown() }
}
