// NamesrvProcess: starts the real `mqnamesrv` binary on an ephemeral port for integration tests and
// stops it with SIGTERM. Finds the binary via APUS_MQNAMESRV, else next to the test bundle.

import Foundation
import Logging
import NIOCore
import NIOPosix
import Remoting
import Synchronization
import XCTest

final class NamesrvProcess: @unchecked Sendable {
    // Sendable because: `process` is only touched by the test that owns this object; the output buffer
    // shared with the pipe's reader thread is behind a Mutex.
    let process = Process()
    let output = OutputBox()
    let directory: URL
    private(set) var port = 0
    var address: String { "127.0.0.1:\(port)" }

    static func binaryURL() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["APUS_MQNAMESRV"] { return URL(fileURLWithPath: path) }
        var candidates: [URL] = []
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(dir.appendingPathComponent("mqnamesrv"))
            dir = dir.deletingLastPathComponent()
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/mqnamesrv"))
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw XCTSkip("mqnamesrv binary not found; build it or set APUS_MQNAMESRV (looked in \(candidates.map(\.path)))")
        }
        return found
    }

    init(directory: URL? = nil, extraArguments: [String] = []) throws {
        self.directory = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("apus-ns-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        process.executableURL = try Self.binaryURL()
        process.arguments = [
            "--listenPort", "0", "--bindAddress", "127.0.0.1",
            "--logPath", self.directory.appendingPathComponent("namesrv.log").path,
            "--kvConfigPath", self.directory.appendingPathComponent("kvConfig.json").path,
            "--configStorePath", self.directory.appendingPathComponent("namesrv.properties").path,
        ] + extraArguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let output = self.output
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if !data.isEmpty { output.withLock { $0 += String(decoding: data, as: UTF8.self) } }
        }
    }

    /// Launches and waits for the boot line; reads the bound port from the line before it.
    func start() async throws {
        try process.run()
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            let text = output.withLock { $0 }
            if text.contains("The Name Server boot success. serializeType=JSON"),
                let line = text.split(separator: "\n").first(where: { $0.hasPrefix("The Name Server listening port=") }),
                let p = Int(line.dropFirst("The Name Server listening port=".count))
            {
                port = p
                return
            }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw NSError(domain: "mqnamesrv did not boot: \(output.withLock { $0 })", code: 1)
    }

    /// SIGTERM and wait; returns the exit status.
    @discardableResult
    func stop() async -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        process.terminate()
        let deadline = ContinuousClock.now + .seconds(10)
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        return process.terminationStatus
    }
}

/// A fake broker: its own connection to the NameServer, registering a topic table.
struct FakeBroker: Sendable {
    let client: RemotingClient
    let cluster: String
    let name: String
    let id: Int64
    let addr: String
    var topics: [TopicConfig]
    var dataVersion = DataVersion(counter: 1, timestamp: 1_700_000_000_000, stateVersion: 0)

    var haAddr: String { addr.replacingOccurrences(of: ":10911", with: ":10912") }

    func registerRequest(compressed: Bool = false, crcOverride: Int32? = nil) -> RemotingCommand {
        let body = RegisterBrokerBody(
            topicConfigSerializeWrapper: TopicConfigSerializeWrapper(
                topicConfigTable: Dictionary(uniqueKeysWithValues: topics.map { ($0.topicName, $0) }),
                dataVersion: dataVersion))
        let bytes: [UInt8] = compressed ? (body.encodeCompressed(version: 401) ?? []) : Array(body.jsonText().utf8)
        let header = RegisterBrokerRequestHeader(
            brokerName: name, brokerAddr: addr, clusterName: cluster, haServerAddr: haAddr, brokerId: id,
            enableActingMaster: false, compressed: compressed, bodyCrc32: crcOverride ?? Zlib.crc32Masked(bytes))
        var r = RemotingCommand.request(.registerBroker, header: header, body: ByteBuffer(bytes: bytes))
        r.version = compressed ? 401 : r.version
        return r
    }

    func register(at address: String) async throws -> RemotingCommand {
        try await client.invokeSync(address, registerRequest())
    }
}

/// Text the child process printed, appended from the pipe's reader thread.
final class OutputBox: Sendable {
    private let text = Mutex<String>("")
    func withLock<R>(_ body: (inout String) -> R) -> R { text.withLock { body(&$0) } }
}
