// GrpcPeer: a gRPC peer's text (grpc-swift's "ipv4:127.0.0.1:5000" / "ipv6:[::1]:5000") as the BORNHOST a
// stored message keeps; anything else is the loopback address.

import Common

enum GrpcPeer {
    static func messageHost(_ peer: String) -> MessageHost {
        var text = Substring(peer)
        if text.hasPrefix("ipv4:") {
            text = text.dropFirst(5)
            if let colon = text.lastIndex(of: ":"), let port = Int32(text[text.index(after: colon)...]),
               let host = MessageHost(ipv4: String(text[..<colon]), port: port) {
                return host
            }
        } else if text.hasPrefix("ipv6:"), let colon = text.lastIndex(of: ":"), let port = Int32(text[text.index(after: colon)...]) {
            // Clients decode v4 BORNHOSTs only; a v6 peer is kept as loopback with its port.
            return MessageHost(.v4(0x7F00_0001), port: port)
        }
        return MessageHost(.v4(0x7F00_0001), port: 0)
    }
}
