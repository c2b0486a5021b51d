// MessageHost: an IPv4 or IPv6 address with a port, as a record stores BORNHOST and STOREHOST (store.md
// §3.2; sysFlag bits 0x10/0x20 pick 16 address bytes). A value; its text is what Java prints for an
// InetSocketAddress without the leading slash ("10.0.0.5:10911", IPv6 as eight hex groups).

public struct MessageHost: Sendable, Hashable, CustomStringConvertible {
    public enum Address: Sendable, Hashable {
        /// The four address bytes as a big-endian integer: 192.168.0.20 is 0xC0A80014.
        case v4(UInt32)
        /// The sixteen address bytes as two big-endian halves.
        case v6(UInt64, UInt64)
    }
    public var address: Address
    public var port: Int32

    public init(_ address: Address, port: Int32) {
        self.address = address
        self.port = port
    }

    /// Parses dotted IPv4 text ("127.0.0.1"); nil if it is not one.
    public init?(ipv4 text: String, port: Int32) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard let byte = UInt8(part) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        self.init(.v4(value), port: port)
    }

    /// From 4 or 16 address bytes as a record holds them; nil for any other count.
    public init?<C: Collection<UInt8>>(addressBytes bytes: C, port: Int32) {
        switch bytes.count {
        case 4: self.init(.v4(bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }), port: port)
        case 16:
            let hi = bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let lo = bytes.suffix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            self.init(.v6(hi, lo), port: port)
        default: return nil
        }
    }

    public var isIPv6: Bool { if case .v6 = address { true } else { false } }

    public var addressBytes: [UInt8] {
        switch address {
        case .v4(let a): return withUnsafeBytes(of: a.bigEndian) { Array($0) }
        case .v6(let h, let l): return withUnsafeBytes(of: h.bigEndian) { Array($0) } + withUnsafeBytes(of: l.bigEndian) { Array($0) }
        }
    }

    /// The address without the port.
    public var addressText: String {
        switch address {
        case .v4(let a): return "\(a >> 24).\(a >> 16 & 0xFF).\(a >> 8 & 0xFF).\(a & 0xFF)"
        case .v6(let h, let l):
            let groups = (0..<4).map { UInt16(truncatingIfNeeded: h >> (48 - 16 * $0)) }
                + (0..<4).map { UInt16(truncatingIfNeeded: l >> (48 - 16 * $0)) }
            return groups.map { String($0, radix: 16) }.joined(separator: ":")
        }
    }

    public var description: String { "\(addressText):\(port)" }

    public static let loopback = MessageHost(.v4(0x7F00_0001), port: 10911)
}
