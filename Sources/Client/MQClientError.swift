// MQClientError: why a client call failed — client-side checks, missing routes or name servers, broker
// error codes, network failures (ClientErrorCode values of client.md §6.5). Thrown from any task.

import Remoting

public enum MQClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Bad argument or state (validation, start twice, mixing subscribe and assign).
    case illegalArgument(String)
    case illegalState(String)
    /// No name server address configured (10004).
    case noNameServer
    /// The name server has no route for the topic (10005).
    case topicRouteNotFound(topic: String, reason: String)
    /// No broker address for a broker name (10003).
    case brokerNotFound(String)
    /// The broker answered with an error code.
    case broker(code: Int32, remark: String)
    /// Connect failure, timeout or closed channel.
    case network(String)
    /// A send failed after all attempts.
    case sendFailed(attempts: Int, costMs: Int64, topic: String, brokers: [String], last: String)

    public var description: String {
        switch self {
        case .illegalArgument(let s), .illegalState(let s): return s
        case .noNameServer: return "CODE: 10004 No name server address, please set it"
        case let .topicRouteNotFound(topic, reason):
            return "CODE: 10005 No route info of this topic: \(topic) (\(reason))"
        case .brokerNotFound(let b): return "CODE: 10003 The broker[\(b)] not exist"
        case let .broker(code, remark): return "CODE: \(code) DESC: \(remark)"
        case .network(let s): return "network: \(s)"
        case let .sendFailed(attempts, cost, topic, brokers, last):
            return "Send [\(attempts)] times, still failed, cost [\(cost)]ms, Topic: \(topic), BrokersSent: \(brokers); last error: \(last)"
        }
    }

    /// Broker codes after which a sync send tries again (client.md §6.1 retryResponseCodes).
    static let retryResponseCodes: Set<Int32> = [17, 14, 1, 2, 16, 204, 205, 1500]

    static func from(_ error: any Error) -> MQClientError {
        if let e = error as? MQClientError { return e }
        if let e = error as? RemotingError { return .network(e.description) }
        if error is CancellationError { return .illegalState("cancelled: the client is shutting down") }
        return .network("\(error)")
    }

    var isNetwork: Bool { if case .network = self { return true } else { return false } }
}
