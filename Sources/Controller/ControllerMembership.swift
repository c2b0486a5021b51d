// ControllerMembership: this controller among its peers, kept in etcd on one lease of its own —
// `<prefix>controllers/<selfId>` = its address while it runs, and `<prefix>leader` = `<selfId>;<address>`
// for the one controller that created it first (create-if-absent). The lease is kept alive every third of
// its TTL; when a controller stops (lease revoked) or dies (lease expires) its keys vanish and the next
// round of another controller takes the leadership. The leader runs the inactive-master scan; any
// controller answers requests. `refresh` runs on ControllerManager's background task; reads from any task.

import Logging
import Synchronization

public struct ControllerPeer: Sendable, Equatable {
    public let id: String
    public let address: String
}

public final class ControllerMembership: Sendable {
    public let selfId: String
    public let address: String
    private let etcd: EtcdClient
    private let prefix: String
    private let ttlSeconds: Int
    private let logger: Logger
    private struct State { var lease: Int64 = 0; var isLeader = false }
    private let state = Mutex(State())

    public init(selfId: String, address: String, etcd: EtcdClient, keyPrefix: String, ttlSeconds: Int, logger: Logger) {
        self.selfId = selfId
        self.address = address
        self.etcd = etcd
        prefix = keyPrefix
        self.ttlSeconds = ttlSeconds
        self.logger = logger
    }

    var leaderKey: String { prefix + "leader" }
    var membersPrefix: String { prefix + "controllers/" }

    /// Whether the last round found this controller the leader.
    public var isLeader: Bool { state.withLock { $0.isLeader } }

    /// One round: renew (or re-create) the lease and membership key, try to take the leadership.
    public func refresh() async throws {
        var lease = state.withLock { $0.lease }
        var lapsed = lease == 0
        if !lapsed { lapsed = try await etcd.keepAlive(lease: lease) == 0 }
        if lapsed {
            if lease != 0 { logger.warning("controller lease lapsed; joining again", metadata: ["selfId": "\(selfId)"]) }
            lease = try await etcd.grantLease(ttlSeconds: ttlSeconds)
            try await etcd.put(membersPrefix + selfId, Array(address.utf8), lease: lease)
            let granted = lease
            state.withLock { $0.lease = granted }
        }
        let mine = Array("\(selfId);\(address)".utf8)
        _ = try await etcd.putIf(leaderKey, modRevision: 0, mine, lease: lease)
        let leader = try await etcd.get(leaderKey)
        let leading = leader?.value == mine
        let was = state.withLock { s in
            let was = s.isLeader
            s.isLeader = leading
            return was
        }
        if leading != was {
            logger.info(leading ? "this controller is now the leader" : "this controller is no longer the leader",
                        metadata: ["selfId": "\(selfId)"])
        }
    }

    /// The leader as etcd has it now, or nil.
    public func leader() async throws -> ControllerPeer? {
        guard let kv = try await etcd.get(leaderKey) else { return nil }
        let text = String(decoding: kv.value, as: UTF8.self)
        guard let sep = text.firstIndex(of: ";") else { return nil }
        return ControllerPeer(id: String(text[..<sep]), address: String(text[text.index(after: sep)...]))
    }

    /// Every running controller of the group, by id.
    public func peers() async throws -> [ControllerPeer] {
        try await etcd.list(prefix: membersPrefix).map { kv in
            ControllerPeer(id: String(kv.key.dropFirst(membersPrefix.count)), address: String(decoding: kv.value, as: UTF8.self))
        }
    }

    /// Leaves the group at once: revoking the lease deletes the membership and leader keys.
    public func leave() async {
        let lease = state.withLock { s in
            let l = s.lease
            s.lease = 0
            s.isLeader = false
            return l
        }
        guard lease != 0 else { return }
        do { try await etcd.revoke(lease: lease) } catch {
            logger.warning("could not revoke the controller lease; it expires by itself", metadata: ["error": "\(error)"])
        }
    }
}
