// CommandCustomHeader: a typed request/response header built from and into extFields.
// Implemented by every header struct; decoding happens at the edge (processor entry), any thread.

import NIOCore

/// A typed view of extFields (spec remoting.md §5). Missing required fields throw
/// `RemotingError.missingHeaderField`, which servers turn into SYSTEM_ERROR.
public protocol CommandCustomHeader: Sendable {
    init(extFields: [String: String]) throws(RemotingError)
    func toExtFields() -> [String: String]
    /// Decodes the section of a binary header in place; by default through the dictionary. The send
    /// path's headers read it directly.
    init(binaryExtFields: BinaryExtFields) throws(RemotingError)
    /// Appends this header as binary map entries and returns their byte count; by default from
    /// toExtFields(). The send path's headers write their fields directly.
    func writeBinaryExtFields(into buffer: inout ByteBuffer) -> Int
}

extension CommandCustomHeader {
    public init(binaryExtFields: BinaryExtFields) throws(RemotingError) {
        try self.init(extFields: binaryExtFields.dictionary)
    }

    public func writeBinaryExtFields(into buffer: inout ByteBuffer) -> Int {
        RemotingCommand.writeBinaryExtFields(toExtFields(), into: &buffer)
    }
}

/// Field readers used by the header structs. Values are text; C++ numbers were stringified by the
/// header decoder already (§17).
public struct ExtFieldReader: Sendable {
    public let fields: [String: String]
    public init(_ fields: [String: String]) { self.fields = fields }

    public func required(_ key: String) throws(RemotingError) -> String {
        guard let v = fields[key] else { throw .missingHeaderField(key) }
        return v
    }
    public func optional(_ key: String) -> String? { fields[key] }

    public func requiredInt64(_ key: String) throws(RemotingError) -> Int64 {
        guard let v = Int64(try required(key).trimmingSpaces) else { throw .missingHeaderField(key) }
        return v
    }
    public func optionalInt64(_ key: String) -> Int64? { fields[key].flatMap { Int64($0.trimmingSpaces) } }

    public func requiredInt32(_ key: String) throws(RemotingError) -> Int32 {
        guard let v = Int32(try required(key).trimmingSpaces) else { throw .missingHeaderField(key) }
        return v
    }
    public func optionalInt32(_ key: String) -> Int32? { fields[key].flatMap { Int32($0.trimmingSpaces) } }

    /// Java `Boolean.parseBoolean`: only case-insensitive "true" is true (§5.1).
    public func bool(_ key: String) -> Bool? { fields[key].map { $0.lowercased() == "true" } }
}

extension String {
    var trimmingSpaces: Substring {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return s
    }
}

/// A header with no fields (responses that carry only a code).
public struct EmptyHeader: CommandCustomHeader {
    public init() {}
    public init(extFields: [String: String]) {}
    public func toExtFields() -> [String: String] { [:] }
}
