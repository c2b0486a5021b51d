// MQAdminError: why an admin operation failed — a broker/NameServer error code, nothing found, bad input,
// or no NameServer configured. Thrown by MQAdmin; `mqadmin` prints it and exits non-zero.

import Remoting

public enum MQAdminError: Error, Sendable, CustomStringConvertible {
    /// The server answered with a non-success code.
    case response(code: Int32, remark: String?, address: String)
    /// The thing asked for does not exist (RocketMQ's MQClientException texts).
    case notFound(String)
    /// An argument the caller gave cannot be used.
    case badArgument(String)
    /// No `-n` and no NAMESRV_ADDR.
    case noNameServer

    public var description: String {
        switch self {
        case let .response(code, remark, address): return "CODE: \(code)  DESC: \(remark ?? "null") (from \(address))"
        case let .notFound(what): return what
        case let .badArgument(why): return why
        case .noNameServer: return "No name server address, please set it with -n or the NAMESRV_ADDR environment variable"
        }
    }

    /// The response code when the server answered one.
    public var responseCode: ResponseCode? {
        if case let .response(code, _, _) = self { return ResponseCode(code) }
        return nil
    }
}
