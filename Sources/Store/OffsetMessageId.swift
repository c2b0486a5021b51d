// OffsetMessageId: the broker's "msgId" (store.md §3.10): uppercase hex of store host address, port
// and physical offset; 32 characters for IPv4, 56 for IPv6. Decoding picks IPv4 iff the length is 32.
import CStore

public enum OffsetMessageId {
    public static func make(host: MessageHost, physicalOffset: Int64) -> String {
        let addr = host.addressBytes
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 57) { out in
            let n = apus_msg_id_format(addr, UInt32(addr.count), host.port, physicalOffset, out.baseAddress)
            return String(decoding: UnsafeRawBufferPointer(start: out.baseAddress, count: Int(n)), as: UTF8.self)
        }
    }

    /// Splits an id into its host and physical offset; nil if it is not 32 or 56 hex characters.
    public static func parse(_ id: String) -> (host: MessageHost, physicalOffset: Int64)? {
        let chars = Array(id.utf8)
        guard chars.count == 32 || chars.count == 56 else { return nil }
        var bytes: [UInt8] = []
        var i = 0
        while i < chars.count {
            guard let hi = hexValue(chars[i]), let lo = hexValue(chars[i + 1]) else { return nil }
            bytes.append(hi << 4 | lo)
            i += 2
        }
        let hostLen = chars.count == 32 ? 4 : 16
        func be<T: FixedWidthInteger>(_ at: Int, _: T.Type) -> T {
            var v: T = 0
            for b in bytes[at..<(at + MemoryLayout<T>.size)] { v = v << 8 | T(b) }
            return v
        }
        let address: MessageHost.Address = hostLen == 4 ? .v4(be(0, UInt32.self)) : .v6(be(0, UInt64.self), be(8, UInt64.self))
        let port = Int32(bitPattern: be(hostLen, UInt32.self))
        let offset = Int64(bitPattern: be(hostLen + 4, UInt64.self))
        return (MessageHost(address, port: port), offset)
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
