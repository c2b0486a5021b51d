// DefaultRequestProcessor: serves every NameServer request code (spec remoting.md §8); unknown codes get
// REQUEST_CODE_NOT_SUPPORTED. Registered as the server's default processor by NamesrvController;
// runs on Swift tasks and calls the RouteInfoManager, KVConfigManager and NamesrvConfigStore actors.

import Logging
import NIOCore
import Remoting

public struct DefaultRequestProcessor: RemotingRequestProcessor {
    let routes: RouteInfoManager
    let kv: KVConfigManager
    let configStore: NamesrvConfigStore
    let config: NamesrvConfig
    let logger: Logger

    /// KV namespace of order-topic settings (`brokerName:queueNum;...`).
    public static let orderTopicConfigNamespace = "ORDER_TOPIC_CONFIG"

    public init(routes: RouteInfoManager, kv: KVConfigManager, configStore: NamesrvConfigStore, config: NamesrvConfig,
                logger: Logger) {
        self.routes = routes
        self.kv = kv
        self.configStore = configStore
        self.config = config
        self.logger = logger
    }

    public func processRequest(_ request: RemotingCommand, channel: RemotingChannel) async throws -> RemotingCommand? {
        switch request.requestCode {
        case .putKVConfig:
            let h = try request.decodeHeader(PutKVConfigRequestHeader.self)
            await kv.put(namespace: h.namespace, key: h.key, value: h.value)
            return request.makeResponse(.success)
        case .getKVConfig:
            let h = try request.decodeHeader(GetKVConfigRequestHeader.self)
            guard let value = await kv.get(namespace: h.namespace, key: h.key) else {
                return request.makeResponse(.queryNotFound, remark: "No config item, Namespace: \(h.namespace) Key: \(h.key)")
            }
            return request.makeResponse(.success, header: GetKVConfigResponseHeader(value: value))
        case .deleteKVConfig:
            let h = try request.decodeHeader(DeleteKVConfigRequestHeader.self)
            await kv.delete(namespace: h.namespace, key: h.key)
            return request.makeResponse(.success)
        case .getKVListByNamespace:
            let h = try request.decodeHeader(GetKVListByNamespaceRequestHeader.self)
            guard let table = await kv.list(namespace: h.namespace) else {
                return request.makeResponse(.queryNotFound, remark: "No config item, Namespace: \(h.namespace)")
            }
            return request.makeResponse(.success, body: KVTable(table: table).encode())
        case .registerBroker: return try await registerBroker(request, channel: channel)
        case .unregisterBroker:
            let h = try request.decodeHeader(UnRegisterBrokerRequestHeader.self)
            await routes.unregisterBroker(clusterName: h.clusterName, brokerAddr: h.brokerAddr, brokerName: h.brokerName,
                                          brokerId: h.brokerId)
            return request.makeResponse(.success)
        case .queryDataVersion:
            let h = try request.decodeHeader(QueryDataVersionRequestHeader.self)
            let version = try request.body.map { b throws(RemotingError) in try DataVersion.decode(b) } ?? DataVersion()
            let (changed, stored) = await routes.queryDataVersion(clusterName: h.clusterName, brokerAddr: h.brokerAddr,
                                                                  version: version)
            return request.makeResponse(.success, header: QueryDataVersionResponseHeader(changed: changed),
                                        body: stored?.encode())
        case .brokerHeartbeat:
            let h = try request.decodeHeader(BrokerHeartbeatRequestHeader.self)
            await routes.refreshLiveness(clusterName: h.clusterName, brokerAddr: h.brokerAddr)
            return nil
        case .getRouteInfoByTopic: return try await routeInfo(request)
        case .getBrokerClusterInfo:
            return request.makeResponse(.success, body: await routes.clusterInfo().encode(style: .fastjson))
        case .wipeWritePermOfBroker:
            let h = try request.decodeHeader(WipeWritePermOfBrokerRequestHeader.self)
            let count = await routes.operateWritePerm(brokerName: h.brokerName, wipe: true)
            logger.info("wipe write perm of broker", metadata: ["broker": "\(h.brokerName)", "topics": "\(count)",
                                                               "remote": "\(channel.remoteAddress)"])
            return request.makeResponse(.success, header: WipeWritePermOfBrokerResponseHeader(wipeTopicCount: count))
        case .addWritePermOfBroker:
            let h = try request.decodeHeader(AddWritePermOfBrokerRequestHeader.self)
            let count = await routes.operateWritePerm(brokerName: h.brokerName, wipe: false)
            logger.info("add write perm of broker", metadata: ["broker": "\(h.brokerName)", "topics": "\(count)",
                                                              "remote": "\(channel.remoteAddress)"])
            return request.makeResponse(.success, header: AddWritePermOfBrokerResponseHeader(addTopicCount: count))
        case .getAllTopicListFromNameServer:
            guard config.enableAllTopicList else { return request.makeResponse(.systemError, remark: "disable") }
            return request.makeResponse(.success, body: await routes.allTopicList().encode())
        case .deleteTopicInNamesrv:
            let h = try request.decodeHeader(DeleteTopicFromNamesrvRequestHeader.self)
            await routes.deleteTopic(h.topic, clusterName: h.clusterName)
            return request.makeResponse(.success)
        case .getTopicsByCluster:
            guard config.enableTopicList else { return request.makeResponse(.systemError, remark: "disable") }
            let h = try request.decodeHeader(GetTopicsByClusterRequestHeader.self)
            return request.makeResponse(.success, body: await routes.topics(ofCluster: h.cluster).encode())
        case .getSystemTopicListFromNS:
            return request.makeResponse(.success, body: await routes.systemTopicList().encode())
        case .getUnitTopicList:
            return request.makeResponse(.success, body: await routes.topics { $0 & 1 != 0 }.encode())
        case .getHasUnitSubTopicList:
            return request.makeResponse(.success, body: await routes.topics { $0 & 2 != 0 }.encode())
        case .getHasUnitSubUnUnitTopicList:
            return request.makeResponse(.success, body: await routes.topics { $0 & 1 == 0 && $0 & 2 != 0 }.encode())
        case .updateNamesrvConfig:
            let text = String(decoding: request.bodyBytes, as: UTF8.self)
            if let refused = await configStore.update(propertiesText: text) {
                return request.makeResponse(.noPermission, remark: refused)
            }
            return request.makeResponse(.success)
        case .getNamesrvConfig:
            let text = await configStore.current.propertiesText
            return request.makeResponse(.success, body: ByteBuffer(string: text))
        default:
            return RemotingDispatcher.notSupported(request)
        }
    }

    private func registerBroker(_ request: RemotingCommand, channel: RemotingChannel) async throws -> RemotingCommand {
        let h = try request.decodeHeader(RegisterBrokerRequestHeader.self)
        let bodyBytes = request.bodyBytes
        if h.bodyCrc32 != 0 && Zlib.crc32Masked(bodyBytes) != h.bodyCrc32 {
            logger.warning("receive registerBroker request, crc32 not match", metadata: ["remote": "\(channel.remoteAddress)"])
            return request.makeResponse(.systemError, remark: "crc32 not match")
        }
        var body = try RegisterBrokerBody.decode(request.body, compressed: h.compressed, version: request.version)
        if request.body == nil {
            body.topicConfigSerializeWrapper.dataVersion = DataVersion(counter: 0, timestamp: 0, stateVersion: 0)
        }
        guard
            let result = await routes.registerBroker(
                clusterName: h.clusterName, brokerAddr: h.brokerAddr, brokerName: h.brokerName, brokerId: h.brokerId,
                haServerAddr: h.haServerAddr, zoneName: h.zoneName, timeoutMs: h.heartbeatTimeoutMillis,
                enableActingMaster: h.enableActingMaster, topicConfigWrapper: body.topicConfigSerializeWrapper,
                filterServerList: body.filterServerList, channel: channel)
        else {
            return request.makeResponse(.systemError, remark: "register broker failed")
        }
        var orderBody: ByteBuffer?
        if config.returnOrderTopicConfigToBroker, let table = await kv.list(namespace: Self.orderTopicConfigNamespace) {
            orderBody = KVTable(table: table).encode()
        }
        return request.makeResponse(
            .success, header: RegisterBrokerResponseHeader(haServerAddr: result.haServerAddr, masterAddr: result.masterAddr),
            body: orderBody)
    }

    private func routeInfo(_ request: RemotingCommand) async throws -> RemotingCommand {
        let h = try request.decodeHeader(GetRouteInfoRequestHeader.self)
        guard var route = await routes.topicRouteData(topic: h.topic) else {
            return request.makeResponse(
                .topicNotExist, remark: "No topic route info in name server for the topic: \(h.topic)")
        }
        if config.orderMessageEnable {
            route.orderTopicConf = await kv.get(namespace: Self.orderTopicConfigNamespace, key: h.topic)
        }
        // Clients >= V4_9_4, or asking for it, get standard JSON; older ones fastjson's bare numeric keys (§8.5).
        let standard = request.version >= Int32(MQVersion.v4_9_4) || h.acceptStandardJsonOnly == true
        return request.makeResponse(.success, body: route.encode(style: standard ? .standard : .fastjson))
    }
}
