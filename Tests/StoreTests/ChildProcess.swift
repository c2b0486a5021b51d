// ChildProcess: runs a helper executable with its stdout piped, reads it line by line, and kills it
// with SIGKILL (crash tests) — a real process, so crashes are real.
import Foundation
import Glibc

final class ChildProcess: @unchecked Sendable {
    // Sendable because: tests use one ChildProcess from one task at a time.
    let process = Process()
    private let pipe = Pipe()
    private var buffer: [UInt8] = []
    private(set) var lines: [String] = []

    init(_ executable: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    /// Reads what is available (blocking until some bytes or EOF); returns false at EOF.
    @discardableResult
    func pump() -> Bool {
        let data = pipe.fileHandleForReading.availableData
        if data.isEmpty { return false }
        buffer += data
        while let nl = buffer.firstIndex(of: 10) {
            lines.append(String(decoding: buffer[..<nl], as: UTF8.self))
            buffer.removeSubrange(...nl)
        }
        return true
    }

    /// Reads until a line matches (returns it) or EOF (nil).
    func waitForLine(_ match: (String) -> Bool) -> String? {
        var seen = 0
        while true {
            while seen < lines.count {
                if match(lines[seen]) { return lines[seen] }
                seen += 1
            }
            if !pump() { return nil }
        }
    }

    /// SIGKILL and reap; then drain whatever complete lines were written before the kill.
    func kill() {
        if process.isRunning { Glibc.kill(pid, SIGKILL) }
        process.waitUntilExit()
        while pump() {}
    }
}
