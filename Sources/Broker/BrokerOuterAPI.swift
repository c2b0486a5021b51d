// BrokerOuterAPI: the broker's calls to NameServers — REGISTER_BROKER with the full topic table to every
// address in parallel, and UNREGISTER_BROKER at stop (spec broker.md §11.1). Called by the controller's
// registration task and after topic changes; owns one RemotingClient.

import Logging
import NIOCore
import Remoting

public final class BrokerOuterAPI: Sendable {
    let client: RemotingClient
    private let logger: Logger

    init(group: any EventLoopGroup, logger: Logger) {
        client = RemotingClient(group: group, logger: logger)
        self.logger = logger
    }

    /// Registers with every NameServer; returns how many answered SUCCESS and the first such answer's
    /// header (a slave learns its master's address and HA address from it).
    @discardableResult
    func registerBrokerAll(namesrvAddrs: [String], identity: BrokerIdentityHeader, haServerAddr: String,
                           wrapper: TopicConfigSerializeWrapper, timeoutMs: Int64) async -> (ok: Int, result: RegisterBrokerResponseHeader?) {
        let body = RegisterBrokerBody(topicConfigSerializeWrapper: wrapper)
        let bytes = Array(body.jsonText().utf8)
        let header = RegisterBrokerRequestHeader(
            brokerName: identity.brokerName, brokerAddr: identity.brokerAddr, clusterName: identity.clusterName,
            haServerAddr: haServerAddr, brokerId: identity.brokerId, enableActingMaster: false, compressed: false,
            bodyCrc32: Zlib.crc32Masked(bytes))
        let client = self.client
        let logger = self.logger
        return await withTaskGroup(of: RegisterBrokerResponseHeader?.self) { group in
            for addr in namesrvAddrs {
                group.addTask {
                    let request = RemotingCommand.request(.registerBroker, header: header, body: ByteBuffer(bytes: bytes))
                    do {
                        let r = try await client.invokeSync(addr, request, timeoutMs: timeoutMs)
                        if r.responseCode != .success {
                            logger.warning("register broker to name server \(addr) refused: \(r.code) \(r.remark ?? "")")
                            return nil
                        }
                        return (try? r.decodeHeader(RegisterBrokerResponseHeader.self)) ?? RegisterBrokerResponseHeader()
                    } catch {
                        logger.warning("register broker to name server \(addr) failed: \(error)")
                        return nil
                    }
                }
            }
            var ok = 0
            var first: RegisterBrokerResponseHeader?
            for await r in group {
                guard let r else { continue }
                ok += 1
                if first == nil || (first?.haServerAddr == nil && r.haServerAddr != nil) { first = r }
            }
            return (ok, first)
        }
    }

    func unregisterBrokerAll(namesrvAddrs: [String], identity: BrokerIdentityHeader) async {
        let client = self.client
        let logger = self.logger
        await withTaskGroup(of: Void.self) { group in
            for addr in namesrvAddrs {
                group.addTask {
                    do {
                        _ = try await client.invokeSync(addr, .request(.unregisterBroker, header: identity), timeoutMs: 3000)
                        logger.info("unregister broker from name server \(addr) OK")
                    } catch {
                        logger.warning("unregister broker from name server \(addr) failed: \(error)")
                    }
                }
            }
        }
    }

    func shutdown() async { await client.shutdown() }
}
