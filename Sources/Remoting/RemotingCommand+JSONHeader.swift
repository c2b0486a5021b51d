// JSON header serialisation (type 0) of RemotingCommand: an exact writer and a tolerant reader for
// this one object shape, without Foundation (spec remoting.md §3). Runs on the event loop per frame.

import NIOCore

extension RemotingCommand {
    /// Writes the header as Java emits it: members in alphabetical order, nulls omitted, extFields values
    /// as strings (in dictionary order, as Java writes HashMap order), no whitespace.
    public func writeJSONHeader(into buffer: inout ByteBuffer) {
        buffer.writeStaticString("{\"code\":")
        buffer.writeDecimal(Int64(code))
        if let extFields {
            buffer.writeStaticString(",\"extFields\":{")
            var first = true
            for (key, value) in extFields {
                if !first { buffer.writeInteger(UInt8(ascii: ",")) }
                first = false
                buffer.writeJSONString(key)
                buffer.writeInteger(UInt8(ascii: ":"))
                buffer.writeJSONString(value)
            }
            buffer.writeInteger(UInt8(ascii: "}"))
        }
        buffer.writeStaticString(",\"flag\":")
        buffer.writeDecimal(Int64(flag))
        buffer.writeStaticString(",\"language\":\"")
        buffer.writeString(language.name)
        buffer.writeStaticString("\",\"opaque\":")
        buffer.writeDecimal(Int64(opaque))
        if let remark {
            buffer.writeStaticString(",\"remark\":")
            buffer.writeJSONString(remark)
        }
        buffer.writeStaticString(",\"serializeTypeCurrentRPC\":\"")
        buffer.writeStaticString(serializeType == .json ? "JSON" : "ROCKETMQ")
        buffer.writeStaticString("\",\"version\":")
        buffer.writeDecimal(Int64(version))
        buffer.writeInteger(UInt8(ascii: "}"))
    }

    /// Parses a JSON header: any member order, unknown members skipped, `language` as name or ordinal,
    /// extFields values as strings, numbers or booleans (normalised to text), trailing whitespace allowed.
    public static func readJSONHeader(_ bytes: UnsafeRawBufferPointer) throws(RemotingError) -> RemotingCommand {
        var s = JSONScanner(bytes)
        var command = RemotingCommand(code: 0, language: .java, version: 0, serializeType: .json)
        var sawCode = false
        do {
            try s.expect(UInt8(ascii: "{"))
            var more = try s.firstInContainer(close: UInt8(ascii: "}"))
            while more {
                let (name, _) = try s.readMemberName()
                try s.expect(UInt8(ascii: ":"))
                s.skipWhitespace()
                if s.peek() == UInt8(ascii: "n") {  // null member: same as absent
                    _ = try s.readWord()
                    more = try s.nextInContainer(close: UInt8(ascii: "}"))
                    continue
                }
                switch name {
                case "code": command.code = try readInt32(&s, "code"); sawCode = true
                case "opaque": command.opaque = try readInt32(&s, "opaque")
                case "flag": command.flag = try readInt32(&s, "flag")
                case "version": command.version = try readInt32(&s, "version")
                case "language":
                    if s.peek() == UInt8(ascii: "\"") || s.peek() == UInt8(ascii: "'") {
                        // Unknown names decode to "no language" in Java; keep OTHER so replies stay valid.
                        command.language = LanguageCode(name: try s.readString()) ?? .other
                    } else {
                        let ordinal = try s.readInt64()
                        guard ordinal >= 0, ordinal < Int64(LanguageCode.names.count) else {
                            throw RemotingError.malformedHeader("language ordinal \(ordinal) out of range")
                        }
                        command.language = LanguageCode(rawValue: UInt8(ordinal))
                    }
                case "remark": command.remark = try readText(&s)
                case "extFields": command.extFields = try readExtFields(&s)
                default: try s.skipValue()
                }
                more = try s.nextInContainer(close: UInt8(ascii: "}"))
            }
            s.skipWhitespace()
            guard s.atEnd else { throw RemotingError.malformedHeader("bytes after the header object") }
        } catch let error as RemotingError {
            if case .malformedBody(let why) = error { throw .malformedHeader(why) }
            throw error
        } catch {
            throw .malformedHeader("\(error)")
        }
        guard sawCode else { throw .malformedHeader("no code") }
        return command
    }

    private static func readInt32(_ s: inout JSONScanner, _ name: String) throws(RemotingError) -> Int32 {
        let v: Int64
        if s.peek() == UInt8(ascii: "\"") {
            guard let parsed = Int64(try s.readString()) else { throw .malformedHeader("\(name) is not a number") }
            v = parsed
        } else {
            v = try s.readInt64()
        }
        guard let narrowed = Int32(exactly: v) else { throw .malformedHeader("\(name) out of range") }
        return narrowed
    }

    /// A scalar as text: strings as is, numbers and booleans as their literal text (§3.1).
    static func readText(_ s: inout JSONScanner) throws(RemotingError) -> String? {
        s.skipWhitespace()
        guard let b = s.peek() else { throw .malformedHeader("expected value") }
        switch b {
        case UInt8(ascii: "\""), UInt8(ascii: "'"): return try s.readString()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try s.readNumberText()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            try s.skipValue()
            throw .malformedHeader("object where text was expected")
        default:
            let word = try s.readWord()
            switch word {
            case "true": return "true"
            case "false": return "false"
            case "null": return nil
            default: throw .malformedHeader("unexpected word \(word)")
            }
        }
    }

    private static func readExtFields(_ s: inout JSONScanner) throws(RemotingError) -> [String: String] {
        try s.expect(UInt8(ascii: "{"))
        var fields: [String: String] = [:]
        fields.reserveCapacity(16)
        var more = try s.firstInContainer(close: UInt8(ascii: "}"))
        while more {
            let (key, _) = try s.readMemberName()
            try s.expect(UInt8(ascii: ":"))
            if let value = try readText(&s) { fields[key] = value }
            more = try s.nextInContainer(close: UInt8(ascii: "}"))
        }
        return fields
    }
}

extension ByteBuffer {
    /// Decimal text of an integer, written without an intermediate String.
    @inline(__always)
    mutating func writeDecimal(_ value: Int64) {
        if value >= 0 && value < 10 {
            writeInteger(UInt8(48 + value))
            return
        }
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var i = 20
            while magnitude > 0 {
                i -= 1
                digits[i] = UInt8(48 + magnitude % 10)
                magnitude /= 10
            }
            if value < 0 { writeInteger(UInt8(ascii: "-")) }
            writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(digits)[i..<20]))
        }
    }

    /// A JSON string literal: `"`, `\` and control characters escaped, everything else raw UTF-8
    /// (fastjson's default output, §16.1).
    mutating func writeJSONString(_ string: String) {
        writeInteger(UInt8(ascii: "\""))
        var s = string
        s.withUTF8 { utf8 in
            var runStart = 0
            for i in 0..<utf8.count {
                let b = utf8[i]
                guard b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") else { continue }
                if i > runStart { writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(utf8)[runStart..<i])) }
                runStart = i + 1
                switch b {
                case UInt8(ascii: "\""): writeStaticString("\\\"")
                case UInt8(ascii: "\\"): writeStaticString("\\\\")
                case 0x0A: writeStaticString("\\n")
                case 0x0D: writeStaticString("\\r")
                case 0x09: writeStaticString("\\t")
                default:
                    writeStaticString("\\u00")
                    let hex: StaticString = "0123456789abcdef"
                    hex.withUTF8Buffer { h in
                        writeInteger(h[Int(b >> 4)])
                        writeInteger(h[Int(b & 0xF)])
                    }
                }
            }
            if utf8.count > runStart {
                writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(utf8)[runStart..<utf8.count]))
            }
        }
        writeInteger(UInt8(ascii: "\""))
    }
}
