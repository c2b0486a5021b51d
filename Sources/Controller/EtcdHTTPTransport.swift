// EtcdHTTPTransport: one HTTP/1.1 POST of a JSON body to etcd's v3 JSON gateway and its answer, over
// SwiftNIO's HTTP/1 codec (no HTTP client library: the gateway needs only POST, Content-Length and
// `Connection: close`). One connection per request: the controller makes a few requests a second, on
// loopback or a LAN, and a fresh connection never carries a half-read answer of a timed-out one.
// Called from EtcdClient on any task; the handler lives on the connection's event loop.

import NIOCore
import NIOHTTP1
import NIOPosix

/// `http://host:port` of one etcd member.
public struct EtcdEndpoint: Sendable, Equatable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init?(url: String) {
        guard url.hasPrefix("http://") else { return nil }
        var rest = url.dropFirst("http://".count)
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]),
              (1...65535).contains(port), colon > rest.startIndex else { return nil }
        host = String(rest[..<colon])
        self.port = port
    }

    public var description: String { "http://\(host):\(port)" }
}

public enum EtcdError: Error, Sendable, CustomStringConvertible {
    /// No endpoint could be reached; the last cause.
    case unreachable(String)
    /// The gateway answered an HTTP status other than 200 (etcd's error JSON in `body`).
    case status(Int, body: String)
    /// The answer was not the JSON expected.
    case malformed(String)
    /// No answer within the request timeout.
    case timeout

    public var description: String {
        switch self {
        case .unreachable(let why): return "etcd unreachable: \(why)"
        case let .status(code, body): return "etcd answered HTTP \(code): \(body)"
        case .malformed(let why): return "etcd answer malformed: \(why)"
        case .timeout: return "etcd request timed out"
        }
    }
}

struct EtcdHTTPTransport: Sendable {
    let group: any EventLoopGroup
    let timeoutMs: Int64

    /// POSTs `body` to `path` on `endpoint`; the answer's body when the status is 200.
    func post(_ endpoint: EtcdEndpoint, path: String, body: [UInt8]) async throws -> [UInt8] {
        let loop = group.next()
        let promise = loop.makePromise(of: (Int, [UInt8]).self)
        let timeout = TimeAmount.milliseconds(timeoutMs)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(HTTPAnswerCollector(promise: promise, timeout: timeout))
                    }
                }
                .connect(host: endpoint.host, port: endpoint.port).get()
        } catch {
            promise.fail(error)
            throw EtcdError.unreachable("\(endpoint): \(error)")
        }
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
        head.headers.add(name: "Host", value: "\(endpoint.host):\(endpoint.port)")
        head.headers.add(name: "Content-Type", value: "application/json")
        head.headers.add(name: "Content-Length", value: String(body.count))
        head.headers.add(name: "Connection", value: "close")
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        let (status, answer) = try await promise.futureResult.get()
        guard status == 200 else { throw EtcdError.status(status, body: String(decoding: answer, as: UTF8.self)) }
        return answer
    }
}

/// Gathers one response; completes the promise exactly once (answer, error, close or timeout) and closes.
private final class HTTPAnswerCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<(Int, [UInt8])>
    private let timeout: TimeAmount
    private var status = 0
    private var body: [UInt8] = []
    private var done = false
    private var timer: Scheduled<Void>?

    init(promise: EventLoopPromise<(Int, [UInt8])>, timeout: TimeAmount) {
        self.promise = promise
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = loopBound.value
            handler.finish(context, .failure(EtcdError.timeout))
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): status = Int(head.status.code)
        case .body(var buffer): body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end: finish(context, .success((status, body)))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(context, .failure(EtcdError.unreachable("\(error)")))
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(context, .failure(EtcdError.unreachable("connection closed before the answer")))
        context.fireChannelInactive()
    }

    private func finish(_ context: ChannelHandlerContext, _ result: Result<(Int, [UInt8]), any Error>) {
        guard !done else { return }
        done = true
        timer?.cancel()
        promise.completeWith(result)
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension HTTPAnswerCollector: Sendable {}
