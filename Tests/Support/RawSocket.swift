// RawSocket: blocking loopback sockets that send exact bytes and read raw frames, for tests that check
// what goes over the wire (RemotingTests, NameServerTests). Hex helpers for spec examples.

import Foundation
import NIOCore

public func hexBytes(_ hex: String) -> [UInt8] {
    let clean = hex.filter { $0.isHexDigit }
    var out: [UInt8] = []
    var i = clean.startIndex
    while i < clean.endIndex {
        let j = clean.index(i, offsetBy: 2)
        out.append(UInt8(clean[i..<j], radix: 16) ?? 0)
        i = j
    }
    return out
}

public func hexString(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

extension ByteBuffer {
    public var allBytes: [UInt8] { getBytes(at: readerIndex, length: readableBytes) ?? [] }
}

/// A blocking TCP socket for sending hand-made bytes to a server on loopback.
/// Sendable because: the only state is the descriptor, set once; one thread may send while another
/// receives (the kernel allows that on one socket).
public final class RawSocket: @unchecked Sendable {
    public let fd: Int32

    public init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { close(fd); throw POSIXError(.ECONNREFUSED) }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    public func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads until `count` bytes arrived; nil on EOF/timeout before that.
    public func read(count: Int) -> [UInt8]? {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while out.count < count {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, min($0.count, count - out.count), 0) }
            if n <= 0 { return nil }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }

    /// Reads one whole frame (length prefix included).
    public func readFrame() -> [UInt8]? {
        guard let prefix = read(count: 4) else { return nil }
        let length = Int(prefix[0]) << 24 | Int(prefix[1]) << 16 | Int(prefix[2]) << 8 | Int(prefix[3])
        guard let rest = read(count: length) else { return nil }
        return prefix + rest
    }

    /// True when the peer closed the connection (EOF) within the receive timeout.
    public func waitForClose() -> Bool {
        var b = [UInt8](repeating: 0, count: 1024)
        while true {
            let n = b.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
    }
}
