// SlaveSynchronize: a slave's copy of its master's metadata (broker.md §12.3, RocketMQ 4.x every 10 s):
// topic configs (when the data version differs), consumer offsets (GET_ALL_CONSUMER_OFFSET 43), delay-level
// offsets (GET_ALL_DELAY_OFFSET 45) and subscription groups, each replacing the slave's table and file.
// The master's address comes from the slave's NameServer registration. Runs as one of the slave's jobs.

import Logging
import NIOCore
import Remoting
import Synchronization

final class SlaveSynchronize: Sendable {
    private let client: RemotingClient
    private let topics: TopicConfigManager
    private let groups: SubscriptionGroupManager
    private let offsets: ConsumerOffsetManager
    private let schedule: ScheduleMessageService
    private let logger: Logger
    private let master = Mutex<String?>(nil)

    init(client: RemotingClient, topics: TopicConfigManager, groups: SubscriptionGroupManager, offsets: ConsumerOffsetManager,
         schedule: ScheduleMessageService, logger: Logger) {
        self.client = client
        self.topics = topics
        self.groups = groups
        self.offsets = offsets
        self.schedule = schedule
        self.logger = logger
    }

    /// The master's broker address, as the last registration returned it.
    var masterAddr: String? {
        get { master.withLock { $0 } }
        set { master.withLock { $0 = newValue } }
    }

    /// One round; each table on its own, so one failing does not stop the others. True if all succeeded.
    @discardableResult
    func syncAll() async -> Bool {
        guard let addr = masterAddr else { return false }
        var ok = true
        ok = await sync("topic configs", .getAllTopicConfig, from: addr) { body in
            if topics.replaceAll(try TopicConfigSerializeWrapper.decode(body)) {
                logger.info("slave: topic configs updated from master \(addr)")
            }
        } && ok
        ok = await sync("consumer offsets", .getAllConsumerOffset, from: addr) { body in
            offsets.replaceAll(try ConsumerOffsetSerializeWrapper.decode(body).offsetTable)
        } && ok
        ok = await sync("delay offsets", .getAllDelayOffset, from: addr) { body in
            guard let table = ScheduleMessageService.parseOffsetTable(String(buffer: body)) else {
                throw RemotingError.missingHeaderField("offsetTable")
            }
            schedule.replaceOffsets(table)
        } && ok
        ok = await sync("subscription groups", .getAllSubscriptionGroupConfig, from: addr) { body in
            groups.replaceAll(try SubscriptionGroupWrapper.decode(body))
        } && ok
        return ok
    }

    /// Fetches one table from the master and applies it; a failure is logged and reported, nothing else.
    private func sync(_ what: String, _ code: RequestCode, from addr: String, apply: (ByteBuffer) throws -> Void) async -> Bool {
        do {
            let r = try await client.invokeSync(addr, .request(code), timeoutMs: 3_000)
            guard r.responseCode == .success, let body = r.body else {
                logger.warning("slave: master \(addr) refused \(what): \(r.code) \(r.remark ?? "")")
                return false
            }
            try apply(body)
            return true
        } catch {
            logger.warning("slave: syncing \(what) from master \(addr) failed: \(error)")
            return false
        }
    }
}
