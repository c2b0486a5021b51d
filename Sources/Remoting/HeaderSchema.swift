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
}

extension String: HeaderScalar {
    public static func read(_ bytes: UnsafeRawBufferPointer) -> String? { ExtFieldBytes.string(bytes) }
    public var headerValue: HeaderValue { .text(self) }
}

extension Int32: HeaderScalar {
    public static func read(_ bytes: UnsafeRawBufferPointer) -> Int32? { ExtFieldBytes.int32(bytes) }
    public var headerValue: HeaderValue { .number(Int64(self)) }
}

extension Int64: HeaderScalar {
    public static func read(_ bytes: UnsafeRawBufferPointer) -> Int64? { ExtFieldBytes.int64(bytes) }
    public var headerValue: HeaderValue { .number(self) }
}

extension Bool: HeaderScalar {
    public static func read(_ bytes: UnsafeRawBufferPointer) -> Bool? { ExtFieldBytes.bool(bytes) }
    public var headerValue: HeaderValue { .flag(self) }
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

    init(_ key: StaticString, isRequired: Bool, read: @escaping @Sendable (inout H, UnsafeRawBufferPointer) -> Bool,
         reset: @escaping @Sendable (inout H) -> Void, value: @escaping @Sendable (H) -> HeaderValue?) {
        self.key = key
        self.name = key.description
        self.isRequired = isRequired
        self.read = read
        self.reset = reset
        self.value = value
    }

    /// Must be present and parse (Java `@CFNotNull`); always sent.
    static func required<T: HeaderScalar>(_ key: StaticString, _ path: WritableKeyPath<H, T> & Sendable) -> Self {
        Self(key, isRequired: true, read: { h, bytes in
            guard let v = T.read(bytes) else { return false }
            h[keyPath: path] = v
            return true
        }, reset: { _ in }, value: { $0[keyPath: path].headerValue })
    }

    /// Absent or unparsable is nil; nil is not sent. `emptyIsAbsent`: an empty text reads as nil too (the C++
    /// client sends "" for an absent value).
    static func optional<T: HeaderScalar>(
        _ key: StaticString, _ path: WritableKeyPath<H, T?> & Sendable, emptyIsAbsent: Bool = false
    ) -> Self {
        Self(key, isRequired: false, read: { h, bytes in
            if emptyIsAbsent && bytes.isEmpty {
                h[keyPath: path] = nil
                return true
            }
            guard let v = T.read(bytes) else { return false }
            h[keyPath: path] = v
            return true
        }, reset: { $0[keyPath: path] = nil }, value: { $0[keyPath: path]?.headerValue })
    }

    /// Absent or unparsable is `fallback` (a Java primitive or an initialised field); always sent.
    static func defaulted<T: HeaderScalar>(_ key: StaticString, _ path: WritableKeyPath<H, T> & Sendable, _ fallback: T) -> Self {
        Self(key, isRequired: false, read: { h, bytes in
            guard let v = T.read(bytes) else { return false }
            h[keyPath: path] = v
            return true
        }, reset: { $0[keyPath: path] = fallback }, value: { $0[keyPath: path].headerValue })
    }

    /// A text field with a conversion of its own (a list in one string): `decode` gets nil when the key is
    /// absent; `encode` returning nil leaves the key out.
    static func text<T>(
        _ key: StaticString, _ path: WritableKeyPath<H, T> & Sendable, decode: @escaping @Sendable (String?) -> T,
        encode: @escaping @Sendable (T) -> String?
    ) -> Self {
        Self(key, isRequired: false, read: { h, bytes in
            h[keyPath: path] = decode(ExtFieldBytes.string(bytes))
            return true
        }, reset: { $0[keyPath: path] = decode(nil) }, value: { encode($0[keyPath: path]).map { .text($0) } })
    }
}

/// A header's fields in wire order, with the value decoding starts from.
public struct HeaderSchema<H: Sendable>: Sendable {
    let fields: [HeaderField<H>]
    /// `placeholder` with every optional field at what an absent key decodes to.
    let blank: H
    /// Bit i set: field i is required.
    let requiredMask: UInt64

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
    }

    /// From a JSON header's map: each value's bytes through the same readers as the binary path.
    func decode(_ map: [String: String]) throws(RemotingError) -> H {
        var h = blank
        var seen: UInt64 = 0
        for i in fields.indices {
            guard var text = map[fields[i].name] else { continue }
            let ok = text.withUTF8 { fields[i].read(&h, UnsafeRawBufferPointer($0)) }
            if ok { seen |= 1 << UInt64(i) } else { fields[i].reset(&h) }
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
            if fields[i].read(&h, value) {
                seen |= 1 << UInt64(i)
            } else {
                seen &= ~(1 << UInt64(i))
                fields[i].reset(&h)
            }
        }
        try check(seen)
        return h
    }

    @inline(__always)
    private func index(of key: UnsafeRawBufferPointer) -> Int? {
        fields.firstIndex { ExtFieldBytes.matches(key, $0.key) }
    }

    /// The first required field (in schema order) absent or unparsable names the error.
    private func check(_ seen: UInt64) throws(RemotingError) {
        let missing = requiredMask & ~seen
        guard missing != 0 else { return }
        throw .missingHeaderField(fields[missing.trailingZeroBitCount].name)
    }

    func extFields(of h: H) -> [String: String] {
        var map = [String: String](minimumCapacity: fields.count)
        for f in fields {
            if let v = f.value(h) { map[f.name] = v.string }
        }
        return map
    }

    /// Writes the present fields as binary map entries in schema order; returns their byte count.
    func writeBinary(_ h: H, into buffer: inout ByteBuffer) -> Int {
        var n = 0
        for f in fields {
            switch f.value(h) {
            case .text(let s)?: n += buffer.writeExtField(f.key, s)
            case .number(let x)?: n += buffer.writeExtField(f.key, x)
            case .flag(let b)?: n += buffer.writeExtField(f.key, b)
            case nil: break
            }
        }
        return n
    }
}
