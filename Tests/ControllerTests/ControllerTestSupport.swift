// ControllerTests support: a real etcd (Debian's /usr/bin/etcd) on loopback ports in a temporary data
// directory, `mqcontroller` processes on it, a raw remoting client speaking as a controller-mode broker
// (ids, registration, heartbeats, elections) and `mqadmin` runs. Everything is killed and removed when the
// owning ControllerCluster goes away, even after an early throw.

import ApusTestSupport
import Foundation
import Logging
import NIOCore
import NIOPosix
import Remoting
import Synchronization
import XCTest

let etcdBinary = "/usr/bin/etcd"

/// etcd + controllers in one temporary directory.
final class ControllerCluster: @unchecked Sendable {
    // Sendable because: fields are set by the owning test only, never concurrently.
    let directory: URL
    var etcd: ChildProcess?
    var etcdEndpoint = ""
    var controllers: [ChildProcess] = []
    var controllerAddrs: [String] = []

    init() throws {
        guard FileManager.default.isExecutableFile(atPath: etcdBinary) else {
            throw XCTSkip("skipped: \(etcdBinary) not installed (Debian package etcd-server; `make deps` installs it)")
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("apus-controller-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// Starts a one-member etcd on two free loopback ports and waits until it serves clients.
    func startEtcd() async throws {
        let clientPort = freeTCPPort()
        let peerPort = freeTCPPort()
        let client = "http://127.0.0.1:\(clientPort)"
        let peer = "http://127.0.0.1:\(peerPort)"
        let p = ChildProcess(binary: URL(fileURLWithPath: etcdBinary), arguments: [
            "--name", "apus-test", "--data-dir", directory.appendingPathComponent("etcd").path,
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", "apus-test=\(peer)",
        ])
        etcd = p
        _ = try await p.start { $0.contains("ready to serve client requests") ? true : nil }
        etcdEndpoint = client
    }

    /// Starts one more controller on the etcd; returns its address.
    @discardableResult
    func startController(extra: [String: String] = [:]) async throws -> String {
        let n = controllers.count
        var conf: [String: String] = [
            "listenPort": "0", "bindAddress": "127.0.0.1", "controllerEtcdEndpoints": etcdEndpoint,
            "logPath": directory.appendingPathComponent("controller-\(n).log").path,
            "controllerSelfId": "c\(n)", "controllerEtcdLeaseTtlSeconds": "2", "scanNotActiveBrokerInterval": "500",
        ]
        for (k, v) in extra { conf[k] = v }
        let url = directory.appendingPathComponent("controller-\(n).conf")
        try (conf.keys.sorted().map { "\($0)=\(conf[$0] ?? "")" }.joined(separator: "\n") + "\n")
            .write(to: url, atomically: true, encoding: .utf8)
        let p = ChildProcess(binary: try findBinary("mqcontroller", env: "APUS_MQCONTROLLER"), arguments: ["-c", url.path],
                             environment: ["HOME": directory.path])
        controllers.append(p)
        let port: Int = try await p.start { text in
            guard text.contains("The ControllerManager boot success"),
                  let line = text.split(separator: "\n").first(where: { $0.hasPrefix("The controller listening port=") })
            else { return nil }
            return Int(line.dropFirst("The controller listening port=".count))
        }
        let addr = "127.0.0.1:\(port)"
        controllerAddrs.append(addr)
        return addr
    }

    func stopAll() async {
        for c in controllers { await c.stop() }
        if let etcd { await etcd.stop() }
        try? FileManager.default.removeItem(at: directory)
    }

    deinit {
        for p in (controllers + [etcd].compactMap { $0 }) where p.process.isRunning {
            kill(p.process.processIdentifier, SIGKILL)
        }
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Speaks to controllers as a controller-mode broker and as a tool would, over one RemotingClient.
final class ControllerWire: Sendable {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let client: RemotingClient

    init() {
        client = RemotingClient(group: group, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    /// Background work using this wire (heartbeat loops): cancelled and awaited before the client closes, so
    /// no call starts on a shut-down event loop (NIO traps on the promise it leaks then).
    private let tasks = Mutex<[Task<Void, Never>]>([])

    func track(_ task: Task<Void, Never>) -> Task<Void, Never> {
        tasks.withLock { $0.append(task) }
        return task
    }

    func shutdown() async {
        let running = tasks.withLock { t -> [Task<Void, Never>] in defer { t = [] }; return t }
        for t in running { t.cancel() }
        for t in running { await t.value }
        await client.shutdown()
        try? await group.shutdownGracefully()
    }

    func call(_ addr: String, _ code: RequestCode, _ header: (any CommandCustomHeader)? = nil,
              body: ByteBuffer? = nil) async throws -> RemotingCommand {
        try await client.invokeSync(addr, .request(code, header: header, body: body), timeoutMs: 10_000)
    }

    /// GET_NEXT_BROKER_ID, then APPLY_BROKER_ID and REGISTER_BROKER as a 5.x broker starts; its id.
    func register(_ addr: String, cluster: String, brokerName: String, brokerAddr: String) async throws -> Int64 {
        let next = try await call(addr, .controllerGetNextBrokerId,
                                  GetNextBrokerIdRequestHeader(clusterName: cluster, brokerName: brokerName))
        XCTAssertEqual(next.responseCode, .success, next.remark ?? "")
        let id = try XCTUnwrap(try next.decodeHeader(GetNextBrokerIdResponseHeader.self).nextBrokerId)
        let apply = try await call(addr, .controllerApplyBrokerId, ApplyBrokerIdRequestHeader(
            clusterName: cluster, brokerName: brokerName, appliedBrokerId: id, registerCheckCode: "\(brokerAddr);\(id)"))
        XCTAssertEqual(apply.responseCode, .success, apply.remark ?? "")
        let reg = try await call(addr, .controllerRegisterBroker, RegisterBrokerToControllerRequestHeader(
            clusterName: cluster, brokerName: brokerName, brokerId: id, brokerAddress: brokerAddr))
        XCTAssertEqual(reg.responseCode, .success, reg.remark ?? "")
        return id
    }

    func heartbeat(_ addr: String, cluster: String, brokerName: String, brokerAddr: String, brokerId: Int64,
                   timeoutMs: Int64 = 2000, epoch: Int32 = 0, maxOffset: Int64 = 0) async throws {
        let r = try await call(addr, .brokerHeartbeat, BrokerHeartbeatRequestHeader(
            clusterName: cluster, brokerAddr: brokerAddr, brokerName: brokerName, brokerId: brokerId, epoch: epoch,
            maxOffset: maxOffset, heartbeatTimeoutMills: timeoutMs))
        XCTAssertEqual(r.responseCode, .success, r.remark ?? "")
    }

    /// GET_REPLICA_INFO's master id and epoch.
    func replicaInfo(_ addr: String, brokerName: String) async throws -> (master: Int64?, epoch: Int32?, syncStateSet: SyncStateSet?) {
        let r = try await call(addr, .controllerGetReplicaInfo, GetReplicaInfoRequestHeader(brokerName: brokerName))
        let h = try r.decodeHeader(GetReplicaInfoResponseHeader.self)
        return (h.masterBrokerId, h.masterEpoch, try r.body.map { b throws(RemotingError) in try SyncStateSet.decode(b) })
    }
}

/// Runs the built `mqadmin` with the given arguments (no NameServer unless the arguments name one).
func mqadmin(_ args: String...) async throws -> CommandRun {
    try await runToCompletion(try findBinary("mqadmin", env: "APUS_MQADMIN"), args)
}
