// RemotingDispatcher: the request-code -> processor table shared by all channels of one server or client,
// and the rules that turn a processor's outcome into a response (spec remoting.md §7.1, §7.2).
// Registration from any thread; lookups from event loops; processing on Swift tasks.

import Logging
import NIOCore
import Synchronization

public final class RemotingDispatcher: Sendable {
    private let processors = Mutex<[Int32: any RemotingRequestProcessor]>([:])
    private let defaultProcessor = Mutex<(any RemotingRequestProcessor)?>(nil)
    private let listeners = Mutex<[any RemotingChannelEventListener]>([])
    let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    public func register(_ code: RequestCode, _ processor: any RemotingRequestProcessor) {
        processors.withLock { $0[code.rawValue] = processor }
    }

    /// Serves every code without its own processor.
    public func registerDefault(_ processor: any RemotingRequestProcessor) {
        defaultProcessor.withLock { $0 = processor }
    }

    public func addListener(_ listener: any RemotingChannelEventListener) {
        listeners.withLock { $0.append(listener) }
    }

    func processor(for code: Int32) -> (any RemotingRequestProcessor)? {
        processors.withLock { $0[code] } ?? defaultProcessor.withLock { $0 }
    }

    /// Java's answer to an unknown code (§7.2), remark with its leading space.
    public static func notSupported(_ request: RemotingCommand) -> RemotingCommand {
        request.makeResponse(.requestCodeNotSupported, remark: " request type \(request.code) not supported")
    }

    /// Handles one inbound request; called on the channel's event loop, processes on a task.
    func dispatch(_ request: RemotingCommand, channel: RemotingChannel) {
        guard let processor = processor(for: request.code) else {
            logger.debug("request code not supported", metadata: ["code": "\(request.code)", "remote": "\(channel.remoteAddress)"])
            if !request.isOneway { channel.writeResponse(Self.notSupported(request), to: request) }
            return
        }
        // Sends and other non-blocking requests answer without a task or a thread hop.
        if processor.processRequestInline(request, channel: channel) { return }
        let logger = self.logger
        Task {
            do {
                let response = try await processor.processRequest(request, channel: channel)
                if let response, !request.isOneway { channel.writeResponse(response, to: request) }
            } catch {
                logger.warning(
                    "processor failed",
                    metadata: ["code": "\(request.code)", "opaque": "\(request.opaque)", "error": "\(error)"])
                if !request.isOneway {
                    channel.writeResponse(request.makeResponse(.systemError, remark: "\(error)"), to: request)
                }
            }
        }
    }

    func channelConnected(_ channel: RemotingChannel) {
        let all = listeners.withLock { $0 }
        guard !all.isEmpty else { return }
        Task { for l in all { await l.channelConnected(channel) } }
    }

    func channelClosed(_ channel: RemotingChannel) {
        let all = listeners.withLock { $0 }
        guard !all.isEmpty else { return }
        Task { for l in all { await l.channelClosed(channel) } }
    }
}
