// HeaderSchema: one description per typed header (each field's wire key, type, whether it must be present,
// where it lives) that drives all four codecs — from and into a JSON header's extFields map, read in place
// from a binary header section, written straight into one. Built once per header type; plain Sendable values.

import NIOCore

/// A header whose codecs all come from its `schema` (spec remoting.md §5).
public protocol DescribedHeader: CommandCustomHeader {
    static var schema: HeaderSchema<Self> { get }
}

extension DescribedHeader {
    public init(extFields: [String: String]) throws(RemotingError) { self = try Self.schema.decode(extFields) }
    public func toExtFields() -> [String: String] { Self.schema.extFields(of: self) }
    public init(binaryExtFields: BinaryExtFields) throws(RemotingError) { self = try Self.schema.decode(binaryExtFields) }
    public func writeBinaryExtFields(into buffer: inout ByteBuffer) -> Int { Self.schema.writeBinary(self, into: &buffer) }
}

/// A field's value as sent: text as is, numbers and flags as Java prints them.
public enum HeaderValue: Sendable, Equatable {
    case text(String), number(Int64), flag(Bool)

    var string: String {
        switch self {
        case .text(let s): return s
        case .number(let n): return String(n)
        case .flag(let b): return b ? "true" : "false"
        }
    }
}

/// A type a header field can hold. Both sources are read from their bytes by the same readers
/// (ExtFieldBytes: Java's parseInt/parseLong after trimming spaces, `Boolean.parseBoolean`), so a JSON
/// header and a binary one can never decode the same text differently.
public protocol HeaderScalar: Sendable {
    /// nil when the text does not parse.
    static func read(_ bytes: UnsafeRawBufferPointer) -> Self?
    var headerValue: HeaderValue { get }
    /// Writes `key` and this value as one binary map entry; returns its bytes (0 for an empty text).
    func writeExtField(_ key: StaticString, into buffer: inout ByteBuffer) -> Int
}

extension String: HeaderScalar {
    public static func read(_ bytes: UnsafeRawBufferPointer) -> String? { ExtFieldBytes.string(bytes) }
    public var headerValue: HeaderValue { .text(self) }
    public func writeExtField(_ key: StaticString, into buffer: inout ByteBuffer) -> Int { buffer.writeExtField(key, self) }
}

extension Int32: HeaderScalar {
    public static func read(_ bytes: UnsafeRawBufferPointer) -> Int32? { ExtFieldBytes.int32(bytes) }
    public var headerValue: HeaderValue { .number(Int64(self)) }
    public func writeExtField(_ key: StaticString, into buffer: inout ByteBuffer) -> Int {
        buffer.writeExtField(key, Int64(self))
    }
}

extension Int64: HeaderScalar {
    public static func read(_ bytes: UnsafeRawBufferPointer) -> Int64? { ExtFieldBytes.int64(bytes) }
    public var headerValue: HeaderValue { .number(self) }
    public func writeExtField(_ key: StaticString, into buffer: inout ByteBuffer) -> Int { buffer.writeExtField(key, self) }
}

extension Bool: HeaderScalar {
    public static func read(_ bytes: UnsafeRawBufferPointer) -> Bool? { ExtFieldBytes.bool(bytes) }
    public var headerValue: HeaderValue { .flag(self) }
    public func writeExtField(_ key: StaticString, into buffer: inout ByteBuffer) -> Int { buffer.writeExtField(key, self) }
}

/// Gets and sets one property of a header. A struct's stored property sits at a fixed offset
/// (`MemoryLayout.offset(of:)`), and going through it skips the key path's runtime walk, which cost more
/// than the rest of a field's binary encoding; anything else keeps the key path.
struct FieldAccess<H, T>: Sendable {
    let path: WritableKeyPath<H, T> & Sendable
    let offset: Int?

    init(_ path: WritableKeyPath<H, T> & Sendable) {
        self.path = path
        self.offset = MemoryLayout<H>.offset(of: path)
    }

    @inline(__always)
    func get(_ h: H) -> T {
        guard let offset else { return h[keyPath: path] }
        return withUnsafeBytes(of: h) { raw in
            guard let base = raw.baseAddress else { return h[keyPath: path] }
            return base.advanced(by: offset).assumingMemoryBound(to: T.self).pointee
        }
    }

    @inline(__always)
    func set(_ h: inout H, _ value: T) {
        guard let offset else { h[keyPath: path] = value; return }
        let stored = withUnsafeMutableBytes(of: &h) { raw -> Bool in
            guard let base = raw.baseAddress else { return false }
            base.advanced(by: offset).assumingMemoryBound(to: T.self).pointee = value
            return true
        }
        if !stored { h[keyPath: path] = value }
    }
}

/// One field of a header: its key and how its value is read, defaulted and written.
public struct HeaderField<H>: Sendable {
    let key: StaticString
    let name: String
    let isRequired: Bool
    /// Stores the value read from `bytes`; false when it does not parse.
    let read: @Sendable (inout H, UnsafeRawBufferPointer) -> Bool
    /// Stores what an absent or unparsable key decodes to (nothing for a required field: it throws instead).
    let reset: @Sendable (inout H) -> Void
    /// The value to send; nil leaves the key out.
    let value: @Sendable (H) -> HeaderValue?
    /// Writes the binary map entry (if any) straight from the typed value; the send answer goes through
    /// this once per message, so no HeaderValue is made on the way.
    let write: @Sendable (H, inout ByteBuffer) -> Int

    /// Must be present and parse (Java `@CFNotNull`); always sent.
    static func required<T: HeaderScalar>(_ key: StaticString, _ path: WritableKeyPath<H, T> & Sendable) -> Self {
        let field = FieldAccess(path)
        return Self(key: key, name: key.description, isRequired: true, read: { h, bytes in
            guard let v = T.read(bytes) else { return false }
            field.set(&h, v)
            return true
        }, reset: { _ in }, value: { field.get($0).headerValue },
        write: { h, buffer in field.get(h).writeExtField(key, into: &buffer) })
    }

    /// Absent or unparsable is nil; nil is not sent. `emptyIsAbsent`: an empty text reads as nil too (the C++
    /// client sends "" for an absent value).
    static func optional<T: HeaderScalar>(
        _ key: StaticString, _ path: WritableKeyPath<H, T?> & Sendable, emptyIsAbsent: Bool = false
    ) -> Self {
        let field = FieldAccess(path)
        return Self(key: key, name: key.description, isRequired: false, read: { h, bytes in
            if emptyIsAbsent && bytes.isEmpty {
                field.set(&h, nil)
                return true
            }
            guard let v = T.read(bytes) else { return false }
            field.set(&h, v)
            return true
        }, reset: { field.set(&$0, nil) }, value: { field.get($0)?.headerValue },
        write: { h, buffer in field.get(h)?.writeExtField(key, into: &buffer) ?? 0 })
    }

    /// Absent or unparsable is `fallback` (a Java primitive or an initialised field); always sent.
    static func defaulted<T: HeaderScalar>(_ key: StaticString, _ path: WritableKeyPath<H, T> & Sendable, _ fallback: T) -> Self {
        let field = FieldAccess(path)
        return Self(key: key, name: key.description, isRequired: false, read: { h, bytes in
            guard let v = T.read(bytes) else { return false }
            field.set(&h, v)
            return true
        }, reset: { field.set(&$0, fallback) }, value: { field.get($0).headerValue },
        write: { h, buffer in field.get(h).writeExtField(key, into: &buffer) })
    }

    /// A text field with a conversion of its own (a list in one string): `decode` gets nil when the key is
    /// absent; `encode` returning nil leaves the key out.
    static func text<T>(
        _ key: StaticString, _ path: WritableKeyPath<H, T> & Sendable, decode: @escaping @Sendable (String?) -> T,
        encode: @escaping @Sendable (T) -> String?
    ) -> Self {
        let field = FieldAccess(path)
        return Self(key: key, name: key.description, isRequired: false, read: { h, bytes in
            field.set(&h, decode(ExtFieldBytes.string(bytes)))
            return true
        }, reset: { field.set(&$0, decode(nil)) }, value: { encode(field.get($0)).map { .text($0) } },
        write: { h, buffer in encode(field.get(h)).map { buffer.writeExtField(key, $0) } ?? 0 })
    }
}

/// A header's fields in wire order, with the value decoding starts from. A class: every use reaches it
/// through a static, and copying a struct out of it (the fields array and a whole header) on each
/// encode cost as much as the encoding.
public final class HeaderSchema<H: Sendable>: Sendable {
    let fields: [HeaderField<H>]
    /// `placeholder` with every optional field at what an absent key decodes to.
    let blank: H
    /// Bit i set: field i is required.
    let requiredMask: UInt64
    // The fields' parts the codecs use, each in an array of its own: taking one closure out of a field
    // struct copied the whole struct (four closure contexts and a name retained and released).
    private let keys: [StaticString]
    private let names: [String]
    private let values: [@Sendable (H) -> HeaderValue?]
    private let readers: [@Sendable (inout H, UnsafeRawBufferPointer) -> Bool]
    private let resets: [@Sendable (inout H) -> Void]
    private let writers: [@Sendable (H, inout ByteBuffer) -> Int]

    /// `placeholder`'s required fields are never seen: decoding overwrites them or throws.
    init(_ placeholder: H, _ fields: [HeaderField<H>]) {
        precondition(fields.count <= 64, "a header schema holds at most 64 fields")
        var blank = placeholder
        var mask: UInt64 = 0
        for (i, f) in fields.enumerated() {
            if f.isRequired { mask |= 1 << UInt64(i) } else { f.reset(&blank) }
        }
        self.fields = fields
        self.blank = blank
        self.requiredMask = mask
        keys = fields.map(\.key)
        names = fields.map(\.name)
        values = fields.map(\.value)
        readers = fields.map(\.read)
        resets = fields.map(\.reset)
        writers = fields.map(\.write)
    }

    /// From a JSON header's map: each value's bytes through the same readers as the binary path.
    func decode(_ map: [String: String]) throws(RemotingError) -> H {
        var h = blank
        var seen: UInt64 = 0
        for i in fields.indices {
            guard var text = map[names[i]] else { continue }
            let ok = text.withUTF8 { readers[i](&h, UnsafeRawBufferPointer($0)) }
            if ok { seen |= 1 << UInt64(i) } else { resets[i](&h) }
        }
        try check(seen)
        return h
    }

    /// From a binary header section, in place: a String is made only for text fields. A repeated key: the
    /// last one wins, as in the dictionary.
    func decode(_ section: BinaryExtFields) throws(RemotingError) -> H {
        var h = blank
        var seen: UInt64 = 0
        section.forEachField { key, value in
            guard let i = index(of: key) else { return }
            if readers[i](&h, value) {
                seen |= 1 << UInt64(i)
            } else {
                seen &= ~(1 << UInt64(i))
                resets[i](&h)
            }
        }
        try check(seen)
        return h
    }

    @inline(__always)
    private func index(of key: UnsafeRawBufferPointer) -> Int? {
        for i in keys.indices where ExtFieldBytes.matches(key, keys[i]) { return i }
        return nil
    }

    /// The first required field (in schema order) absent or unparsable names the error.
    private func check(_ seen: UInt64) throws(RemotingError) {
        let missing = requiredMask & ~seen
        guard missing != 0 else { return }
        throw .missingHeaderField(names[missing.trailingZeroBitCount])
    }

    func extFields(of h: H) -> [String: String] {
        var map = [String: String](minimumCapacity: fields.count)
        for i in names.indices {
            if let v = values[i](h) { map[names[i]] = v.string }
        }
        return map
    }

    /// Writes the present fields as binary map entries in schema order; returns their byte count.
    func writeBinary(_ h: H, into buffer: inout ByteBuffer) -> Int {
        var n = 0
        for w in writers { n += w(h, &buffer) }
        return n
    }
}
