// RemotingDispatcher: the request-code -> processor table shared by all channels of one server or client,
// each entry with where its processor runs (RequestExecution), and the rules that turn a processor's
// outcome into a response (spec remoting.md §7.1, §7.2). Registration from any thread; lookups and
// dispatch on event loops; processing where each registration says.

import Common
import Logging
import NIOCore
import Synchronization

/// Where a processor runs, declared when it is registered (RocketMQ registers each processor with a pool).
public enum RequestExecution: Sendable {
    /// On the channel's event loop, through `processRequestInline`, for code shown never to wait (no I/O, no
    /// blocking lock, no allocator wait). A request it declines is answered SYSTEM_ERROR.
    case eventLoop
    /// On the executor's threads, through `processRequest`; a full queue answers SYSTEM_BUSY [OVERLOAD].
    case executor(RequestExecutor)
    /// `processRequestInline` on the event loop first (the fast path); what it declines, the slow branches
    /// that may wait, goes to the executor.
    case eventLoopThen(RequestExecutor)
}

public final class RemotingDispatcher: Sendable {
    struct Entry: Sendable {
        let processor: any RemotingRequestProcessor
        let execution: RequestExecution
    }

    private let processors = Mutex<[Int32: Entry]>([:])
    private let defaultEntry = Mutex<Entry?>(nil)
    private let listeners = Mutex<[any RemotingChannelEventListener]>([])
    private enum ChannelEvent { case connected(RemotingChannel), closed(RemotingChannel) }
    /// Connection events reach listeners in the order they happened, through one task this dispatcher owns
    /// (started with the first listener, ended at shutdown). Two per connection; listeners only update tables.
    private let channelEvents = AsyncStream<ChannelEvent>.makeStream()
    private let background = BackgroundTasks(name: "RemotingDispatcher")
    let logger: Logger
    /// Where processors registered without an execution run (tests, small tools): a few threads, bounded.
    public let defaultExecutor: RequestExecutor

    public init(logger: Logger, defaultExecutor: RequestExecutor? = nil) {
        self.logger = logger
        self.defaultExecutor = defaultExecutor ?? RequestExecutor(name: "RemotingExecutor", threads: 4, queueCapacity: 10_000)
    }

    public func register(_ code: RequestCode, _ processor: any RemotingRequestProcessor, on execution: RequestExecution? = nil) {
        let entry = Entry(processor: processor, execution: execution ?? .executor(defaultExecutor))
        processors.withLock { $0[code.rawValue] = entry }
    }

    /// Serves every code without its own processor.
    public func registerDefault(_ processor: any RemotingRequestProcessor, on execution: RequestExecution? = nil) {
        let entry = Entry(processor: processor, execution: execution ?? .executor(defaultExecutor))
        defaultEntry.withLock { $0 = entry }
    }

    public func addListener(_ listener: any RemotingChannelEventListener) {
        let first = listeners.withLock { l in
            l.append(listener)
            return l.count == 1
        }
        guard first else { return }
        let stream = channelEvents.stream
        background.spawn { [weak self] in
            for await event in stream {
                for l in self?.listeners.withLock({ $0 }) ?? [] {
                    switch event {
                    case .connected(let channel): await l.channelConnected(channel)
                    case .closed(let channel): await l.channelClosed(channel)
                    }
                }
            }
        }
    }

    func entry(for code: Int32) -> Entry? {
        processors.withLock { $0[code] } ?? defaultEntry.withLock { $0 }
    }

    /// Java's answer to an unknown code (§7.2), remark with its leading space.
    public static func notSupported(_ request: RemotingCommand) -> RemotingCommand {
        request.makeResponse(.requestCodeNotSupported, remark: " request type \(request.code) not supported")
    }

    /// RocketMQ's remarks for requests refused before processing (remoting.md §7.2).
    public static let rejectRemark = "[REJECTREQUEST]system busy, start flow control for a while"
    public static let overloadRemark = "[OVERLOAD]system busy, start flow control for a while"

    /// Handles one inbound request; called on the channel's event loop.
    func dispatch(_ request: RemotingCommand, channel: RemotingChannel) {
        guard let entry = entry(for: request.code) else {
            logger.debug("request code not supported", metadata: ["code": "\(request.code)", "remote": "\(channel.remoteAddress)"])
            if !request.isOneway { channel.writeResponse(Self.notSupported(request), to: request) }
            return
        }
        let processor = entry.processor
        if processor.rejectRequest() {
            if !request.isOneway { channel.writeResponse(request.makeResponse(.systemBusy, remark: Self.rejectRemark), to: request) }
            return
        }
        switch entry.execution {
        case .eventLoop:
            if !processor.processRequestInline(request, channel: channel), !request.isOneway {
                channel.writeResponse(request.makeResponse(.systemError, remark: "request declined by its event-loop processor"), to: request)
            }
        case .eventLoopThen(let executor):
            if processor.processRequestInline(request, channel: channel) { return }
            submit(request, channel: channel, processor: processor, executor: executor)
        case .executor(let executor):
            submit(request, channel: channel, processor: processor, executor: executor)
        }
    }

    /// Queues a request on its executor, or answers SYSTEM_BUSY [OVERLOAD] when the queue is full.
    public func submit(_ request: RemotingCommand, channel: RemotingChannel, processor: any RemotingRequestProcessor,
                       executor: RequestExecutor) {
        let logger = self.logger
        Self.submit(request, channel: channel, on: executor, logger: logger) {
            if case .answered(let response) = processor.processRequestSynchronously(request, channel: channel) {
                if let response, !request.isOneway { channel.writeResponse(response, to: request) }
                executor.finished()
                return
            }
            Task(executorPreference: executor) {
                defer { executor.finished() }
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
    }

    /// Queues `run` for `request` on `executor` (`run` must end with `executor.finished()`). A request
    /// refused then or later (queue full, waited too long, executor stopped) is answered SYSTEM_BUSY with
    /// RocketMQ's remark. The one place requests enter an executor: the dispatcher, and pulls re-executed.
    public static func submit(_ request: RemotingCommand, channel: RemotingChannel, on executor: RequestExecutor,
                              logger: Logger, run: @escaping @Sendable () -> Void) {
        let queued = RequestExecutor.QueuedRequest(run: run, refuse: { remark in
            if !request.isOneway { channel.writeResponse(request.makeResponse(.systemBusy, remark: remark), to: request) }
        })
        guard !executor.submit(queued) else { return }
        if executor.shouldLogRefusal() {
            logger.warning("too many requests and system thread pool busy, RejectedExecutionException",
                           metadata: ["executor": "\(executor.name)", "code": "\(request.code)", "remote": "\(channel.remoteAddress)"])
        }
        if !request.isOneway { channel.writeResponse(request.makeResponse(.systemBusy, remark: overloadRemark), to: request) }
    }

    func channelConnected(_ channel: RemotingChannel) {
        guard listeners.withLock({ !$0.isEmpty }) else { return }
        channelEvents.continuation.yield(.connected(channel))
    }

    func channelClosed(_ channel: RemotingChannel) {
        guard listeners.withLock({ !$0.isEmpty }) else { return }
        channelEvents.continuation.yield(.closed(channel))
    }

    /// Ends the listeners' event task and forgets every processor and listener (they often hold their owner, which holds this dispatcher:
    /// clearing the table at shutdown lets both go) and stops the default executor.
    public func shutdown() async {
        processors.withLock { $0 = [:] }
        defaultEntry.withLock { $0 = nil }
        channelEvents.continuation.finish()
        await background.shutdown()
        listeners.withLock { $0 = [] }
        await defaultExecutor.shutdownGracefully()
    }
}
