// BinaryExtFields: the extFields section of a ROCKETMQ binary header (spec remoting.md §4.1) kept as it
// arrived and read in place. The send path's typed headers scan it without building a dictionary or a
// String per key; everything else asks for the dictionary. Validated once, when the frame is decoded, so
// a malformed section is refused there exactly as before. Plain value; any thread.

import Glibc
import NIOCore

public struct BinaryExtFields: Sendable {
    /// The section: (int16 key length, key, int32 value length, value)*, lengths big-endian.
    private let section: ByteBuffer

    /// Checks every length against the section; throws what the eager decoder threw.
    init(validating section: ByteBuffer) throws(RemotingError) {
        try section.withUnsafeReadableBytes { bytes throws(RemotingError) in
            var r = BinaryReader(bytes: bytes)
            while r.remaining > 0 {
                let keyLength = Int(try r.int16())
                try r.skip(keyLength, what: "key")
                let valueLength = Int(try r.int32())
                try r.skip(valueLength, what: "value")
            }
        }
        self.section = section
    }

    public var isEmpty: Bool { section.readableBytes == 0 }

    /// Calls `body` with each field whose key is not empty, in wire order (a repeated key: the last wins,
    /// as in the dictionary). The pointers are valid only during the call.
    public func forEachField<E: Error>(
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws(E) -> Void
    ) throws(E) {
        try section.withUnsafeReadableBytes { bytes throws(E) in
            var i = 0
            let n = bytes.count
            // Lengths were validated in init; the guards keep a broken invariant from reading out of bounds.
            while i + 2 <= n {
                let keyLength = Int(Int16(bitPattern: UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1])))
                let keyStart = i + 2
                guard keyLength >= 0, keyStart + keyLength + 4 <= n else { return }
                let v = keyStart + keyLength
                let valueLength = Int(Int32(bitPattern: UInt32(bytes[v]) << 24 | UInt32(bytes[v + 1]) << 16
                                            | UInt32(bytes[v + 2]) << 8 | UInt32(bytes[v + 3])))
                let valueStart = v + 4
                guard valueLength >= 0, valueStart + valueLength <= n else { return }
                if keyLength > 0 {
                    try body(UnsafeRawBufferPointer(rebasing: bytes[keyStart..<v]),
                             UnsafeRawBufferPointer(rebasing: bytes[valueStart..<(valueStart + valueLength)]))
                }
                i = valueStart + valueLength
            }
        }
    }

    /// The fields as text (invalid UTF-8 repaired, as String(decoding:) does).
    public var dictionary: [String: String] {
        var fields = [String: String](minimumCapacity: 16)
        forEachField { (key, value) in
            fields[String(decoding: key, as: UTF8.self)] = String(decoding: value, as: UTF8.self)
        }
        return fields
    }
}

/// Readers of field values straight from their bytes, with the rules of the text path: surrounding
/// spaces ignored, optional sign, decimal digits, nil on anything else or on overflow (Java parseInt).
public enum ExtFieldBytes {
    public static func int64(_ v: UnsafeRawBufferPointer) -> Int64? {
        var i = 0, end = v.count
        while i < end && v[i] == 0x20 { i += 1 }
        while end > i && v[end - 1] == 0x20 { end -= 1 }
        guard i < end else { return nil }
        var negative = false
        if v[i] == UInt8(ascii: "-") || v[i] == UInt8(ascii: "+") {
            negative = v[i] == UInt8(ascii: "-")
            i += 1
            guard i < end else { return nil }
        }
        // Accumulate negatively so Int64.min parses.
        var result: Int64 = 0
        while i < end {
            let d = v[i] &- UInt8(ascii: "0")
            guard d < 10 else { return nil }
            let (m, o1) = result.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.subtractingReportingOverflow(Int64(d))
            guard !o1, !o2 else { return nil }
            result = s
            i += 1
        }
        if negative { return result }
        return result == .min ? nil : -result
    }

    public static func int32(_ v: UnsafeRawBufferPointer) -> Int32? { int64(v).flatMap { Int32(exactly: $0) } }

    /// Java `Boolean.parseBoolean`: only case-insensitive "true".
    public static func bool(_ v: UnsafeRawBufferPointer) -> Bool {
        guard v.count == 4 else { return false }
        return v[0] | 0x20 == UInt8(ascii: "t") && v[1] | 0x20 == UInt8(ascii: "r")
            && v[2] | 0x20 == UInt8(ascii: "u") && v[3] | 0x20 == UInt8(ascii: "e")
    }

    public static func string(_ v: UnsafeRawBufferPointer) -> String { String(decoding: v, as: UTF8.self) }

    /// True when `key` is exactly the ASCII text `name`.
    @inline(__always)
    public static func matches(_ key: UnsafeRawBufferPointer, _ name: StaticString) -> Bool {
        guard key.count == name.utf8CodeUnitCount, let base = key.baseAddress else { return false }
        return memcmp(base, name.utf8Start, key.count) == 0
    }
}

/// Map entries of a binary header written straight from typed values (the send path's headers), each
/// returning the bytes it wrote. Empty values are skipped: they cannot travel in this form (§4.1). Each
/// entry is one capacity check and a few stores; ByteBuffer's per-integer writes cost several times more.
extension ByteBuffer {
    @discardableResult
    public mutating func writeExtField(_ key: StaticString, _ value: String) -> Int {
        let n = value.utf8.count
        guard n > 0 else { return 0 }
        var value = value
        return value.withUTF8 { v in writeExtField(key, bytes: UnsafeRawBufferPointer(v)) }
    }

    @discardableResult
    public mutating func writeExtField(_ key: StaticString, _ value: Int64) -> Int {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0) // 24 bytes: 19 digits and a sign fit
        return withUnsafeMutableBytes(of: &digits) { scratch in
            var magnitude = value.magnitude
            var i = scratch.count
            repeat {
                i -= 1
                scratch[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 { i -= 1; scratch[i] = UInt8(ascii: "-") }
            return writeExtField(key, bytes: UnsafeRawBufferPointer(rebasing: scratch[i...]))
        }
    }

    @discardableResult
    public mutating func writeExtField(_ key: StaticString, _ value: Bool) -> Int {
        writeExtField(key, value ? "true" : "false")
    }

    private mutating func writeExtField(_ key: StaticString, bytes value: UnsafeRawBufferPointer) -> Int {
        let k = key.utf8CodeUnitCount, n = value.count
        let total = 6 + k + n
        writeWithUnsafeMutableBytes(minimumWritableBytes: total) { out in
            guard let base = out.baseAddress else { return 0 }
            base.storeBytes(of: UInt16(k).bigEndian, toByteOffset: 0, as: UInt16.self)
            base.advanced(by: 2).copyMemory(from: key.utf8Start, byteCount: k)
            base.storeBytes(of: UInt32(n).bigEndian, toByteOffset: 2 + k, as: UInt32.self)
            if let v = value.baseAddress { base.advanced(by: 6 + k).copyMemory(from: v, byteCount: n) }
            return total
        }
        return total
    }
}
