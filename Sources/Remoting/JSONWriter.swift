// JSONWriter: writes bodies in the shapes Java and C++ clients accept (spec remoting.md §16.1, §8.5).
// `.fastjson` is fastjson's default (bare numeric map keys, raw UTF-8); `.standard` is the
// BrowserCompatible form sent to clients >= V4_9_4 (quoted keys, non-ASCII and `/` escaped,
// longs beyond 2^53 as strings). Map keys are always sorted. Used on any task; a plain value.

import NIOCore

public struct JSONWriter {
    public enum Style: Sendable { case fastjson, standard }

    public let style: Style
    public private(set) var bytes: [UInt8] = []
    /// One entry per open container: whether a separator is due before the next entry.
    private var separatorDue: [Bool] = []
    private var afterKey = false

    public init(style: Style = .fastjson) {
        self.style = style
        bytes.reserveCapacity(256)
    }

    public var buffer: ByteBuffer { ByteBuffer(bytes: bytes) }
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    private mutating func beginEntry() {
        if afterKey { afterKey = false; return }
        if let last = separatorDue.last {
            if last { bytes.append(UInt8(ascii: ",")) }
            separatorDue[separatorDue.count - 1] = true
        }
    }

    public mutating func beginObject() { beginEntry(); bytes.append(UInt8(ascii: "{")); separatorDue.append(false) }
    public mutating func endObject() { separatorDue.removeLast(); bytes.append(UInt8(ascii: "}")) }
    public mutating func beginArray() { beginEntry(); bytes.append(UInt8(ascii: "[")); separatorDue.append(false) }
    public mutating func endArray() { separatorDue.removeLast(); bytes.append(UInt8(ascii: "]")) }

    public mutating func key(_ name: String) {
        beginEntry()
        appendString(name)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    /// A Long/Integer map key: bare in fastjson style (`{0:"a"}`), quoted in standard style.
    public mutating func numericKey(_ value: Int64) {
        beginEntry()
        if style == .standard { bytes.append(UInt8(ascii: "\"")) }
        bytes.append(contentsOf: Array(String(value).utf8))
        if style == .standard { bytes.append(UInt8(ascii: "\"")) }
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    /// A map key written as given (fastjson's object keys, §16), followed by `:`.
    public mutating func rawKey(_ keyBytes: [UInt8]) {
        beginEntry()
        bytes.append(contentsOf: keyBytes)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    public mutating func value(_ s: String) { beginEntry(); appendString(s) }
    public mutating func value(_ b: Bool) { beginEntry(); bytes.append(contentsOf: Array((b ? "true" : "false").utf8)) }
    public mutating func value(_ v: Int64) {
        beginEntry()
        let exactMax: Int64 = 9_007_199_254_740_991
        if style == .standard && (v > exactMax || v < -exactMax) {
            appendString(String(v))
        } else {
            bytes.append(contentsOf: Array(String(v).utf8))
        }
    }
    public mutating func value(_ v: Int32) { value(Int64(v)) }
    public mutating func value(_ v: Int) { value(Int64(v)) }
    public mutating func valueNull() { beginEntry(); bytes.append(contentsOf: Array("null".utf8)) }

    /// Writes a parsed value back (numbers keep their text).
    public mutating func value(_ v: JSONValue) {
        switch v {
        case .null: valueNull()
        case .bool(let b): value(b)
        case .number(let n): beginEntry(); bytes.append(contentsOf: Array(n.utf8))
        case .string(let s): value(s)
        case .array(let items):
            beginArray()
            for item in items { value(item) }
            endArray()
        case .object(let o):
            beginObject()
            for (k, member) in o.members {
                switch k {
                case .string(let s): key(s)
                case .number(let n): numericKey(Int64(n) ?? 0)
                case .object(let ov):
                    var inner = JSONWriter(style: style)
                    inner.value(ov)
                    beginEntry()
                    bytes.append(contentsOf: inner.bytes)
                    bytes.append(UInt8(ascii: ":"))
                    afterKey = true
                }
                value(member)
            }
            endObject()
        }
    }

    // MARK: Conveniences for bean-like bodies

    public mutating func field(_ name: String, _ v: String?) { if let v { key(name); value(v) } }
    public mutating func field(_ name: String, _ v: Int64?) { if let v { key(name); value(v) } }
    public mutating func field(_ name: String, _ v: Int32?) { if let v { key(name); value(Int64(v)) } }
    public mutating func field(_ name: String, _ v: Bool?) { if let v { key(name); value(v) } }
    public mutating func field(_ name: String, strings: [String]) {
        key(name)
        beginArray()
        for s in strings { value(s) }
        endArray()
    }
    public mutating func field(_ name: String, stringMap: [String: String]) {
        key(name)
        beginObject()
        for k in stringMap.keys.sorted() {
            key(k)
            value(stringMap[k] ?? "")
        }
        endObject()
    }

    private mutating func appendString(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        let hex = Array("0123456789abcdef".utf8)
        func escapeUnit(_ u: UInt16, into bytes: inout [UInt8]) {
            bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u")])
            bytes.append(hex[Int(u >> 12)])
            bytes.append(hex[Int(u >> 8 & 0xF)])
            bytes.append(hex[Int(u >> 4 & 0xF)])
            bytes.append(hex[Int(u & 0xF)])
        }
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case "\\": bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case "\n": bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case "\r": bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case "\t": bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case "/" where style == .standard: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "/")])
            default:
                if scalar.value < 0x20 {
                    escapeUnit(UInt16(scalar.value), into: &bytes)
                } else if scalar.value >= 0x7F && style == .standard {
                    for unit in String(scalar).utf16 { escapeUnit(unit, into: &bytes) }
                } else {
                    bytes.append(contentsOf: Array(String(scalar).utf8))
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

/// A JSON body: read through the tolerant reader, written in the Java shape.
public protocol RemotingJSONBody: Sendable {
    init(json: JSONValue) throws(RemotingError)
    func writeJSON(to writer: inout JSONWriter)
}

extension RemotingJSONBody {
    public static func decode(_ buffer: ByteBuffer) throws(RemotingError) -> Self {
        try Self(json: try JSONValue.parse(buffer))
    }
    public static func decode(_ text: String) throws(RemotingError) -> Self {
        try Self(json: try JSONValue.parse(text))
    }
    public func encode(style: JSONWriter.Style = .fastjson) -> ByteBuffer {
        var w = JSONWriter(style: style)
        writeJSON(to: &w)
        return w.buffer
    }
    public func jsonText(style: JSONWriter.Style = .fastjson) -> String {
        var w = JSONWriter(style: style)
        writeJSON(to: &w)
        return w.text
    }
}

extension JSONValue {
    /// The object, or a malformed-body error naming `what`.
    func requireObject(_ what: String) throws(RemotingError) -> JSONObject {
        guard let o = objectValue else { throw .malformedBody("\(what) is not an object") }
        return o
    }
}
