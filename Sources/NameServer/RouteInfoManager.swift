// RouteInfoManager: the NameServer's route tables — topics to queues, brokers to addresses, clusters to
// brokers, broker liveness (spec broker.md §11.2, remoting.md §8). An actor: every mutation is serialised;
// called by DefaultRequestProcessor, BrokerHousekeepingService and the liveness scan.

import Logging
import Remoting

public actor RouteInfoManager {
    /// (clusterName, brokerAddr): the key of a live broker (Java `BrokerAddrInfo`).
    struct BrokerAddrKey: Hashable {
        let clusterName: String
        let brokerAddr: String
    }

    struct BrokerLiveInfo {
        var lastUpdateTimestampMs: Int64
        var heartbeatTimeoutMs: Int64
        var dataVersion: DataVersion
        var channel: RemotingChannel?
        var haServerAddr: String
    }

    public struct RegisterResult: Sendable, Equatable {
        public var haServerAddr: String?
        public var masterAddr: String?
    }

    private var topicQueueTable: [String: [String: QueueData]] = [:]
    private var brokerAddrTable: [String: BrokerData] = [:]
    private var clusterAddrTable: [String: Set<String>] = [:]
    private var brokerLiveTable: [BrokerAddrKey: BrokerLiveInfo] = [:]
    private var filterServerTable: [BrokerAddrKey: [String]] = [:]

    private let brokerChannelExpiredTimeMs: Int64
    private let deleteTopicWithBrokerRegistration: Bool
    private let logger: Logger
    private let clock: @Sendable () -> Int64

    public init(
        brokerChannelExpiredTimeMs: Int64 = 120_000, deleteTopicWithBrokerRegistration: Bool = false,
        logger: Logger, clock: @escaping @Sendable () -> Int64 = RouteInfoManager.wallClockMs
    ) {
        self.brokerChannelExpiredTimeMs = brokerChannelExpiredTimeMs
        self.deleteTopicWithBrokerRegistration = deleteTopicWithBrokerRegistration
        self.logger = logger
        self.clock = clock
    }

    @Sendable public static func wallClockMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    // MARK: Registration

    /// REGISTER_BROKER. Returns nil when the registration is refused (first registration of an id carrying
    /// exactly one topic, or an older state version for an id held by another address).
    public func registerBroker(
        clusterName: String, brokerAddr: String, brokerName: String, brokerId: Int64, haServerAddr: String,
        zoneName: String?, timeoutMs: Int64?, enableActingMaster: Bool?, topicConfigWrapper: TopicConfigSerializeWrapper,
        filterServerList: [String], channel: RemotingChannel?
    ) -> RegisterResult? {
        var result = RegisterResult()
        clusterAddrTable[clusterName, default: []].insert(brokerName)

        var registerFirst = false
        var brokerData: BrokerData
        if let existing = brokerAddrTable[brokerName] {
            brokerData = existing
        } else {
            registerFirst = true
            brokerData = BrokerData(cluster: clusterName, brokerName: brokerName, zoneName: zoneName)
        }
        let isOldVersionBroker = enableActingMaster == nil
        brokerData.enableActingMaster = enableActingMaster ?? false
        if let zoneName { brokerData.zoneName = zoneName }

        // One address has one id: a slave switched to master drops its old id first.
        for (id, addr) in brokerData.brokerAddrs where addr == brokerAddr && id != brokerId {
            brokerData.brokerAddrs[id] = nil
        }
        // An id held by another address with a newer state version wins.
        if let oldAddr = brokerData.brokerAddrs[brokerId], oldAddr != brokerAddr,
            let old = brokerLiveTable[BrokerAddrKey(clusterName: clusterName, brokerAddr: oldAddr)],
            (old.dataVersion.stateVersion ?? 0) > (topicConfigWrapper.dataVersion.stateVersion ?? 0)
        {
            logger.warning("registered broker has an older state version; refused",
                           metadata: ["broker": "\(brokerName)", "addr": "\(brokerAddr)"])
            brokerAddrTable[brokerName] = brokerData
            return result
        }
        if brokerData.brokerAddrs[brokerId] == nil && topicConfigWrapper.topicConfigTable.count == 1 {
            logger.warning("first registration carries a single topic; refused",
                           metadata: ["broker": "\(brokerName)", "brokerId": "\(brokerId)"])
            if brokerData.brokerAddrs.isEmpty {
                brokerAddrTable[brokerName] = nil
                clusterAddrTable[clusterName]?.remove(brokerName)
                if clusterAddrTable[clusterName]?.isEmpty == true { clusterAddrTable[clusterName] = nil }
            } else {
                brokerAddrTable[brokerName] = brokerData
            }
            return nil
        }
        let oldAddr = brokerData.brokerAddrs.updateValue(brokerAddr, forKey: brokerId)
        registerFirst = registerFirst || oldAddr == nil
        brokerAddrTable[brokerName] = brokerData

        let isMaster = brokerId == 0
        let isPrimeSlave = !isOldVersionBroker && !isMaster && brokerId == brokerData.brokerAddrs.keys.min()
        let key = BrokerAddrKey(clusterName: clusterName, brokerAddr: brokerAddr)
        if isMaster || isPrimeSlave {
            let table = topicConfigWrapper.topicConfigTable
            if deleteTopicWithBrokerRegistration {
                for topic in topicSet(ofBroker: brokerName) where table[topic] == nil {
                    removeQueueData(topic: topic, brokerName: brokerName)
                }
            }
            let versionChanged = isBrokerTopicConfigChanged(key, topicConfigWrapper.dataVersion)
            for (topic, config) in table {
                let changed = versionChanged || topicQueueTable[topic]?[brokerName] == nil
                guard registerFirst || changed else { continue }
                var perm = config.perm
                if isPrimeSlave && brokerData.enableActingMaster { perm &= ~PermName.write }
                topicQueueTable[topic, default: [:]][brokerName] = QueueData(
                    brokerName: brokerName, readQueueNums: config.readQueueNums, writeQueueNums: config.writeQueueNums,
                    perm: perm, topicSysFlag: config.topicSysFlag)
            }
        }

        let previous = brokerLiveTable.updateValue(
            BrokerLiveInfo(
                lastUpdateTimestampMs: clock(), heartbeatTimeoutMs: timeoutMs ?? brokerChannelExpiredTimeMs,
                dataVersion: topicConfigWrapper.dataVersion, channel: channel, haServerAddr: haServerAddr),
            forKey: key)
        if previous == nil {
            logger.info("new broker registered", metadata: ["broker": "\(brokerName)", "addr": "\(brokerAddr)",
                                                           "brokerId": "\(brokerId)", "cluster": "\(clusterName)"])
        }
        filterServerTable[key] = filterServerList.isEmpty ? nil : filterServerList

        if !isMaster, let masterAddr = brokerData.brokerAddrs[0],
            let master = brokerLiveTable[BrokerAddrKey(clusterName: clusterName, brokerAddr: masterAddr)]
        {
            result.haServerAddr = master.haServerAddr
            result.masterAddr = masterAddr
        }
        return result
    }

    private func isBrokerTopicConfigChanged(_ key: BrokerAddrKey, _ version: DataVersion) -> Bool {
        guard let prev = brokerLiveTable[key] else { return true }
        return !prev.dataVersion.sameVersion(as: version)
    }

    /// QUERY_DATA_VERSION: whether `version` differs from the stored one; refreshes liveness.
    public func queryDataVersion(clusterName: String, brokerAddr: String, version: DataVersion)
        -> (changed: Bool, stored: DataVersion?)
    {
        let key = BrokerAddrKey(clusterName: clusterName, brokerAddr: brokerAddr)
        let changed = isBrokerTopicConfigChanged(key, version)
        brokerLiveTable[key]?.lastUpdateTimestampMs = clock()
        return (changed, brokerLiveTable[key]?.dataVersion)
    }

    /// BROKER_HEARTBEAT: refreshes liveness only.
    public func refreshLiveness(clusterName: String, brokerAddr: String) {
        brokerLiveTable[BrokerAddrKey(clusterName: clusterName, brokerAddr: brokerAddr)]?.lastUpdateTimestampMs = clock()
    }

    // MARK: Unregistration and liveness

    /// UNREGISTER_BROKER, and the removal of an expired or disconnected broker.
    public func unregisterBroker(clusterName: String, brokerAddr: String, brokerName: String, brokerId: Int64) {
        let key = BrokerAddrKey(clusterName: clusterName, brokerAddr: brokerAddr)
        brokerLiveTable[key] = nil
        filterServerTable[key] = nil
        var removeBrokerName = false
        if var brokerData = brokerAddrTable[brokerName] {
            for (id, addr) in brokerData.brokerAddrs where addr == brokerAddr { brokerData.brokerAddrs[id] = nil }
            if brokerData.brokerAddrs.isEmpty {
                brokerAddrTable[brokerName] = nil
                removeBrokerName = true
            } else {
                brokerAddrTable[brokerName] = brokerData
                if brokerData.enableActingMaster && brokerData.brokerAddrs[0] == nil {
                    // Master gone in acting-master mode: its queues lose the write permission.
                    for topic in topicQueueTable.keys { topicQueueTable[topic]?[brokerName]?.perm &= ~PermName.write }
                }
            }
        }
        logger.info("broker unregistered", metadata: ["broker": "\(brokerName)", "addr": "\(brokerAddr)",
                                                     "brokerId": "\(brokerId)", "nameRemoved": "\(removeBrokerName)"])
        guard removeBrokerName else { return }
        clusterAddrTable[clusterName]?.remove(brokerName)
        if clusterAddrTable[clusterName]?.isEmpty == true { clusterAddrTable[clusterName] = nil }
        for topic in Array(topicQueueTable.keys) { removeQueueData(topic: topic, brokerName: brokerName) }
    }

    private func removeQueueData(topic: String, brokerName: String) {
        topicQueueTable[topic]?[brokerName] = nil
        if topicQueueTable[topic]?.isEmpty == true { topicQueueTable[topic] = nil }
    }

    /// Unregisters the broker whose registrations came over `channel` (it closed).
    public func onChannelDestroy(_ channel: RemotingChannel) {
        guard let (key, _) = brokerLiveTable.first(where: { $0.value.channel == channel }) else { return }
        logger.info("broker channel closed", metadata: ["addr": "\(key.brokerAddr)"])
        unregister(key)
    }

    private func unregister(_ key: BrokerAddrKey) {
        var found = false
        for (name, data) in brokerAddrTable {
            for (id, addr) in data.brokerAddrs where addr == key.brokerAddr {
                found = true
                unregisterBroker(clusterName: key.clusterName, brokerAddr: key.brokerAddr, brokerName: name, brokerId: id)
                break
            }
            if found { break }
        }
        if !found {
            brokerLiveTable[key] = nil
            filterServerTable[key] = nil
        }
    }

    /// Removes brokers whose last registration is older than their timeout; closes their channels.
    /// Returns how many were removed.
    @discardableResult
    public func scanNotActiveBroker() -> Int {
        let now = clock()
        let expired = brokerLiveTable.filter { $0.value.lastUpdateTimestampMs + $0.value.heartbeatTimeoutMs < now }
        for (key, info) in expired {
            logger.warning("broker channel expired", metadata: ["addr": "\(key.brokerAddr)",
                                                               "silentMs": "\(now - info.lastUpdateTimestampMs)"])
            info.channel?.close()
            unregister(key)
        }
        return expired.count
    }

    // MARK: Queries

    /// GET_ROUTEINFO_BY_TOPIC: nil when the topic has no queues or none of its brokers is registered.
    public func topicRouteData(topic: String) -> TopicRouteData? {
        guard let queues = topicQueueTable[topic], !queues.isEmpty else { return nil }
        var route = TopicRouteData()
        route.queueDatas = queues.keys.sorted().compactMap { queues[$0] }
        for name in queues.keys.sorted() {
            guard let data = brokerAddrTable[name] else { continue }
            route.brokerDatas.append(data)
            for addr in data.brokerAddrs.values {
                if let filters = filterServerTable[BrokerAddrKey(clusterName: data.cluster, brokerAddr: addr)] {
                    route.filterServerTable[addr] = filters
                }
            }
        }
        return route.brokerDatas.isEmpty ? nil : route
    }

    public func clusterInfo() -> ClusterInfo {
        ClusterInfo(brokerAddrTable: brokerAddrTable, clusterAddrTable: clusterAddrTable.mapValues { $0.sorted() })
    }

    public func allTopicList() -> TopicList { TopicList(topicList: topicQueueTable.keys.sorted()) }

    public func topics(ofCluster cluster: String) -> TopicList {
        let names = clusterAddrTable[cluster] ?? []
        return TopicList(topicList: topicQueueTable.filter { !names.isDisjoint(with: $0.value.keys) }.keys.sorted())
    }

    /// GET_SYSTEM_TOPIC_LIST_FROM_NS: cluster names and broker names, plus one broker address.
    public func systemTopicList() -> TopicList {
        var list = Set<String>()
        var someAddr: String?
        for (cluster, names) in clusterAddrTable {
            list.insert(cluster)
            list.formUnion(names)
        }
        for data in brokerAddrTable.values { if someAddr == nil { someAddr = data.brokerAddrs.values.first } }
        return TopicList(topicList: list.sorted(), brokerAddr: someAddr)
    }

    /// Topic lists filtered by topicSysFlag (unit = bit 0, unit-sub = bit 1).
    public func topics(matching predicate: @Sendable (Int32) -> Bool) -> TopicList {
        TopicList(topicList: topicQueueTable.filter { $0.value.values.contains { predicate($0.topicSysFlag) } }.keys.sorted())
    }

    private func topicSet(ofBroker brokerName: String) -> [String] {
        topicQueueTable.filter { $0.value[brokerName] != nil }.map(\.key)
    }

    // MARK: Admin changes

    /// DELETE_TOPIC_IN_NAMESRV: the whole topic, or only its queues on `clusterName`'s brokers.
    public func deleteTopic(_ topic: String, clusterName: String?) {
        if let clusterName, !clusterName.isEmpty {
            for name in clusterAddrTable[clusterName] ?? [] { removeQueueData(topic: topic, brokerName: name) }
        } else {
            topicQueueTable[topic] = nil
        }
    }

    /// WIPE_WRITE_PERM_OF_BROKER / ADD_WRITE_PERM_OF_BROKER: returns the number of topics changed.
    public func operateWritePerm(brokerName: String, wipe: Bool) -> Int32 {
        var count: Int32 = 0
        for topic in topicQueueTable.keys {
            guard var q = topicQueueTable[topic]?[brokerName] else { continue }
            q.perm = wipe ? q.perm & ~PermName.write : PermName.read | PermName.write
            topicQueueTable[topic]?[brokerName] = q
            count += 1
        }
        return count
    }

    /// Registered broker addresses (for tests and diagnostics).
    public func liveBrokerAddrs() -> [String] { brokerLiveTable.keys.map(\.brokerAddr).sorted() }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
