// EtcdReplicaStore: the controllers' shared state in etcd — broker-set records at `<prefix>brokers/<name>`
// and liveness keys at `<prefix>alive/<name>/<id>` on per-broker leases. `decide` reads a set's record and
// liveness, asks ReplicasInfoManager, and writes the new record only if the record is unchanged since the
// read (etcd txn on mod_revision); if another controller changed it first, it reads and decides again, up
// to `electMasterMaxRetryCount` times. So any number of stateless controllers can serve requests at once.
// Any task.

import Logging
import NIOCore
import Remoting

public final class EtcdReplicaStore: Sendable {
    public let etcd: EtcdClient
    private let prefix: String
    private let maxAttempts: Int
    private let logger: Logger

    public init(etcd: EtcdClient, keyPrefix: String, maxAttempts: Int, logger: Logger) {
        self.etcd = etcd
        prefix = keyPrefix
        self.maxAttempts = max(1, maxAttempts)
        self.logger = logger
    }

    var brokersPrefix: String { prefix + "brokers/" }
    func recordKey(_ brokerName: String) -> String { brokersPrefix + brokerName }
    func alivePrefix(_ brokerName: String) -> String { prefix + "alive/" + brokerName + "/" }
    func aliveKey(_ brokerName: String, _ id: Int64) -> String { alivePrefix(brokerName) + String(id) }

    // MARK: reads

    /// The set's record and the mod_revision it was read at (0 = none).
    public func record(_ brokerName: String) async throws -> (BrokerReplicaRecord?, Int64) {
        guard let kv = try await etcd.get(recordKey(brokerName)) else { return (nil, 0) }
        return (try BrokerReplicaRecord.decode(ByteBuffer(bytes: kv.value)), kv.modRevision)
    }

    public func allRecords() async throws -> [BrokerReplicaRecord] {
        try await etcd.list(prefix: brokersPrefix).compactMap { kv in
            do { return try BrokerReplicaRecord.decode(ByteBuffer(bytes: kv.value)) } catch {
                logger.warning("unreadable broker-set record in etcd, skipped", metadata: ["key": "\(kv.key)", "error": "\(error)"])
                return nil
            }
        }
    }

    public func liveness(_ brokerName: String) async throws -> BrokerLiveness {
        var live: [Int64: BrokerLiveInfo] = [:]
        for kv in try await etcd.list(prefix: alivePrefix(brokerName)) {
            guard let info = try? BrokerLiveInfo.decode(ByteBuffer(bytes: kv.value)) else { continue }
            live[info.brokerId] = info
        }
        return BrokerLiveness(live)
    }

    // MARK: decisions

    /// Reads, decides, writes with compare-and-swap; on a lost race, again. The last decision's answer.
    public func decide(_ brokerName: String, needsLiveness: Bool = true,
                       _ decision: @Sendable (BrokerReplicaRecord?, BrokerLiveness) -> ControllerResult) async throws -> ControllerResult {
        var attempt = 0
        while true {
            attempt += 1
            let (record, revision) = try await record(brokerName)
            let liveness = needsLiveness ? try await liveness(brokerName) : BrokerLiveness([:])
            var result = decision(record, liveness)
            guard let newRecord = result.newRecord else { return result }
            if try await etcd.putIf(recordKey(brokerName), modRevision: revision, Array(newRecord.encode().readableBytesView)) {
                return result
            }
            logger.info("broker-set changed by another controller meanwhile; deciding again",
                        metadata: ["brokerName": "\(brokerName)", "attempt": "\(attempt)"])
            if attempt >= maxAttempts {
                // Java has no such case (one leader decides alone): SYSTEM_BUSY, which clients retry.
                result.fail(.systemBusy, "The broker-set \(brokerName) kept changing under this controller; try again")
                return result
            }
        }
    }

    // MARK: liveness

    /// Ends a broker's liveness now (its connection closed): revokes its lease, which deletes the key.
    public func expire(brokerName: String, brokerId: Int64) async throws {
        guard let current = try await etcd.get(aliveKey(brokerName, brokerId)), current.lease != 0 else { return }
        try await etcd.revoke(lease: current.lease)
    }

    /// A heartbeat: keeps the broker's lease alive (a new one when it lapsed) and stores what it reported.
    public func heartbeat(_ info: BrokerLiveInfo) async throws {
        let key = aliveKey(info.brokerName, info.brokerId)
        let value = Array(info.encode().readableBytesView)
        if let current = try await etcd.get(key), current.lease != 0 {
            if try await etcd.keepAlive(lease: current.lease) > 0 {
                if current.value != value { try await etcd.put(key, value, lease: current.lease) }
                return
            }
        }
        let ttlSeconds = max(1, Int((info.heartbeatTimeoutMillis + 999) / 1000))
        let lease = try await etcd.grantLease(ttlSeconds: ttlSeconds)
        try await etcd.put(key, value, lease: lease)
    }
}
