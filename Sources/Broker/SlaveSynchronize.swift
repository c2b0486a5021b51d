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
        do {
            let r = try await client.invokeSync(addr, .request(.getAllTopicConfig), timeoutMs: 3_000)
            guard r.responseCode == .success, let body = r.body else { throw RemotingError.missingHeaderField("body") }
            if topics.replaceAll(try TopicConfigSerializeWrapper.decode(body)) {
                logger.info("slave: topic configs updated from master \(addr)")
            }
        } catch {
            ok = false
            logger.warning("slave: syncing topic configs from master \(addr) failed: \(error)")
        }
        do {
            let r = try await client.invokeSync(addr, .request(.getAllConsumerOffset), timeoutMs: 3_000)
            guard r.responseCode == .success, let body = r.body else { throw RemotingError.missingHeaderField("body") }
            offsets.replaceAll(try ConsumerOffsetSerializeWrapper.decode(body).offsetTable)
        } catch {
            ok = false
            logger.warning("slave: syncing consumer offsets from master \(addr) failed: \(error)")
        }
        do {
            let r = try await client.invokeSync(addr, .request(.getAllDelayOffset), timeoutMs: 3_000)
            guard r.responseCode == .success, let body = r.body,
                  let table = ScheduleMessageService.parseOffsetTable(String(buffer: body)) else {
                throw RemotingError.missingHeaderField("body")
            }
            schedule.replaceOffsets(table)
        } catch {
            ok = false
            logger.warning("slave: syncing delay offsets from master \(addr) failed: \(error)")
        }
        do {
            let r = try await client.invokeSync(addr, .request(.getAllSubscriptionGroupConfig), timeoutMs: 3_000)
            guard r.responseCode == .success, let body = r.body else { throw RemotingError.missingHeaderField("body") }
            groups.replaceAll(try SubscriptionGroupWrapper.decode(body))
        } catch {
            ok = false
            logger.warning("slave: syncing subscription groups from master \(addr) failed: \(error)")
        }
        return ok
    }
}
