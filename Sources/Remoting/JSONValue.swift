// JSONValue: the tolerant JSON tree that every body is read through (spec remoting.md §16.2, §16.3).
// Parsed once per body on whichever task handles the request; accepts fastjson's non-standard output:
// bare numeric keys, object-literal keys, single quotes, stray commas, a trailing newline.

import NIOCore

public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The literal text of a number, kept exact (longs beyond 2^53, `1.0E7`).
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    // MARK: Lenient accessors: numbers where strings are expected and vice versa (§16.2).

    public var stringValue: String? {
        switch self {
        case .string(let s): return s
        case .number(let n): return n
        case .bool(let b): return b ? "true" : "false"
        default: return nil
        }
    }
    public var int64Value: Int64? {
        switch self {
        case .number(let n): return Int64(n) ?? Double(n).flatMap { Int64(exactly: $0.rounded(.towardZero)) }
        case .string(let s): return Int64(s.trimmingSpaces)
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }
    public var int32Value: Int32? { int64Value.flatMap { Int32(exactly: $0) } }
    public var intValue: Int? { int64Value.flatMap { Int(exactly: $0) } }
    public var boolValue: Bool? {
        switch self {
        case .bool(let b): return b
        case .string(let s): return s.lowercased() == "true" ? true : (s.lowercased() == "false" ? false : nil)
        case .number(let n): return n != "0"
        default: return nil
        }
    }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    public var objectValue: JSONObject? { if case .object(let o) = self { return o } else { return nil } }

    public subscript(key: String) -> JSONValue? { objectValue?[key] }

    // MARK: Parsing

    /// Parses one value; only whitespace may follow it.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(RemotingError) -> JSONValue {
        var s = JSONScanner(bytes)
        let value = try parseValue(&s, depth: 0)
        s.skipWhitespace()
        guard s.atEnd else { throw s.error("trailing bytes after JSON value") }
        return value
    }

    public static func parse(_ buffer: ByteBuffer) throws(RemotingError) -> JSONValue {
        try buffer.withUnsafeReadableBytes { bytes throws(RemotingError) in try parse(bytes) }
    }

    public static func parse(_ text: String) throws(RemotingError) -> JSONValue {
        let bytes = Array(text.utf8)
        do {
            return try bytes.withUnsafeBytes { u in try parse(u) }
        } catch let e as RemotingError {
            throw e
        } catch {
            throw .malformedBody("\(error)")
        }
    }

    static func parseValue(_ s: inout JSONScanner, depth: Int) throws(RemotingError) -> JSONValue {
        guard depth < RemotingLimits.jsonDepthMax else { throw s.error("nesting too deep") }
        s.skipWhitespace()
        guard let b = s.peek() else { throw s.error("expected value") }
        switch b {
        case UInt8(ascii: "\""), UInt8(ascii: "'"): return .string(try s.readString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try s.readNumberText())
        case UInt8(ascii: "["):
            s.index += 1
            var items: [JSONValue] = []
            var more = try s.firstInContainer(close: UInt8(ascii: "]"))
            while more {
                items.append(try parseValue(&s, depth: depth + 1))
                more = try s.nextInContainer(close: UInt8(ascii: "]"))
            }
            return .array(items)
        case UInt8(ascii: "{"):
            s.index += 1
            var object = JSONObject()
            var more = try s.firstInContainer(close: UInt8(ascii: "}"))
            while more {
                s.skipWhitespace()
                let key: JSONKey
                if s.peek() == UInt8(ascii: "{") {
                    key = .object(try parseValue(&s, depth: depth + 1))
                } else {
                    let (name, quoted) = try s.readMemberName()
                    key = quoted || Int64(name) == nil ? .string(name) : .number(name)
                }
                try s.expect(UInt8(ascii: ":"))
                object.append(key, try parseValue(&s, depth: depth + 1))
                more = try s.nextInContainer(close: UInt8(ascii: "}"))
            }
            return .object(object)
        default:
            let word = try s.readWord()
            switch word {
            case "true": return .bool(true)
            case "false": return .bool(false)
            case "null": return .null
            default: throw s.error("unexpected word \(word)")
            }
        }
    }
}

/// A member name as written: a string, a bare number (`{0:"addr"}`) or an object literal (MessageQueue keys).
public enum JSONKey: Sendable, Equatable {
    case string(String)
    case number(String)
    case object(JSONValue)

    /// The key as text: strings and numbers as written, object keys as nil.
    public var text: String? {
        switch self {
        case .string(let s), .number(let s): return s
        case .object: return nil
        }
    }
}

/// An object with its members in the order they were read.
public struct JSONObject: Sendable, Equatable {
    public private(set) var members: [(key: JSONKey, value: JSONValue)] = []
    private var index: [String: Int] = [:]

    public init() {}

    public mutating func append(_ key: JSONKey, _ value: JSONValue) {
        if let text = key.text {
            if let i = index[text] {
                members[i].value = value  // later duplicates win, as fastjson
                return
            }
            index[text] = members.count
        }
        members.append((key, value))
    }

    public subscript(key: String) -> JSONValue? {
        guard let i = index[key] else { return nil }
        return members[i].value
    }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        a.members.count == b.members.count
            && zip(a.members, b.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}
