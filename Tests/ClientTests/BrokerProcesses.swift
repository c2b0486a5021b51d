// BrokerProcesses: starts the real `mqnamesrv` and `mqbroker` binaries on loopback with ephemeral ports
// and a fresh store directory, stops them with SIGTERM or kills them with SIGKILL. Binaries are found via
// APUS_MQNAMESRV / APUS_MQBROKER, else next to the test bundle.

import Foundation
import Synchronization
import XCTest

/// Text a child process printed, appended from the pipe's reader thread.
final class OutputBox: Sendable {
    private let text = Mutex<String>("")
    func withLock<R>(_ body: (inout String) -> R) -> R { text.withLock { body(&$0) } }
    var value: String { withLock { $0 } }
}

func findBinary(_ name: String, env: String) throws -> URL {
    if let path = ProcessInfo.processInfo.environment[env] { return URL(fileURLWithPath: path) }
    var candidates: [URL] = []
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    for _ in 0..<4 {
        candidates.append(dir.appendingPathComponent(name))
        dir = dir.deletingLastPathComponent()
    }
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
        throw XCTSkip("\(name) binary not found; build it or set \(env) (looked in \(candidates.map(\.path)))")
    }
    return found
}

/// One child process whose output is captured.
final class ChildProcess: @unchecked Sendable {
    // Sendable because: `process` is only touched by the test that owns this object; the output buffer
    // shared with the pipe's reader thread is behind a Mutex.
    let process = Process()
    let output = OutputBox()

    init(binary: URL, arguments: [String], environment: [String: String] = [:]) {
        process.executableURL = binary
        process.arguments = arguments
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
    func start<T>(timeout: Duration = .seconds(30), _ ready: (String) -> T?) async throws -> T {
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
    func stop() async -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        process.terminate()
        let deadline = ContinuousClock.now + .seconds(20)
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
        return process.terminationStatus
    }

    func kill9() async {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
    }
}

/// A NameServer and a broker with their own directory.
final class Cluster: @unchecked Sendable {
    // Sendable because: fields are set by the owning test only, never concurrently.
    let directory: URL
    var namesrv: ChildProcess?
    var broker: ChildProcess?
    var namesrvAddr = ""
    var brokerAddr = ""
    var brokerPort = 0
    var extraConfig: [String: String]

    init(extraConfig: [String: String] = [:]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("apus-broker-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.extraConfig = extraConfig
    }

    func startNamesrv() async throws {
        let ns = ChildProcess(binary: try findBinary("mqnamesrv", env: "APUS_MQNAMESRV"), arguments: [
            "--listenPort", "0", "--bindAddress", "127.0.0.1",
            "--logPath", directory.appendingPathComponent("namesrv.log").path,
            "--kvConfigPath", directory.appendingPathComponent("kvConfig.json").path,
            "--configStorePath", directory.appendingPathComponent("namesrv.properties").path,
        ])
        namesrv = ns
        let port: Int = try await ns.start { text in
            guard text.contains("The Name Server boot success"),
                  let line = text.split(separator: "\n").first(where: { $0.hasPrefix("The Name Server listening port=") })
            else { return nil }
            return Int(line.dropFirst("The Name Server listening port=".count))
        }
        namesrvAddr = "127.0.0.1:\(port)"
    }

    var storeDirectory: URL { directory.appendingPathComponent("store") }

    /// Starts (or restarts on the same store) the broker; `listenPort` reuses the previous port when set.
    func startBroker(listenPort: Int = 0) async throws {
        var conf: [String: String] = [
            "brokerClusterName": "TestCluster", "brokerName": "broker-a", "brokerId": "0", "brokerIP1": "127.0.0.1",
            "listenPort": String(listenPort), "storePathRootDir": storeDirectory.path,
            "mappedFileSizeCommitLog": String(64 * 1024 * 1024), "mappedFileSizeConsumeQueue": "300000",
            "flushDiskType": "ASYNC_FLUSH", "registerNameServerPeriod": "10000",
        ]
        for (k, v) in extraConfig { conf[k] = v }
        let text = conf.keys.sorted().map { "\($0)=\(conf[$0] ?? "")" }.joined(separator: "\n") + "\n"
        let confURL = directory.appendingPathComponent("broker.conf")
        try text.write(to: confURL, atomically: true, encoding: .utf8)
        var args = ["-c", confURL.path]
        if !namesrvAddr.isEmpty { args += ["-n", namesrvAddr] }
        let b = ChildProcess(binary: try findBinary("mqbroker", env: "APUS_MQBROKER"), arguments: args,
                             environment: ["HOME": directory.path])
        broker = b
        let addr: String = try await b.start { text in
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("The broker[") && $0.contains("boot success") }),
                  let comma = line.firstIndex(of: ","), let close = line.firstIndex(of: "]")
            else { return nil }
            return line[line.index(after: comma)..<close].trimmingCharacters(in: .whitespaces)
        }
        brokerAddr = addr
        brokerPort = Int(addr.split(separator: ":").last ?? "0") ?? 0
    }

    /// Stops the broker (SIGTERM) and keeps its files, for tests that read what it wrote at stop.
    func stopBroker() async {
        if let broker { await broker.stop() }
        broker = nil
    }

    func stopAll() async {
        if let broker { await broker.stop() }
        if let namesrv { await namesrv.stop() }
        try? FileManager.default.removeItem(at: directory)
    }
}
