// RocketMQLogHandler: the swift-log handler of the server commands (mqnamesrv, mqbroker): each line goes to
// stdout and is appended to the command's log file (~/logs/rocketmqlogs/namesrv.log or broker.log), in
// RocketMQ's line shape. Called from any thread; writes are serialised by a lock.

import Foundation
import Logging
import Synchronization

public final class LogSink: Sendable {
    private let file = Mutex<FileHandle?>(nil)

    public init(path: String) {
        let url = URL(fileURLWithPath: path)
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let handle = FileHandle(forWritingAtPath: path)
        _ = try? handle?.seekToEnd()
        file.withLock { $0 = handle }
    }

    public func write(_ line: String) {
        let data = Data((line + "\n").utf8)
        file.withLock { handle in
            FileHandle.standardOutput.write(data)
            try? handle?.write(contentsOf: data)
        }
    }
}

public struct RocketMQLogHandler: LogHandler {
    let sink: LogSink
    let label: String
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]

    public init(sink: LogSink, label: String) {
        self.sink = sink
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let meta = merged.isEmpty ? "" : " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let stamp = Self.timestamp()
        sink.write("\(stamp) \(event.level.rawValue.uppercased()) \(label) - \(event.message)\(meta)")
    }

    static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = time_t(ts.tv_sec)
        var parts = tm()
        localtime_r(&t, &parts)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d,%03d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec),
                      Int(ts.tv_nsec / 1_000_000))
    }
}
