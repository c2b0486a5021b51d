// ProcessCluster: starts the real `mqnamesrv` and `mqbroker` binaries on loopback with ephemeral ports
// and a fresh store directory, stops them with SIGTERM or kills them with SIGKILL; runs other built
// binaries (`mqadmin`) to completion. Binaries are found via APUS_MQNAMESRV / APUS_MQBROKER / APUS_MQADMIN,
// else next to the test bundle. Shared by BrokerTests and AdminTests.

import Foundation
import Synchronization

/// Text a child process printed, appended from the pipe's reader thread.
public final class OutputBox: Sendable {
    public init() {}
    private let text = Mutex<String>("")
    public func withLock<R>(_ body: (inout String) -> R) -> R { text.withLock { body(&$0) } }
    public var value: String { withLock { $0 } }
}

public struct BinaryNotFound: Error, CustomStringConvertible {
    public let description: String
}

public func findBinary(_ name: String, env: String) throws -> URL {
    if let path = ProcessInfo.processInfo.environment[env] { return URL(fileURLWithPath: path) }
    var candidates: [URL] = []
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    for _ in 0..<4 {
        candidates.append(dir.appendingPathComponent(name))
        dir = dir.deletingLastPathComponent()
    }
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
        throw BinaryNotFound(description: "\(name) binary not found; build it or set \(env) (looked in \(candidates.map(\.path)))")
    }
    return found
}

/// One child process whose output is captured.
public final class ChildProcess: @unchecked Sendable {
    // Sendable because: `process` is only touched by the test that owns this object; the output buffer
    // shared with the pipe's reader thread is behind a Mutex.
    public let process = Process()
    public let output = OutputBox()

    /// `prefix`, when given, is a command `binary` runs under (`prlimit …`, `ip netns exec …`): it execs the
    /// binary, so the process is still the binary's.
    public init(binary: URL, arguments: [String], environment: [String: String] = [:], prefix: [String] = []) {
        if let launcher = prefix.first {
            process.executableURL = URL(fileURLWithPath: launcher)
            process.arguments = prefix.dropFirst() + [binary.path] + arguments
        } else {
            process.executableURL = binary
            process.arguments = arguments
        }
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let output = self.output
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if !data.isEmpty { output.withLock { $0 += String(decoding: data, as: UTF8.self) } }
        }
    }

    /// Runs and waits until `ready` finds what it needs in the output.
    public func start<T>(timeout: Duration = .seconds(30), _ ready: (String) -> T?) async throws -> T {
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let v = ready(output.value) { return v }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw NSError(domain: "\(process.executableURL?.lastPathComponent ?? "child") did not boot: \(output.value)", code: 1)
    }

    /// SIGTERM and wait; returns the exit status.
    @discardableResult
    public func stop() async -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        process.terminate()
        let deadline = ContinuousClock.now + .seconds(20)
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
        return process.terminationStatus
    }

    public func kill9() async {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
    }
}

/// A NameServer and a broker with their own directory.
public final class Cluster: @unchecked Sendable {
    // Sendable because: fields are set by the owning test only, never concurrently.
    public let directory: URL
    public var namesrv: ChildProcess?
    public var broker: ChildProcess?
    public var namesrvAddr = ""
    public var brokerAddr = ""
    public var brokerPort = 0
    public var extraConfig: [String: String]
    /// A command the broker runs under, e.g. `["/usr/bin/prlimit", "--nofile=256:256"]` or a HostNetwork
    /// host's `launchPrefix`.
    public var brokerLaunchPrefix: [String] = []
    public var namesrvLaunchPrefix: [String] = []
    public var slaveLaunchPrefix: [String] = []
    /// Each process's address: loopback, or a HostNetwork host's.
    public var namesrvHost = "127.0.0.1"
    public var brokerHost = "127.0.0.1"
    public var slaveHost = "127.0.0.1"

    /// Puts the NameServer, the broker and (when there is a third host) the slave on `network`'s hosts.
    public func place(on network: HostNetwork) {
        let h = network.hosts
        namesrvHost = h[0].address
        namesrvLaunchPrefix = h[0].launchPrefix
        brokerHost = h[1].address
        brokerLaunchPrefix = h[1].launchPrefix
        if h.count > 2 {
            slaveHost = h[2].address
            slaveLaunchPrefix = h[2].launchPrefix
        }
    }
    /// The broker's HA port, chosen once so restarts on the same listen port find theirs free (the default,
    /// listenPort + 1, is often an ephemeral port some client connection already holds).
    public lazy var haListenPort: Int = freeTCPPort()

    public init(extraConfig: [String: String] = [:]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("apus-broker-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.extraConfig = extraConfig
    }

    /// Starts (or restarts) the NameServer; `listenPort` reuses a previous port when set.
    public func startNamesrv(listenPort: Int = 0) async throws {
        let binary = try findBinary("mqnamesrv", env: "APUS_MQNAMESRV")
        let args = [
            "--listenPort", String(listenPort), "--bindAddress", namesrvHost,
            "--logPath", directory.appendingPathComponent("namesrv.log").path,
            "--kvConfigPath", directory.appendingPathComponent("kvConfig.json").path,
            "--configStorePath", directory.appendingPathComponent("namesrv.properties").path,
        ]
        let ns = ChildProcess(binary: binary, arguments: args, prefix: namesrvLaunchPrefix)
        namesrv = ns
        let port: Int = try await ns.start { text in
            guard text.contains("The Name Server boot success"),
                  let line = text.split(separator: "\n").first(where: { $0.hasPrefix("The Name Server listening port=") })
            else { return nil }
            return Int(line.dropFirst("The Name Server listening port=".count))
        }
        namesrvAddr = "\(namesrvHost):\(port)"
    }

    public var storeDirectory: URL { directory.appendingPathComponent("store") }

    /// Starts (or restarts on the same store) the broker; `listenPort` reuses the previous port when set.
    public func startBroker(listenPort: Int = 0) async throws {
        var conf: [String: String] = [
            "brokerClusterName": "TestCluster", "brokerName": "broker-a", "brokerId": "0", "brokerIP1": brokerHost,
            "listenPort": String(listenPort), "storePathRootDir": storeDirectory.path,
            "mappedFileSizeCommitLog": String(64 * 1024 * 1024), "mappedFileSizeConsumeQueue": "300000",
            "flushDiskType": "ASYNC_FLUSH", "registerNameServerPeriod": "10000",
            "haListenPort": String(haListenPort),
            // Any free port for the gRPC endpoint, also on a restart with a fixed listenPort (8081 otherwise).
            "grpcServerPort": "0",
        ]
        for (k, v) in extraConfig { conf[k] = v }
        let text = conf.keys.sorted().map { "\($0)=\(conf[$0] ?? "")" }.joined(separator: "\n") + "\n"
        let confURL = directory.appendingPathComponent("broker.conf")
        try text.write(to: confURL, atomically: true, encoding: .utf8)
        var args = ["-c", confURL.path]
        if !namesrvAddr.isEmpty { args += ["-n", namesrvAddr] }
        let (b, addr) = try await Self.launchBroker(args, home: directory.path, prefix: brokerLaunchPrefix)
        broker = b
        brokerAddr = addr
        brokerPort = Int(addr.split(separator: ":").last ?? "0") ?? 0
    }

    /// The slave of the broker (brokerId 1, brokerRole SLAVE, its own store), once started.
    public var slave: ChildProcess?
    public var slaveAddr = ""
    public var slaveStoreDirectory: URL { directory.appendingPathComponent("store-slave") }

    /// Starts a slave of the broker: it finds the master's HA address through its NameServer registration.
    public func startSlave(extraConfig slaveConfig: [String: String] = [:]) async throws {
        var conf: [String: String] = [
            "brokerClusterName": "TestCluster", "brokerName": "broker-a", "brokerId": "1", "brokerIP1": slaveHost,
            "brokerRole": "SLAVE", "listenPort": "0", "storePathRootDir": slaveStoreDirectory.path,
            "mappedFileSizeCommitLog": String(64 * 1024 * 1024), "mappedFileSizeConsumeQueue": "300000",
            "flushDiskType": "ASYNC_FLUSH", "registerNameServerPeriod": "2000", "grpcServerPort": "0",
        ]
        for (k, v) in slaveConfig { conf[k] = v }
        let text = conf.keys.sorted().map { "\($0)=\(conf[$0] ?? "")" }.joined(separator: "\n") + "\n"
        let confURL = directory.appendingPathComponent("broker-slave.conf")
        try text.write(to: confURL, atomically: true, encoding: .utf8)
        var args = ["-c", confURL.path]
        if !namesrvAddr.isEmpty { args += ["-n", namesrvAddr] }
        let (b, addr) = try await Self.launchBroker(args, home: directory.appendingPathComponent("slave-home").path,
                                                    prefix: slaveLaunchPrefix)
        slave = b
        slaveAddr = addr
    }

    /// Runs mqbroker and waits for its boot line; returns the process and the address the line names.
    public static func launchBroker(_ args: [String], home: String, prefix: [String] = []) async throws -> (ChildProcess, String) {
        let b = ChildProcess(binary: try findBinary("mqbroker", env: "APUS_MQBROKER"), arguments: args,
                             environment: ["HOME": home], prefix: prefix)
        let addr: String = try await b.start { text in
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("The broker[") && $0.contains("boot success") }),
                  let comma = line.firstIndex(of: ","), let close = line.firstIndex(of: "]")
            else { return nil }
            return line[line.index(after: comma)..<close].trimmingCharacters(in: .whitespaces)
        }
        return (b, addr)
    }

    /// Stops the broker (SIGTERM) and keeps its files, for tests that read what it wrote at stop.
    public func stopBroker() async {
        if let broker { await broker.stop() }
        broker = nil
    }

    public func stopAll() async {
        if let slave { await slave.stop() }
        if let broker { await broker.stop() }
        if let namesrv { await namesrv.stop() }
        try? FileManager.default.removeItem(at: directory)
    }

    /// A test that never called stopAll (an early throw) still leaves no process and no store behind: each
    /// store holds hundreds of MB, and a disk filling up over runs makes brokers refuse sends.
    deinit {
        for p in [slave, broker, namesrv].compactMap({ $0 }) where p.process.isRunning {
            kill(p.process.processIdentifier, SIGKILL)
        }
        try? FileManager.default.removeItem(at: directory)
    }
}

/// A TCP port nothing listens on now (bound to port 0, then released).
public func freeTCPPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return 0 }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    return ok ? Int(UInt16(bigEndian: addr.sin_port)) : 0
}

/// What a finished run of a command printed, and its exit status.
public struct CommandRun: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

/// Runs `binary` to completion (SIGKILL after `timeout`), capturing stdout and stderr separately.
public func runToCompletion(_ binary: URL, _ arguments: [String], environment: [String: String] = [:],
                            timeout: Duration = .seconds(60)) async throws -> CommandRun {
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env.removeValue(forKey: "NAMESRV_ADDR")
    for (k, v) in environment { env[k] = v }
    process.environment = env
    let outPipe = Pipe()
    let errPipe = Pipe()
    process.standardOutput = outPipe
    process.standardError = errPipe
    let outBox = OutputBox()
    let errBox = OutputBox()
    outPipe.fileHandleForReading.readabilityHandler = { h in
        let d = h.availableData
        if !d.isEmpty { outBox.withLock { $0 += String(decoding: d, as: UTF8.self) } }
    }
    errPipe.fileHandleForReading.readabilityHandler = { h in
        let d = h.availableData
        if !d.isEmpty { errBox.withLock { $0 += String(decoding: d, as: UTF8.self) } }
    }
    try process.run()
    let deadline = ContinuousClock.now + timeout
    while process.isRunning {
        if ContinuousClock.now > deadline { kill(process.processIdentifier, SIGKILL) }
        try await Task.sleep(for: .milliseconds(10))
    }
    // Let the handlers take what they were given, then drain what is still buffered in the pipes.
    try await Task.sleep(for: .milliseconds(50))
    outPipe.fileHandleForReading.readabilityHandler = nil
    errPipe.fileHandleForReading.readabilityHandler = nil
    let restOut = outPipe.fileHandleForReading.readDataToEndOfFile()
    let restErr = errPipe.fileHandleForReading.readDataToEndOfFile()
    outBox.withLock { $0 += String(decoding: restOut, as: UTF8.self) }
    errBox.withLock { $0 += String(decoding: restErr, as: UTF8.self) }
    return CommandRun(status: process.terminationStatus, stdout: outBox.value, stderr: errBox.value)
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes.
public func waitUntil(_ what: String, timeout: Duration = .seconds(30), _ condition: () async -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw NSError(domain: "timed out waiting for: \(what)", code: 1)
}

/// Runs `command` with /bin/sh, output discarded; its exit status (-1 when it could not run). For the tests'
/// mount, dd and umount steps.
public func sh(_ command: String) -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", command]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return -1 }
    p.waitUntilExit()
    return p.terminationStatus
}
