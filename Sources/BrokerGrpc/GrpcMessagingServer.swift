// GrpcMessagingServer: the gRPC endpoint RocketMQ 5.x clients connect to (grpcServerPort, plaintext HTTP/2
// on grpc-swift's NIO transport), serving GrpcMessagingService over a running BrokerController. `start`
// returns once the port is bound (a bind failure is thrown, naming the key); `shutdown` stops accepting,
// lets RPCs in progress end (cancelling what is still open after a grace period), and returns when the
// server stopped.

import Broker
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import NIOPosix

public final class GrpcMessagingServer: Sendable {
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let serving: Task<Void, any Error>
    /// The bound port (grpcServerPort, or the one chosen for 0).
    public let port: Int

    private let broker: BrokerController
    private let polling: PopLongPolling

    private init(server: GRPCServer<HTTP2ServerTransport.Posix>, serving: Task<Void, any Error>, port: Int,
                 broker: BrokerController, polling: PopLongPolling) {
        self.server = server
        self.serving = serving
        self.port = port
        self.broker = broker
        self.polling = polling
    }

    /// `group`: NIO's process-wide group by default, not the broker's: the transport still schedules work
    /// on its loops after `serve()` returned, which a group shut down at the broker's stop would refuse.
    public static func start(broker: BrokerController, host: String = "0.0.0.0", port: Int,
                             group: MultiThreadedEventLoopGroup = .singletonMultiThreadedEventLoopGroup,
                             logger: Logger) async throws -> GrpcMessagingServer {
        // A SendMessageRequest carries whole bodies of up to maxMessageSize (4 MiB by default, gRPC's own
        // default limit for a request): room for a batch of them.
        let maxBody = Int(broker.store.config.maxMessageSizeBytes)
        let config = HTTP2ServerTransport.Posix.Config.defaults { c in
            c.rpc.maxRequestPayloadSize = max(c.rpc.maxRequestPayloadSize, 2 * maxBody + (1 << 20))
        }
        let transport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: host, port: port), transportSecurity: .plaintext, config: config, eventLoopGroup: group)
        let service = GrpcMessagingService(broker: broker, grpcPort: port, logger: logger)
        let server = GRPCServer(transport: transport, services: [service])
        let polling = service.longPolling
        broker.setMessageArrivalListener { polling.arrived($0) }
        let serving = Task { try await server.serve() }
        let bound: Int
        do {
            let address = try await transport.listeningAddress
            guard let p = address.ipv4?.port ?? address.ipv6?.port else {
                throw GrpcServerError.cannotListen("grpcServerPort=\(port): bound to \(address), not an IP port")
            }
            bound = p
        } catch {
            broker.setMessageArrivalListener(nil)
            server.beginGracefulShutdown()
            serving.cancel()
            throw GrpcServerError.cannotListen("grpcServerPort=\(port): cannot listen (\(error))")
        }
        service.setAdvertisedPort(bound)
        logger.info("gRPC server listening on \(host):\(bound) (RocketMQ 5.x clients)")
        return GrpcMessagingServer(server: server, serving: serving, port: bound, broker: broker, polling: polling)
    }

    /// Stops accepting and lets RPCs in progress end for up to `gracePeriod`; then cancels the rest (a
    /// client's telemetry stream stays open as long as the client runs, a held receive up to 20 s).
    public func shutdown(gracePeriod: Duration = .seconds(3)) async {
        broker.setMessageArrivalListener(nil)
        server.beginGracefulShutdown()
        polling.wakeAll()
        let serving = self.serving
        let deadline = Task {
            try await Task.sleep(for: gracePeriod)
            serving.cancel()
        }
        _ = await serving.result
        deadline.cancel()
    }
}

public enum GrpcServerError: Error, CustomStringConvertible {
    case cannotListen(String)

    public var description: String {
        switch self {
        case .cannotListen(let why): return why
        }
    }
}
