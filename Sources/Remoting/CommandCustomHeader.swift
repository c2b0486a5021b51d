// CommandCustomHeader: a typed request/response header built from and into extFields.
// Every header struct implements it through its HeaderSchema (DescribedHeader), the send request header
// through its own description; decoding happens at the edge (processor entry), any thread.

import NIOCore

/// A typed view of extFields (spec remoting.md §5). Missing required fields throw
/// `RemotingError.missingHeaderField`, which servers turn into SYSTEM_ERROR.
public protocol CommandCustomHeader: Sendable {
    init(extFields: [String: String]) throws(RemotingError)
    func toExtFields() -> [String: String]
    /// Decodes the section of a binary header in place; by default through the dictionary. Described
    /// headers and the send request header read it directly.
    init(binaryExtFields: BinaryExtFields) throws(RemotingError)
    /// Appends this header as binary map entries and returns their byte count; by default from
    /// toExtFields(). Described headers and the send request header write their fields directly.
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

extension String {
    /// Java's number parsing trims spaces before the digits (JSON bodies' numbers given as text).
    var trimmingSpaces: Substring {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return s
    }
}

/// A header with no fields (responses that carry only a code).
public struct EmptyHeader: DescribedHeader, Equatable {
    public init() {}
    public static let schema = HeaderSchema(Self(), [])
}
