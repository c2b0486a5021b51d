// EmbeddedController: RocketMQ's `enableControllerInNamesrv` — a controller (Controller library, state in
// etcd) served on the NameServer's own port, so brokers may name the NameServer as `controllerAddr`. The
// controller codes (1001–1013) go to the controller; BROKER_HEARTBEAT, which both serve, goes to the
// NameServer and, when it names a broker id (a controller-mode broker), to the controller too.
// Started by NamesrvStartup after the NameServer is listening.

import Controller
import Logging
import NIOCore
import NameServer
import Remoting

enum EmbeddedController {
    static func start(_ config: ControllerConfig, in namesrv: NamesrvController, group: any EventLoopGroup,
                      logger: Logger) async throws -> ControllerManager {
        let manager = ControllerManager(config: config, group: group, logger: logger, sharing: namesrv.server)
        _ = try await manager.start()
        if let controller = manager.processor {
            namesrv.server.registerProcessor(.brokerHeartbeat, SharedHeartbeatProcessor(namesrv: namesrv.processor,
                                                                                       controller: controller))
        }
        return manager
    }
}

/// BROKER_HEARTBEAT for both: the NameServer refreshes the broker's route liveness (and never answers);
/// a heartbeat with a broker id also keeps its controller liveness, and gets the controller's answer.
struct SharedHeartbeatProcessor: RemotingRequestProcessor {
    let namesrv: DefaultRequestProcessor
    let controller: ControllerRequestProcessor

    func processRequest(_ request: RemotingCommand, channel: RemotingChannel) async throws -> RemotingCommand? {
        let forNamesrv = try await namesrv.processRequest(request, channel: channel)
        let header = try request.decodeHeader(BrokerHeartbeatRequestHeader.self)
        guard header.brokerId != nil else { return forNamesrv }
        return try await controller.processRequest(request, channel: channel)
    }
}
