// ControllerDeployment: a whole controller-mode deployment as real processes for failover tests — an etcd
// cluster (one or three members), mqcontrollers on it, a NameServer and the brokers of one broker name in
// controller mode, each broker with its own store, listen port and HA port kept across restarts. Processes
// run on HostNetwork hosts (network namespaces on a bridge) when this process may make them, else on
// loopback. Everything is killed and removed when the deployment goes away, even after an early throw.

import ApusTestSupport
import Foundation
import XCTest

final class ControllerDeployment: @unchecked Sendable {
    // Sendable because: fields are set by the owning test only, never concurrently.
    struct Host {
        let address: String
        let prefix: [String]
    }

    struct Broker {
        let host: Host
        let listenPort: Int
        let haPort: Int
        let directory: URL
        var process: ChildProcess?
        var address: String { "\(host.address):\(listenPort)" }
    }

    let directory: URL
    let network: HostNetwork?
    /// etcd members, controllers, NameServer, brokers: each role's hosts (all loopback without a network).
    private let hosts: [Host]
    var etcd: [ChildProcess] = []
    /// How each member was started (arguments, launch prefix), to start it again on its data.
    private var etcdLaunches: [(arguments: [String], prefix: [String])] = []
    var etcdEndpoints: [String] = []
    var controllers: [ChildProcess] = []
    var controllerAddrs: [String] = []
    var namesrv: ChildProcess?
    var namesrvAddr = ""
    var brokers: [Broker] = []
    /// What brokers printed before they were killed or restarted (the processes' output is per process).
    var earlierBrokerOutput = ""

    /// `hostCount` namespace hosts when possible (a host per process role slot), else loopback
    /// (`APUS_TEST_LOOPBACK=1` asks for loopback even where namespaces could be made).
    init(hostCount: Int, useNetwork: Bool) throws {
        guard FileManager.default.isExecutableFile(atPath: etcdBinary) else {
            throw XCTSkip("skipped: \(etcdBinary) not installed (Debian package etcd-server; `make deps` installs it)")
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("apus-deploy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let loopbackOnly = ProcessInfo.processInfo.environment["APUS_TEST_LOOPBACK"] == "1"
        network = useNetwork && !loopbackOnly ? HostNetwork.make(hosts: hostCount) : nil
        if let network {
            hosts = network.hosts.map { Host(address: $0.address, prefix: $0.launchPrefix) }
        } else {
            hosts = Array(repeating: Host(address: "127.0.0.1", prefix: []), count: hostCount)
        }
    }

    func host(_ i: Int) -> Host { hosts[i % hosts.count] }

    /// An etcd cluster of `members` on hosts `hostIndexes`, started together (a member serves once a quorum runs).
    func startEtcd(hostIndexes: [Int]) async throws {
        let members = hostIndexes.enumerated().map { n, h in
            (name: "etcd\(n)", host: host(h), client: freeTCPPort(), peer: freeTCPPort())
        }
        let initial = members.map { "\($0.name)=http://\($0.host.address):\($0.peer)" }.joined(separator: ",")
        var started: [ChildProcess] = []
        for m in members {
            let client = "http://\(m.host.address):\(m.client)"
            let arguments = [
                "--name", m.name, "--data-dir", directory.appendingPathComponent(m.name).path,
                "--listen-client-urls", client, "--advertise-client-urls", client,
                "--listen-peer-urls", "http://\(m.host.address):\(m.peer)",
                "--initial-advertise-peer-urls", "http://\(m.host.address):\(m.peer)",
                "--initial-cluster", initial, "--initial-cluster-state", "new",
                "--heartbeat-interval", "50", "--election-timeout", "500",
            ]
            etcdLaunches.append((arguments, m.host.prefix))
            let p = ChildProcess(binary: URL(fileURLWithPath: etcdBinary), arguments: arguments, prefix: m.host.prefix)
            try p.process.run()
            started.append(p)
            etcd.append(p)
            etcdEndpoints.append(client)
        }
        for p in started {
            try await waitUntil("etcd member serving", timeout: .seconds(30)) {
                p.output.value.contains("ready to serve client requests")
            }
        }
    }

    /// Every etcd member killed (SIGKILL): the controllers lose their state store.
    func killEtcd() async {
        for e in etcd { await e.kill9() }
    }

    /// Every etcd member started again on its data directory.
    func restartEtcd() async throws {
        etcd = etcdLaunches.map { ChildProcess(binary: URL(fileURLWithPath: etcdBinary), arguments: $0.arguments, prefix: $0.prefix) }
        for p in etcd { try p.process.run() }
        for p in etcd {
            try await waitUntil("etcd member serving again", timeout: .seconds(30)) {
                p.output.value.contains("ready to serve client requests")
            }
        }
    }

    /// One more controller on host `hostIndex`; returns its address.
    @discardableResult
    func startController(hostIndex: Int) async throws -> String {
        let n = controllers.count
        let h = host(hostIndex)
        let conf = [
            "listenPort": "0", "bindAddress": h.address, "controllerEtcdEndpoints": etcdEndpoints.joined(separator: ","),
            "logPath": directory.appendingPathComponent("controller-\(n).log").path, "controllerSelfId": "c\(n)",
            "controllerEtcdLeaseTtlSeconds": "2", "scanNotActiveBrokerInterval": "300",
            "controllerEtcdRequestTimeoutMills": "1000",
        ]
        let url = directory.appendingPathComponent("controller-\(n).conf")
        try (conf.keys.sorted().map { "\($0)=\(conf[$0] ?? "")" }.joined(separator: "\n") + "\n")
            .write(to: url, atomically: true, encoding: .utf8)
        let p = ChildProcess(binary: try findBinary("mqcontroller", env: "APUS_MQCONTROLLER"), arguments: ["-c", url.path],
                             environment: ["HOME": directory.path], prefix: h.prefix)
        controllers.append(p)
        let port: Int = try await p.start { text in
            guard text.contains("The ControllerManager boot success"),
                  let line = text.split(separator: "\n").first(where: { $0.hasPrefix("The controller listening port=") })
            else { return nil }
            return Int(line.dropFirst("The controller listening port=".count))
        }
        let addr = "\(h.address):\(port)"
        controllerAddrs.append(addr)
        return addr
    }

    func startNamesrv(hostIndex: Int) async throws {
        let h = host(hostIndex)
        let ns = ChildProcess(binary: try findBinary("mqnamesrv", env: "APUS_MQNAMESRV"), arguments: [
            "--listenPort", "0", "--bindAddress", h.address,
            "--logPath", directory.appendingPathComponent("namesrv.log").path,
            "--kvConfigPath", directory.appendingPathComponent("kvConfig.json").path,
            "--configStorePath", directory.appendingPathComponent("namesrv.properties").path,
        ], environment: ["HOME": directory.path], prefix: h.prefix)
        namesrv = ns
        let port: Int = try await ns.start { text in
            guard text.contains("The Name Server boot success"),
                  let line = text.split(separator: "\n").first(where: { $0.hasPrefix("The Name Server listening port=") })
            else { return nil }
            return Int(line.dropFirst("The Name Server listening port=".count))
        }
        namesrvAddr = "\(h.address):\(port)"
    }

    /// Adds a broker slot of broker-a on host `hostIndex` (ports chosen once, kept across restarts).
    func addBroker(hostIndex: Int) -> Int {
        let n = brokers.count
        brokers.append(Broker(host: host(hostIndex), listenPort: freeTCPPort(), haPort: freeTCPPort(),
                              directory: directory.appendingPathComponent("broker-\(n)"), process: nil))
        return n
    }

    /// Starts (or restarts, on its store) broker `n` with the controller-mode keys and `extra`.
    func startBroker(_ n: Int, extra: [String: String]) async throws {
        let b = brokers[n]
        var conf: [String: String] = [
            "brokerClusterName": "TestCluster", "brokerName": "broker-a", "brokerIP1": b.host.address,
            "listenPort": String(b.listenPort), "haListenPort": String(b.haPort),
            "storePathRootDir": b.directory.appendingPathComponent("store").path,
            "mappedFileSizeCommitLog": String(64 * 1024 * 1024), "mappedFileSizeConsumeQueue": "300000",
            "flushDiskType": "ASYNC_FLUSH", "registerNameServerPeriod": "2000",
            "enableControllerMode": "true", "controllerAddr": controllerAddrs.joined(separator: ";"),
            "grpcServerPort": "0",  // any free port: brokers on loopback would all want 8081
        ]
        for (k, v) in extra { conf[k] = v }
        try FileManager.default.createDirectory(at: b.directory, withIntermediateDirectories: true)
        let url = b.directory.appendingPathComponent("broker.conf")
        try (conf.keys.sorted().map { "\($0)=\(conf[$0] ?? "")" }.joined(separator: "\n") + "\n")
            .write(to: url, atomically: true, encoding: .utf8)
        if let old = brokers[n].process { earlierBrokerOutput += old.output.value }
        let (p, _) = try await Cluster.launchBroker(["-c", url.path, "-n", namesrvAddr], home: b.directory.path, prefix: b.host.prefix)
        brokers[n].process = p
    }

    func kill9Broker(_ n: Int) async {
        await brokers[n].process?.kill9()
    }

    /// Everything every broker printed, earlier processes included.
    var allBrokerOutput: String { earlierBrokerOutput + brokers.compactMap { $0.process?.output.value }.joined() }

    /// The broker slot whose address is `address`.
    func brokerIndex(address: String) -> Int? { brokers.firstIndex { $0.address == address } }

    /// The CommitLog files of broker `n`'s store, in offset order.
    func commitLogFiles(_ n: Int) -> [URL] {
        let dir = brokers[n].directory.appendingPathComponent("store/commitlog")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.count == 20 && $0.allSatisfy(\.isNumber) }.sorted().map { dir.appendingPathComponent($0) }
    }

    /// The first `count` bytes of broker `n`'s CommitLog (files concatenated from its first file's offset).
    func commitLogBytes(_ n: Int, from start: Int64, count: Int64) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Int(count))
        let fileSize: Int64 = 64 * 1024 * 1024
        var at = start
        while at < start + count {
            let fileStart = at - at % fileSize
            let url = brokers[n].directory.appendingPathComponent("store/commitlog").appendingPathComponent(String(format: "%020lld", fileStart))
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            try handle.seek(toOffset: UInt64(at - fileStart))
            let want = Int(min(start + count, fileStart + fileSize) - at)
            let data = try handle.read(upToCount: want) ?? Data()
            guard data.count == want else { throw NSError(domain: "short read of \(url.path)", code: 1) }
            out += data
            at += Int64(want)
        }
        return out
    }

    func stopAll() async {
        for b in brokers { if let p = b.process { await p.stop() } }
        if let namesrv { await namesrv.stop() }
        for c in controllers { await c.stop() }
        for e in etcd { await e.stop() }
        network?.remove()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit {
        let all = brokers.compactMap(\.process) + [namesrv].compactMap { $0 } + controllers + etcd
        for p in all where p.process.isRunning { kill(p.process.processIdentifier, SIGKILL) }
        network?.remove()
        try? FileManager.default.removeItem(at: directory)
    }
}
