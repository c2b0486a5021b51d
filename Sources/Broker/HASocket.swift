// HASocket: the blocking TCP socket the replication threads use (one thread per HA connection, as
// RocketMQ's HAConnection and HAClient each run their own service threads). Writes block with a send
// timeout, so a peer that stops reading costs its own thread and nothing else; CommitLog bytes go out with
// sendfile (no copy, and a page not in the page cache stalls only this thread). Not shared between threads
// except `shutdown`, which any thread may call to wake a blocked accept or read.

import Glibc

struct HASocket: Sendable {
    let fd: Int32

    /// A listening socket on every interface at `port` (0: any free port).
    static func listen(port: Int) -> Result<HASocket, HAError> {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(.system("socket", errno)) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr = in_addr(s_addr: INADDR_ANY)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let e = errno
            Glibc.close(fd)
            return .failure(.system("bind to HA port \(port)", e))
        }
        guard Glibc.listen(fd, 16) == 0 else {
            let e = errno
            Glibc.close(fd)
            return .failure(.system("listen", e))
        }
        return .success(HASocket(fd: fd))
    }

    /// The local port (after listening on port 0).
    var localPort: Int {
        var addr = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// The next connection, or nil once the listener was shut down (or failed).
    func accept() -> (HASocket, String)? {
        while true {
            var addr = sockaddr_in()
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            let c = withUnsafeMutablePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(fd, $0, &len) }
            }
            if c >= 0 {
                _ = fcntl(c, F_SETFD, FD_CLOEXEC)
                let s = HASocket(fd: c)
                s.configure()
                return (s, Self.text(addr))
            }
            if errno == EINTR || errno == ECONNABORTED { continue }
            return nil
        }
    }

    /// Connects to `ip:port` within `timeoutMs`; nil if the address is bad or nobody answers.
    static func connect(to address: String, timeoutMs: Int32) -> HASocket? {
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else { return nil }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(port.bigEndian)
        guard inet_pton(AF_INET, String(address[..<colon]), &addr.sin_addr) == 1 else { return nil }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return nil }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 {
            guard errno == EINPROGRESS else { Glibc.close(fd); return nil }
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            var err: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            guard poll(&p, 1, timeoutMs) == 1, getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0, err == 0 else {
                Glibc.close(fd)
                return nil
            }
        }
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)
        let s = HASocket(fd: fd)
        s.configure()
        return s
    }

    /// No Nagle delay (acks and headers are small and latency-bound); writes give up after 3 s without progress.
    private func configure() {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Writes every byte (blocking); false when the peer is gone or stopped reading for the send timeout.
    func sendAll(_ bytes: UnsafeRawBufferPointer, more: Bool = false) -> Bool {
        guard var p = bytes.baseAddress else { return true }
        var left = bytes.count
        while left > 0 {
            let n = send(fd, p, left, Int32(MSG_NOSIGNAL) | (more ? Int32(MSG_MORE) : 0))
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            p += n
            left -= n
        }
        return true
    }

    /// Sends `count` bytes of `file` from `offset` with sendfile.
    func sendFile(_ file: Int32, offset: Int64, count: Int) -> Bool {
        var off = off_t(offset)
        var left = count
        while left > 0 {
            let n = sendfile(fd, file, &off, left)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            if n == 0 { return false }
            left -= n
        }
        return true
    }

    /// Waits until the socket (or `wake`, a pipe's read end) is readable, at most `timeoutMs`; returns whether the
    /// socket is readable (or closed, which a read then reports).
    func waitReadable(timeoutMs: Int32, wake: Int32) -> Bool {
        var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wake, events: Int16(POLLIN), revents: 0)]
        let n = poll(&fds, wake >= 0 ? 2 : 1, timeoutMs)
        if n > 0 && wake >= 0 && fds[1].revents != 0 {
            var drain = [UInt8](repeating: 0, count: 64)
            _ = read(wake, &drain, drain.count)
        }
        return n > 0 && fds[0].revents != 0
    }

    /// Reads what is there without waiting: bytes read, 0 when the peer closed, -1 when nothing is there
    /// yet, -2 on an error.
    func receive(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard let base = buffer.baseAddress, !buffer.isEmpty else { return -1 }
        while true {
            let n = recv(fd, base, buffer.count, Int32(MSG_DONTWAIT))
            if n >= 0 { return n }
            if errno == EINTR { continue }
            return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : -2
        }
    }

    /// Wakes whoever blocks on this socket (accept, recv, send); the owner closes it afterwards.
    func shutdown() { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }

    func close() { Glibc.close(fd) }

    private static func text(_ addr: sockaddr_in) -> String {
        var a = addr.sin_addr
        var buf = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        inet_ntop(AF_INET, &a, &buf, socklen_t(buf.count))
        let host = buf.withUnsafeBufferPointer { $0.baseAddress.map { String(cString: $0) } ?? "?" }
        return "\(host):\(UInt16(bigEndian: addr.sin_port))"
    }
}

enum HAError: Error, CustomStringConvertible {
    case system(String, Int32)
    var description: String {
        switch self {
        case .system(let what, let e): return "\(what) failed: \(String(cString: strerror(e)))"
        }
    }
}

/// 8-byte big-endian and the 12-byte transfer header of the HA protocol (broker.md §12.1).
enum HAWire {
    static func readInt64(_ p: UnsafeRawPointer) -> Int64 {
        var v: Int64 = 0
        withUnsafeMutableBytes(of: &v) { $0.copyMemory(from: UnsafeRawBufferPointer(start: p, count: 8)) }
        return Int64(bigEndian: v)
    }

    static func readInt32(_ p: UnsafeRawPointer) -> Int32 {
        var v: Int32 = 0
        withUnsafeMutableBytes(of: &v) { $0.copyMemory(from: UnsafeRawBufferPointer(start: p, count: 4)) }
        return Int32(bigEndian: v)
    }

    /// Controller mode (Apus): a replica's first three units are this value, its controller broker id and the
    /// master epoch it checked its log against (GET_BROKER_EPOCH_CACHE); then offsets as in 4.x. Negative, so
    /// never an offset; a master outside controller mode never sees it (only controller-mode replicas send it).
    static let controllerHandshake: Int64 = -0x4150_5553_4841_0001

    /// A slave's report: its CommitLog max offset.
    static func report(_ offset: Int64) -> [UInt8] { withUnsafeBytes(of: offset.bigEndian) { Array($0) } }

    /// A master's header: where the bytes start and how many follow (0: a heartbeat).
    static func header(offset: Int64, size: Int32) -> [UInt8] {
        withUnsafeBytes(of: offset.bigEndian) { Array($0) } + withUnsafeBytes(of: size.bigEndian) { Array($0) }
    }
}
