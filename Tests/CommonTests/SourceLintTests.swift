// A lint over Sources/ (issue 14, must-show 5): no `try!`, no `as!` and no force-unwrap outside tests, so a
// failed system call or a peer's bad bytes can never end the process on a trap. A line may keep one only with
// a comment on it or the line above saying why it cannot fail ("cannot fail"). Comments and string literals
// are ignored.

import Foundation
import XCTest

final class SourceLintTests: XCTestCase {
    /// The line with comments and string literals blanked out (a simple scanner: enough for this code base).
    static func code(_ line: Substring) -> String {
        var out = ""
        var inString = false
        var previous: Character = " "
        for ch in line {
            if inString {
                if ch == "\"" && previous != "\\" { inString = false }
                out.append(" ")
            } else if ch == "\"" {
                inString = true
                out.append(" ")
            } else if ch == "/" && previous == "/" {
                out.removeLast()
                break
            } else {
                out.append(ch)
            }
            previous = ch
        }
        return out
    }

    static let forceUnwrap = try! NSRegularExpression(pattern: #"[\w\)\]]!(?=[\.\)\],;:\[\s]|$)"#)
    static let forced = try! NSRegularExpression(pattern: #"\btry!|\bas!"#)

    func testSourcesHaveNoForceUnwrapTryOrCastWithoutAReason() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources")
        let files = try XCTUnwrap(FileManager.default.enumerator(atPath: sources.path)).compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") }
        XCTAssertGreaterThan(files.count, 100, "Sources/ not found at \(sources.path)")
        var findings: [String] = []
        for file in files {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            for (i, line) in lines.enumerated() {
                let code = Self.code(line)
                let range = NSRange(code.startIndex..., in: code)
                let hit = Self.forceUnwrap.firstMatch(in: code, range: range) != nil || Self.forced.firstMatch(in: code, range: range) != nil
                guard hit else { continue }
                let reason = line.contains("cannot fail") || (i > 0 && lines[i - 1].contains("cannot fail"))
                if !reason { findings.append("\(file):\(i + 1): \(line.trimmingCharacters(in: .whitespaces))") }
            }
        }
        XCTAssertEqual(findings, [], "force-unwrap, try! or as! without a reason:\n" + findings.joined(separator: "\n"))
    }

    func testTheLintSeesWhatItLooksFor() {
        func flagged(_ s: Substring) -> Bool {
            let code = Self.code(s)
            let range = NSRange(code.startIndex..., in: code)
            return Self.forceUnwrap.firstMatch(in: code, range: range) != nil || Self.forced.firstMatch(in: code, range: range) != nil
        }
        XCTAssertTrue(flagged("let x = y!.count"))
        XCTAssertTrue(flagged("f(a[0]!)"))
        XCTAssertTrue(flagged("let v = try! parse()"))
        XCTAssertTrue(flagged("let c = o as! Channel"))
        XCTAssertFalse(flagged("if a != b { }"))
        XCTAssertFalse(flagged("guard !done else { return }"))
        XCTAssertFalse(flagged("let s = \"hello!\" // wow!"))
    }
}
