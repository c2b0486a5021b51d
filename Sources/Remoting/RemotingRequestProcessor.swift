// RemotingRequestProcessor and RemotingChannelEventListener: what servers and clients plug in to serve
// inbound requests and to hear of connections closing. Where a processor runs (its executor's threads, or
// the event loop for code that never waits) is declared when it is registered (RequestExecution).

/// Serves requests of one or more codes.
public protocol RemotingRequestProcessor: Sendable {
    /// Returns the response, or nil to answer later through `channel.writeResponse` (long polling) or
    /// never. Thrown errors become SYSTEM_ERROR with the error's description as remark. Nothing is sent
    /// for one-way requests whatever this returns.
    func processRequest(_ request: RemotingCommand, channel: RemotingChannel) async throws -> RemotingCommand?

    /// Optional fast path, called on the channel's event loop before any task is made: a processor that can
    /// answer without blocking (checks, then a completion-based store call) handles the request here and
    /// writes its answer through `channel.writeResponse` (now or from the completion), returning true.
    /// Returning false sends the request to `processRequest` on a task as usual. Must never block.
    func processRequestInline(_ request: RemotingCommand, channel: RemotingChannel) -> Bool

    /// Optional synchronous body for executor registrations: run on the executor's thread as it is, with
    /// no task made (a pull needs none: it reads the store and answers). `.useAsync` (the default) sends
    /// the request to `processRequest` on a task preferring that executor.
    func processRequestSynchronously(_ request: RemotingCommand, channel: RemotingChannel) -> SynchronousOutcome

    /// RocketMQ's rejectRequest: true answers the request SYSTEM_BUSY [REJECTREQUEST] before it is queued
    /// (the send processor while the page cache is busy). Called on the event loop; must be cheap.
    func rejectRequest() -> Bool
}

/// What a synchronous processor body did.
public enum SynchronousOutcome: Sendable {
    /// Processed: the answer to write (nil: answered later, or never).
    case answered(RemotingCommand?)
    /// Not handled synchronously: run `processRequest` on a task.
    case useAsync
}

extension RemotingRequestProcessor {
    public func processRequestInline(_ request: RemotingCommand, channel: RemotingChannel) -> Bool { false }
    public func processRequestSynchronously(_ request: RemotingCommand, channel: RemotingChannel) -> SynchronousOutcome { .useAsync }
    public func rejectRequest() -> Bool { false }
}

/// A processor from a closure.
public struct ClosureRequestProcessor: RemotingRequestProcessor {
    let body: @Sendable (RemotingCommand, RemotingChannel) async throws -> RemotingCommand?
    public init(_ body: @escaping @Sendable (RemotingCommand, RemotingChannel) async throws -> RemotingCommand?) {
        self.body = body
    }
    public func processRequest(_ request: RemotingCommand, channel: RemotingChannel) async throws -> RemotingCommand? {
        try await body(request, channel)
    }
}

/// Hears of connections opening and closing (the NameServer drops a broker whose connection closed;
/// the broker drops client channels).
public protocol RemotingChannelEventListener: Sendable {
    func channelConnected(_ channel: RemotingChannel) async
    func channelClosed(_ channel: RemotingChannel) async
}

extension RemotingChannelEventListener {
    public func channelConnected(_ channel: RemotingChannel) async {}
}
