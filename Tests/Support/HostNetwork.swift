// HostNetwork: hosts for tests that need a real network between processes: each host is a network namespace
// with its own address, joined to this namespace by a veth pair on a bridge (this process reaches every host
// through the bridge's address). A host's link can be cut and restored. Needs root (CI runs as root);
// `make` returns nil where namespaces cannot be made, and the caller falls back to loopback.

import Foundation

public final class HostNetwork: @unchecked Sendable {
    // Sendable because: every field is set in init and never changed; commands run one at a time per call.
    public struct Host: Sendable {
        public let namespace: String
        public let address: String
        /// The veth end on the bridge: setting it down cuts the host off.
        let bridgeSide: String
        /// Prefix that runs a command inside the host (`ip netns exec` execs it: the pid is the program's).
        public let launchPrefix: [String]
    }

    public let hosts: [Host]
    private let bridge: String
    private let ip: String

    struct CommandFailed: Error, CustomStringConvertible { let description: String }

    @discardableResult
    static func run(_ ip: String, _ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ip)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw CommandFailed(description: "ip \(args.joined(separator: " ")): \(out)") }
        return out
    }

    /// `count` hosts on a fresh /24, or nil when this process may not make namespaces.
    public static func make(hosts count: Int) -> HostNetwork? {
        guard let ip = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }),
              getuid() == 0 else { return nil }
        let tag = String(format: "%04x", Int.random(in: 0..<0xFFFF))
        let subnet = "10.\(200 + Int.random(in: 0..<50)).\(Int.random(in: 0..<256))"
        let bridge = "apbr\(tag)"
        var made: [Host] = []
        do {
            try run(ip, ["link", "add", bridge, "type", "bridge"])
            try run(ip, ["addr", "add", "\(subnet).254/24", "dev", bridge])
            try run(ip, ["link", "set", bridge, "up"])
            for i in 0..<count {
                let ns = "apus-\(tag)-\(i)"
                let outer = "ap\(tag)\(i)b", inner = "ap\(tag)\(i)h"
                try run(ip, ["netns", "add", ns])
                made.append(Host(namespace: ns, address: "\(subnet).\(i + 1)", bridgeSide: outer,
                                 launchPrefix: [ip, "netns", "exec", ns]))
                try run(ip, ["link", "add", outer, "type", "veth", "peer", "name", inner])
                try run(ip, ["link", "set", inner, "netns", ns])
                try run(ip, ["link", "set", outer, "master", bridge])
                try run(ip, ["link", "set", outer, "up"])
                try run(ip, ["-n", ns, "link", "set", "lo", "up"])
                try run(ip, ["-n", ns, "link", "set", inner, "name", "eth0"])
                try run(ip, ["-n", ns, "addr", "add", "\(subnet).\(i + 1)/24", "dev", "eth0"])
                try run(ip, ["-n", ns, "link", "set", "eth0", "up"])
            }
        } catch {
            print("HostNetwork: cannot make hosts (\(error)); using loopback")
            Self.remove(ip: ip, bridge: bridge, hosts: made)
            return nil
        }
        return HostNetwork(hosts: made, bridge: bridge, ip: ip)
    }

    private init(hosts: [Host], bridge: String, ip: String) {
        self.hosts = hosts
        self.bridge = bridge
        self.ip = ip
    }

    /// Takes the host's link down: its connections see no packet until `restore`.
    public func cut(_ host: Host) throws { try Self.run(ip, ["link", "set", host.bridgeSide, "down"]) }
    public func restore(_ host: Host) throws { try Self.run(ip, ["link", "set", host.bridgeSide, "up"]) }

    private static func remove(ip: String, bridge: String, hosts: [Host]) {
        for h in hosts {
            _ = try? run(ip, ["link", "del", h.bridgeSide])
            _ = try? run(ip, ["netns", "del", h.namespace])
        }
        _ = try? run(ip, ["link", "del", bridge])
    }

    /// Removes the namespaces and links (processes inside must be stopped first).
    public func remove() { Self.remove(ip: ip, bridge: bridge, hosts: hosts) }

    deinit { remove() }
}
