// RawFrames: hand-made JSON frames exactly as the Java and C++ clients put them on the wire, and a reader
// that returns the response's raw JSON header, so tests can check value types (strings, not numbers).

import ApusTestSupport
import Foundation
import Remoting

enum RawFrames {
    /// `int32 length | int32 headerLength (type 0) | header | body`.
    static func frame(headerJSON: String, body: [UInt8] = []) -> [UInt8] {
        let header = Array(headerJSON.utf8)
        var out: [UInt8] = []
        func put(_ v: Int) { out += [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        put(4 + header.count + body.count)
        put(header.count)
        return out + header + body
    }

    /// Splits a response frame into its JSON header (parsed) and body.
    static func parse(_ frame: [UInt8]) throws -> (header: JSONValue, serializeType: UInt8, body: [UInt8]) {
        let word = Int(frame[4]) << 24 | Int(frame[5]) << 16 | Int(frame[6]) << 8 | Int(frame[7])
        let headerLength = word & 0xFFFFFF
        let header = Array(frame[8..<8 + headerLength])
        let json = try JSONValue.parse(String(decoding: header, as: UTF8.self))
        return (json, UInt8(word >> 24), Array(frame[(8 + headerLength)...]))
    }

    /// The C++ client's batch body (remoting.md §9.2).
    static func batchBody(_ items: [(body: [UInt8], props: String)]) -> [UInt8] {
        var out: [UInt8] = []
        func put32(_ v: Int) { out += [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        for item in items {
            let props = Array(item.props.utf8)
            put32(20 + item.body.count + 2 + props.count)
            put32(0)
            put32(0)
            put32(0)
            put32(item.body.count)
            out += item.body
            out += [UInt8(props.count >> 8), UInt8(props.count & 0xFF)]
            out += props
        }
        return out
    }
}

extension JSONValue {
    /// True when the member exists and is a JSON string (what the C++ client insists on).
    func isStringMember(_ key: String) -> Bool {
        if case .string = self[key] { return true }
        return false
    }
}
