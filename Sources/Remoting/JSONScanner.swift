// JSONScanner: the byte-level tokenizer shared by the JSON header decoder and the tolerant body reader.
// Works on borrowed bytes (no Foundation, no copies until a string is produced); callers run it on the
// event loop or any task. Tolerates what fastjson writes and accepts (spec remoting.md §16):
// single-quoted strings, unquoted and numeric member names, stray commas, trailing whitespace.

struct JSONScanner {
    let bytes: UnsafeRawBufferPointer
    var index: Int = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var atEnd: Bool { index >= bytes.count }

    @inline(__always)
    func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    @inline(__always)
    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    func error(_ what: String) -> RemotingError { .malformedBody("\(what) at byte \(index)") }

    mutating func expect(_ byte: UInt8) throws(RemotingError) {
        skipWhitespace()
        guard peek() == byte else { throw error("expected '\(Character(Unicode.Scalar(byte)))'") }
        index += 1
    }

    /// After a member or element: consumes separators (`,`, repeated commas allowed) and reports whether
    /// the container closed with `close`.
    mutating func nextInContainer(close: UInt8) throws(RemotingError) -> Bool {
        skipWhitespace()
        guard let b = peek() else { throw error("unterminated container") }
        if b == close { index += 1; return false }
        guard b == UInt8(ascii: ",") else { throw error("expected ',' or closing bracket") }
        while true {
            index += 1
            skipWhitespace()
            guard let n = peek() else { throw error("unterminated container") }
            if n == UInt8(ascii: ",") { continue }
            if n == close { index += 1; return false }
            return true
        }
    }

    /// After an opening bracket: true when the container has a first entry.
    mutating func firstInContainer(close: UInt8) throws(RemotingError) -> Bool {
        skipWhitespace()
        while peek() == UInt8(ascii: ",") { index += 1; skipWhitespace() }
        guard let b = peek() else { throw error("unterminated container") }
        if b == close { index += 1; return false }
        return true
    }

    /// Reads a quoted string (double or single quotes) with all JSON escapes.
    mutating func readString() throws(RemotingError) -> String {
        skipWhitespace()
        guard let quote = peek(), quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") else {
            throw error("expected string")
        }
        index += 1
        let start = index
        // Fast path: no escapes.
        while index < bytes.count {
            let b = bytes[index]
            if b == quote {
                let s = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return s
            }
            if b == UInt8(ascii: "\\") { break }
            index += 1
        }
        guard index < bytes.count else { throw error("unterminated string") }
        var out = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let b = bytes[index]
            if b == quote {
                index += 1
                return String(decoding: out, as: UTF8.self)
            }
            if b != UInt8(ascii: "\\") {
                out.append(b)
                index += 1
                continue
            }
            index += 1
            guard let e = peek() else { break }
            index += 1
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                var scalar = try readHex4()
                if (0xD800..<0xDC00).contains(scalar), index + 1 < bytes.count,
                    bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                {
                    index += 2
                    let low = try readHex4()
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        appendUTF8(0xFFFD, to: &out)
                        scalar = low
                    }
                }
                appendUTF8(scalar, to: &out)
            default: out.append(e)  // \" \\ \/ \' and anything else: the character itself
            }
        }
        throw error("unterminated string")
    }

    private mutating func readHex4() throws(RemotingError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[index]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw error("bad \\u escape")
            }
            v = v << 4 | d
            index += 1
        }
        return v
    }

    private func appendUTF8(_ value: UInt32, to out: inout [UInt8]) {
        let scalar = Unicode.Scalar(value) ?? "\u{FFFD}"
        out.append(contentsOf: Array(String(Character(scalar)).utf8))
    }

    /// Reads the raw text of a number (`-12`, `1.5E-4`). Returns the byte range.
    mutating func readNumberRange() throws(RemotingError) -> Range<Int> {
        skipWhitespace()
        let start = index
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
                UInt8(ascii: "e"), UInt8(ascii: "E"):
                index += 1
            default:
                guard index > start else { throw error("expected number") }
                return start..<index
            }
        }
        guard index > start else { throw error("expected number") }
        return start..<index
    }

    mutating func readNumberText() throws(RemotingError) -> String {
        let r = try readNumberRange()
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[r]), as: UTF8.self)
    }

    /// Reads an integer number; rejects fractions and overflow.
    mutating func readInt64() throws(RemotingError) -> Int64 {
        let r = try readNumberRange()
        guard let v = JSONScanner.parseInt64(UnsafeRawBufferPointer(rebasing: bytes[r])) else {
            throw error("expected integer")
        }
        return v
    }

    static func parseInt64(_ digits: UnsafeRawBufferPointer) -> Int64? {
        var i = 0
        var negative = false
        if i < digits.count, digits[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        guard i < digits.count else { return nil }
        var v: Int64 = 0
        while i < digits.count {
            let c = digits[i]
            guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = negative ? m.subtractingReportingOverflow(Int64(c - 48)) : m.addingReportingOverflow(Int64(c - 48))
            guard !o1, !o2 else { return nil }
            v = a
            i += 1
        }
        return v
    }

    /// Matches a bare word (`true`, `false`, `null`).
    mutating func readWord() throws(RemotingError) -> Substring {
        skipWhitespace()
        let start = index
        while index < bytes.count, JSONScanner.isWordByte(bytes[index]) { index += 1 }
        guard index > start else { throw error("unexpected character") }
        let s = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        return Substring(s)
    }

    @inline(__always)
    static func isWordByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "$"), UInt8(ascii: "-"),
            UInt8(ascii: "."):
            return true
        default: return false
        }
    }

    /// Reads a member name: quoted, or a bare identifier/number (fastjson writes `{0:"addr"}`).
    mutating func readMemberName() throws(RemotingError) -> (name: String, quoted: Bool) {
        skipWhitespace()
        guard let b = peek() else { throw error("expected member name") }
        if b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") { return (try readString(), true) }
        return (String(try readWord()), false)
    }

    /// Skips any value, bounded in depth.
    mutating func skipValue(depth: Int = 0) throws(RemotingError) {
        guard depth < RemotingLimits.jsonDepthMax else { throw error("nesting too deep") }
        skipWhitespace()
        guard let b = peek() else { throw error("expected value") }
        switch b {
        case UInt8(ascii: "\""), UInt8(ascii: "'"): _ = try readString()
        case UInt8(ascii: "{"):
            index += 1
            var more = try firstInContainer(close: UInt8(ascii: "}"))
            while more {
                skipWhitespace()
                if peek() == UInt8(ascii: "{") { try skipValue(depth: depth + 1) } else { _ = try readMemberName() }
                try expect(UInt8(ascii: ":"))
                try skipValue(depth: depth + 1)
                more = try nextInContainer(close: UInt8(ascii: "}"))
            }
        case UInt8(ascii: "["):
            index += 1
            var more = try firstInContainer(close: UInt8(ascii: "]"))
            while more {
                try skipValue(depth: depth + 1)
                more = try nextInContainer(close: UInt8(ascii: "]"))
            }
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try readNumberRange()
        default: _ = try readWord()
        }
    }
}
