// BrokerRequestExecutors: the broker's named, bounded executors, one per kind of request as RocketMQ's
// BrokerController builds its thread pools (sendMessageExecutor, pullMessageExecutor, ...), with their
// keys and defaults from BrokerConfig; and BrokerFastFailure's sweep over their queues.

import Remoting

struct BrokerRequestExecutors: Sendable {
    let send: RequestExecutor
    let pull: RequestExecutor
    let litePull: RequestExecutor
    let query: RequestExecutor
    let admin: RequestExecutor
    let clientManage: RequestExecutor
    let heartbeat: RequestExecutor
    let consumerManage: RequestExecutor
    let endTransaction: RequestExecutor

    init(_ c: BrokerConfig) {
        func wait(_ ms: Int64) -> Int64? { c.brokerFastFailureEnable ? ms : nil }
        send = RequestExecutor(name: "SendMessageThread", threads: c.sendMessageThreadPoolNums,
                               queueCapacity: c.sendThreadPoolQueueCapacity, maxQueueWaitMs: wait(c.waitTimeMillsInSendQueue))
        pull = RequestExecutor(name: "PullMessageThread", threads: c.pullMessageThreadPoolNums,
                               queueCapacity: c.pullThreadPoolQueueCapacity, maxQueueWaitMs: wait(c.waitTimeMillsInPullQueue))
        litePull = RequestExecutor(name: "LitePullMessageThread", threads: c.litePullMessageThreadPoolNums,
                                   queueCapacity: c.litePullThreadPoolQueueCapacity,
                                   maxQueueWaitMs: wait(c.waitTimeMillsInLitePullQueue))
        query = RequestExecutor(name: "QueryMessageThread", threads: c.queryMessageThreadPoolNums,
                                queueCapacity: c.queryThreadPoolQueueCapacity)
        admin = RequestExecutor(name: "AdminBrokerThread", threads: c.adminBrokerThreadPoolNums,
                                queueCapacity: c.adminBrokerThreadPoolQueueCapacity)
        clientManage = RequestExecutor(name: "ClientManageThread", threads: c.clientManageThreadPoolNums,
                                       queueCapacity: c.clientManagerThreadPoolQueueCapacity)
        heartbeat = RequestExecutor(name: "HeartbeatThread", threads: c.heartbeatThreadPoolNums,
                                    queueCapacity: c.heartbeatThreadPoolQueueCapacity,
                                    maxQueueWaitMs: wait(c.waitTimeMillsInHeartbeatQueue))
        consumerManage = RequestExecutor(name: "ConsumerManageThread", threads: c.consumerManageThreadPoolNums,
                                         queueCapacity: c.consumerManagerThreadPoolQueueCapacity)
        endTransaction = RequestExecutor(name: "EndTransactionThread", threads: c.endTransactionThreadPoolNums,
                                         queueCapacity: c.endTransactionPoolQueueCapacity,
                                         maxQueueWaitMs: wait(c.waitTimeMillsInTransactionQueue))
    }

    var all: [RequestExecutor] { [send, pull, litePull, query, admin, clientManage, heartbeat, consumerManage, endTransaction] }

    /// BrokerFastFailure (every 10 ms): answers queued requests that waited too long, and while the page
    /// cache is busy every queued send, with RocketMQ's remarks.
    func cleanExpiredRequests(pageCacheBusy: Bool) {
        if pageCacheBusy { send.cleanAll(prefix: "[PCBUSY_CLEAN_QUEUE]") }
        for e in all { e.cleanExpired() }
    }

    /// Each executor drains (queued requests still run) and ends its threads; all at once, each on a
    /// thread of its own, so no cooperative thread blocks.
    func shutdown() async {
        await withTaskGroup(of: Void.self) { group in
            for e in all { group.addTask { await e.shutdownGracefully(timeoutMs: 3_000) } }
        }
    }
}
