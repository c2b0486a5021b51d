// ConsumeQueueStore: every ConsumeQueue of the store, keyed by topic and queue id; loads them from
// consumequeue/, creates them on first dispatch, flushes them (FlushConsumeQueueService calls flush).
import CStore
import Synchronization
import Glibc

final class ConsumeQueueStore: Sendable {
    let rootDirectory: String
    let fileSizeBytes: Int64
    private let table = Mutex<[TopicQueueKey: ConsumeQueue]>([:])

    init(rootDirectory: String, fileSizeBytes: Int64) {
        self.rootDirectory = rootDirectory
        self.fileSizeBytes = fileSizeBytes
    }

    /// Loads consumequeue/<topic>/<queueId>/; non-numeric queue directories are skipped (store.md §2).
    func load() throws(StoreError) {
        try makeDirectories(rootDirectory)
        var loaded: [TopicQueueKey: ConsumeQueue] = [:]
        for topic in listDirectory(rootDirectory).sorted() {
            for qid in listDirectory(rootDirectory + "/" + topic).sorted() {
                guard let queueId = Int32(qid) else { continue }
                let cq = ConsumeQueue(topic: topic, queueId: queueId, rootDirectory: rootDirectory, fileSizeBytes: fileSizeBytes)
                try cq.load()
                loaded[TopicQueueKey(topic: topic, queueId: queueId)] = cq
            }
        }
        table.withLock { $0 = loaded }
    }

    var all: [ConsumeQueue] { table.withLock { Array($0.values) } }

    func find(_ key: TopicQueueKey) -> ConsumeQueue? { table.withLock { $0[key] } }

    func findOrCreate(_ key: TopicQueueKey) -> ConsumeQueue {
        table.withLock { t in
            if let cq = t[key] { return cq }
            let cq = ConsumeQueue(topic: key.topic, queueId: key.queueId, rootDirectory: rootDirectory, fileSizeBytes: fileSizeBytes)
            t[key] = cq
            return cq
        }
    }

    /// Recovers every queue; returns the max CommitLog end any queue references (-1 if none).
    func recover() -> Int64 {
        all.map { $0.recover() }.max() ?? -1
    }

    /// Next queue offsets for the CommitLog's topic-queue table.
    func topicQueueTable() -> [TopicQueueKey: Int64] {
        var t: [TopicQueueKey: Int64] = [:]
        for cq in all { t[TopicQueueKey(topic: cq.topic, queueId: cq.queueId)] = cq.maxOffsetInQueue }
        return t
    }

    func truncateDirty(physicalOffset: Int64) {
        for cq in all where cq.maxPhysicalEnd > physicalOffset || cq.maxPhysicalEnd == -1 {
            cq.truncateDirty(physicalOffset: physicalOffset)
        }
    }

    func destroyAll() {
        let queues = table.withLock { t -> [ConsumeQueue] in
            let q = Array(t.values)
            t = [:]
            return q
        }
        for q in queues { q.destroy() }
    }

    func destroy(topic: String) {
        let queues = table.withLock { t -> [ConsumeQueue] in
            let q = t.filter { $0.key.topic == topic }.map { $0.value }
            t = t.filter { $0.key.topic != topic }
            return q
        }
        for q in queues { q.destroy() }
        for qid in listDirectory(rootDirectory + "/" + topic) { rmdir(rootDirectory + "/" + topic + "/" + qid) }
        rmdir(rootDirectory + "/" + topic)
    }

    /// fdatasyncs every ConsumeQueue file with unflushed units, in one batched submission.
    func flush(ring: IORing) throws(StoreError) {
        let dirty = all.flatMap { $0.dirtyFiles() }
        guard !dirty.isEmpty else { return }
        try ring.fdatasync(dirty.map { $0.0.fd })
        for (f, w) in dirty { f.flushedPosition = w }
    }
}
