// RemotingError: why a frame, header, body or invocation failed.
// Thrown by the codecs (event loop) and by client invocations (any task).

public enum RemotingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The length prefix declared a frame over the configured bound; nothing of it was buffered.
    case frameTooLarge(declaredBytes: Int, maxBytes: Int)
    /// frameLength below the 4-byte header word.
    case frameTooShort(declaredBytes: Int)
    /// Top byte of the header word is neither 0 (JSON) nor 1 (ROCKETMQ).
    case badSerializeType(UInt8)
    /// headerLength > frameLength - 4.
    case headerLongerThanFrame(headerBytes: Int, frameBytes: Int)
    /// The header bytes do not parse as the declared serialisation.
    case malformedHeader(String)
    /// A JSON body (or other body) that does not parse.
    case malformedBody(String)
    /// A typed header lacks a required field (Java `@CFNotNull`), or a value does not parse.
    case missingHeaderField(String)
    /// A binary header cannot carry this command (code or version beyond 16 bits).
    case notEncodable(String)
    /// No response within the per-call timeout.
    case timeout(opaque: Int32, timeoutMs: Int64)
    /// The connection closed before the response came.
    case channelClosed
    /// Could not connect to the address.
    case connectFailed(address: String, reason: String)
    /// The address text is not `host:port`.
    case badAddress(String)
    /// Too many requests are waiting for answers on one channel.
    case tooManyPendingRequests
    /// A server closed a connection at accept: this many were open already.
    case tooManyConnections(limit: Int)

    public var description: String {
        switch self {
        case let .frameTooLarge(declared, max): return "frame of \(declared) bytes exceeds the bound of \(max)"
        case let .frameTooShort(declared): return "frame length \(declared) is below the 4-byte header word"
        case let .badSerializeType(t): return "unknown serialize type \(t)"
        case let .headerLongerThanFrame(h, f): return "header length \(h) exceeds frame length \(f) - 4"
        case let .malformedHeader(why): return "malformed header: \(why)"
        case let .malformedBody(why): return "malformed body: \(why)"
        case let .missingHeaderField(name): return "the custom field <\(name)> is null"
        case let .notEncodable(why): return "cannot encode: \(why)"
        case let .timeout(opaque, ms): return "no response to opaque \(opaque) within \(ms) ms"
        case .channelClosed: return "channel closed"
        case let .connectFailed(address, reason): return "connect to \(address) failed: \(reason)"
        case let .badAddress(a): return "bad address \(a)"
        case .tooManyPendingRequests: return "too many pending requests on the channel"
        case let .tooManyConnections(limit): return "\(limit) connections are open already"
        }
    }
}
