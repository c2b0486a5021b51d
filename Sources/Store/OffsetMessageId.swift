// OffsetMessageId: the broker's "msgId" (store.md §3.10): uppercase hex of store host address, port
// and physical offset; 32 characters for IPv4, 56 for IPv6. Decoding picks IPv4 iff the length is 32.
import CStore

public enum OffsetMessageId {
    public static func make(host: MessageHost, physicalOffset: Int64) -> String {
        // Runs for every send answer: the address bytes stay on the stack and the text is written straight
        // into the string's storage.
        var words: (UInt64, UInt64) = (0, 0)
        let count: Int
        switch host.address {
        case .v4(let a):
            withUnsafeMutableBytes(of: &words) { $0.storeBytes(of: a.bigEndian, as: UInt32.self) }
            count = 4
        case .v6(let h, let l): words = (h.bigEndian, l.bigEndian); count = 16
        }
        return withUnsafeBytes(of: &words) { addr in
            // 57: the C side also writes a terminating NUL, which the returned count leaves out.
            String(unsafeUninitializedCapacity: 57) { out in
                Int(apus_msg_id_format(addr.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt32(count), host.port,
                                       physicalOffset, UnsafeMutableRawPointer(out.baseAddress)?.assumingMemoryBound(to: CChar.self)))
            }
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
