// Bounds: what this machine can do at best in the same run — TCP loopback throughput (two threads,
// blocking 1 MiB writes) and sequential disk writes with fdatasync. Called once by BrokerBench.

import Foundation
import Glibc

enum Bounds {
    static func loopbackMBps(bytes: Int) -> Double {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, len) } }
        listen(listener, 1)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &len) } }
        let port = addr.sin_port
        let reader = Thread {
            let fd = accept(listener, nil, nil)
            var buf = [UInt8](repeating: 0, count: 1 << 20)
            var got = 0
            while got < bytes {
                let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n <= 0 { break }
                got += n
            }
            close(fd)
        }
        reader.start()
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_addr.s_addr = inet_addr("127.0.0.1")
        target.sin_port = port
        _ = withUnsafePointer(to: &target) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        let chunk = [UInt8](repeating: 1, count: 1 << 20)
        let start = ContinuousClock.now
        var sent = 0
        while sent < bytes {
            let n = chunk.withUnsafeBytes { send(fd, $0.baseAddress, min($0.count, bytes - sent), Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            sent += n
        }
        shutdown(fd, Int32(SHUT_WR))
        while !reader.isFinished { usleep(1000) }
        let d = ContinuousClock.now - start
        close(fd)
        close(listener)
        return Bench.mbps(sent, d)
    }

    static func diskWriteMBps(path: String, bytes: Int) -> Double {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return 0 }
        let chunk = [UInt8](repeating: 2, count: 1 << 20)
        let start = ContinuousClock.now
        var written = 0
        while written < bytes {
            let n = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            written += n
        }
        fdatasync(fd)
        let d = ContinuousClock.now - start
        close(fd)
        unlink(path)
        return Bench.mbps(written, d)
    }
}
