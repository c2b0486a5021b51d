// OffsetMessageId: the broker's "msgId" (store.md §3.10, client.md §5.5): uppercase hex of the store
// host's address, port and the record's physical offset; 32 characters for IPv4, 56 for IPv6. Decoding
// picks IPv4 iff the length is 32. Pure functions; `make` runs for every send answer and pulled message.

public enum OffsetMessageId {

    public static func make(host: MessageHost, physicalOffset: Int64) -> String {
        // Written straight into the string's storage: no intermediate array, one allocation.
        let count = host.isIPv6 ? 56 : 32
        return String(unsafeUninitializedCapacity: count) { out in
            var i = 0
            func put<T: FixedWidthInteger>(_ value: T) {
                var shift = T.bitWidth - 4
                while shift >= 0 {
                    out[i] = hexDigit(UInt8(truncatingIfNeeded: value >> shift) & 0xF)
                    i += 1
                    shift -= 4
                }
            }
            switch host.address {
            case .v4(let a): put(a)
            case .v6(let h, let l): put(h); put(l)
            }
            put(UInt32(bitPattern: host.port))
            put(UInt64(bitPattern: physicalOffset))
            return i
        }
    }

    @inline(__always) private static func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? 0x30 + v : 0x37 + v }

    /// Splits an id into its host and physical offset; nil if it is not 32 or 56 hex characters.
    public static func parse(_ id: String) -> (host: MessageHost, physicalOffset: Int64)? {
        let chars = Array(id.utf8)
        guard chars.count == 32 || chars.count == 56 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let hi = hexValue(chars[i]), let lo = hexValue(chars[i + 1]) else { return nil }
            bytes.append(hi << 4 | lo)
            i += 2
        }
        let hostLen = chars.count == 32 ? 4 : 16
        let port = Int32(bitPattern: bytes[hostLen..<hostLen + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        let offset = Int64(bitPattern: bytes[(hostLen + 4)...].reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        guard let host = MessageHost(addressBytes: bytes[0..<hostLen], port: port) else { return nil }
        return (host, offset)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }
}
