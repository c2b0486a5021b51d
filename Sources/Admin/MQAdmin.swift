// MQAdmin: the admin operations of RocketMQ's MQAdminExt over Remoting — NameServer queries and updates
// here, broker operations in MQAdmin+Broker.swift, message lookups and sends in MQAdmin+Message.swift.
// Used by `mqadmin` (and any future console); every method is async and may be called from any task.
// Builds requests from the typed headers in Remoting directly (the Swift Client library is separate).

import Client
import Logging
import NIOCore
import NIOPosix
import Remoting

public final class MQAdmin: Sendable {
    public let namesrvAddrs: [String]
    /// Per-request timeout (RocketMQ admin default 5 s).
    public let timeoutMs: Int64
    let client: RemotingClient
    /// The client library's RPCs over the same connections (pulls decode and decompress as consumers do).
    let clientAPI: MQClientAPI
    private let group: MultiThreadedEventLoopGroup

    /// `namesrvAddr` is RocketMQ's `;`-separated list; it may be empty only with `requireNameServer` false
    /// (controller operations address the controller directly).
    public init(namesrvAddr: String, timeoutMs: Int64 = 5000, logger: Logger? = nil,
                requireNameServer: Bool = true) throws(MQAdminError) {
        let addrs = namesrvAddr.split(separator: ";").map { $0.trimmingCharacters() }.filter { !$0.isEmpty }
        guard !addrs.isEmpty || !requireNameServer else { throw .noNameServer }
        for a in addrs {
            do { _ = try RemotingAddress.split(a) } catch { throw .badArgument("bad name server address \(a)") }
        }
        namesrvAddrs = addrs
        self.timeoutMs = timeoutMs
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let log = logger ?? Logger(label: "apus.admin", factory: { _ in SwiftLogNoOpLogHandler() })
        client = RemotingClient(config: RemotingClientConfig(connectTimeoutMs: 3000), group: group, logger: log)
        var config = ClientConfig(namesrvAddr: namesrvAddr)
        config.mqClientApiTimeoutMs = timeoutMs
        clientAPI = MQClientAPI(remoting: client, config: config)
    }

    /// Closes connections and the event loop.
    public func shutdown() async {
        await client.shutdown()
        try? await group.shutdownGracefully()
    }

    // MARK: invocation

    /// Sends and returns the response when it is SUCCESS (or one of `accept`); otherwise throws.
    func invoke(_ address: String, _ request: RemotingCommand, timeoutMs: Int64? = nil,
                accept: Set<ResponseCode> = []) async throws -> RemotingCommand {
        let response = try await client.invokeSync(address, request, timeoutMs: timeoutMs ?? self.timeoutMs)
        guard response.responseCode == .success || accept.contains(response.responseCode) else {
            throw MQAdminError.response(code: response.code, remark: response.remark, address: address)
        }
        return response
    }

    /// To the first NameServer that answers (RocketMQ picks one of the list).
    func invokeNamesrv(_ request: @autoclosure () -> RemotingCommand) async throws -> RemotingCommand {
        var lastError: (any Error)?
        for addr in namesrvAddrs {
            do {
                return try await invoke(addr, request())
            } catch let e as MQAdminError {
                throw e
            } catch {
                lastError = error
            }
        }
        throw lastError ?? MQAdminError.noNameServer
    }

    static func body<T: RemotingJSONBody>(_ type: T.Type, _ response: RemotingCommand) throws -> T {
        guard let b = response.body else { throw MQAdminError.notFound("empty response body") }
        return try T.decode(b)
    }

    // MARK: NameServer

    /// GET_ROUTEINFO_BY_TOPIC (105).
    public func examineTopicRouteInfo(_ topic: String) async throws -> TopicRouteData {
        let r = try await invokeNamesrv(.request(.getRouteInfoByTopic, header: GetRouteInfoRequestHeader(topic: topic)))
        return try Self.body(TopicRouteData.self, r)
    }

    /// GET_BROKER_CLUSTER_INFO (106).
    public func examineBrokerClusterInfo() async throws -> ClusterInfo {
        try Self.body(ClusterInfo.self, try await invokeNamesrv(.request(.getBrokerClusterInfo)))
    }

    /// GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206).
    public func fetchAllTopicList() async throws -> [String] {
        try Self.body(TopicList.self, try await invokeNamesrv(.request(.getAllTopicListFromNameServer))).topicList
    }

    /// PUT_KV_CONFIG (100) to every NameServer.
    public func putKVConfig(namespace: String, key: String, value: String) async throws {
        for addr in namesrvAddrs {
            _ = try await invoke(addr, .request(.putKVConfig, header: PutKVConfigRequestHeader(namespace: namespace, key: key, value: value)))
        }
    }

    /// DELETE_KV_CONFIG (102) to every NameServer.
    public func deleteKVConfig(namespace: String, key: String) async throws {
        for addr in namesrvAddrs {
            _ = try await invoke(addr, .request(.deleteKVConfig, header: KVConfigKeyRequestHeader(namespace: namespace, key: key)))
        }
    }

    /// GET_KV_CONFIG (101); nil when the key is absent.
    public func getKVConfig(namespace: String, key: String) async throws -> String? {
        let r = try await invokeNamesrv(.request(.getKVConfig, header: KVConfigKeyRequestHeader(namespace: namespace, key: key)))
        return try r.decodeHeader(GetKVConfigResponseHeader.self).value
    }

    /// WIPE_WRITE_PERM_OF_BROKER (205) to one NameServer; the number of topics changed.
    public func wipeWritePermOfBroker(namesrvAddr: String, brokerName: String) async throws -> Int32 {
        let r = try await invoke(namesrvAddr, .request(.wipeWritePermOfBroker, header: BrokerNameRequestHeader(brokerName: brokerName)))
        return (try? r.decodeHeader(WipeWritePermOfBrokerResponseHeader.self))?.wipeTopicCount ?? 0
    }

    /// ADD_WRITE_PERM_OF_BROKER (327) to one NameServer; the number of topics changed.
    public func addWritePermOfBroker(namesrvAddr: String, brokerName: String) async throws -> Int32 {
        let r = try await invoke(namesrvAddr, .request(.addWritePermOfBroker, header: BrokerNameRequestHeader(brokerName: brokerName)))
        return (try? r.decodeHeader(AddWritePermOfBrokerResponseHeader.self))?.addTopicCount ?? 0
    }

    /// DELETE_TOPIC_IN_NAMESRV (216) to every NameServer.
    public func deleteTopicInNameServer(topic: String, clusterName: String?) async throws {
        for addr in namesrvAddrs {
            _ = try await invoke(addr, .request(.deleteTopicInNamesrv,
                                                header: DeleteTopicFromNamesrvRequestHeader(topic: topic, clusterName: clusterName)))
        }
    }

    // MARK: cluster helpers (CommandUtil)

    /// Master (id 0) addresses of a cluster's brokers, sorted; throws when the cluster is unknown.
    public func masterAddrs(ofCluster cluster: String) async throws -> [String] {
        let info = try await examineBrokerClusterInfo()
        guard let names = info.clusterAddrTable[cluster] else { throw Self.unknownCluster }
        return names.sorted().compactMap { info.brokerAddrTable[$0]?.masterAddr }
    }

    /// Every address (masters and slaves) of a cluster's brokers.
    public func allAddrs(ofCluster cluster: String) async throws -> [String] {
        let info = try await examineBrokerClusterInfo()
        guard let names = info.clusterAddrTable[cluster] else { throw Self.unknownCluster }
        return names.sorted().flatMap { name in
            (info.brokerAddrTable[name]?.brokerAddrs ?? [:]).sorted { $0.key < $1.key }.map(\.value)
        }
    }

    static let unknownCluster = MQAdminError.notFound(
        "[error] Make sure the specified clusterName exists or the name server connected to is correct.")

    /// Master if present, else the lowest-id address ("select broker address").
    public static func selectBrokerAddr(_ b: BrokerData) -> String? {
        b.masterAddr ?? b.brokerAddrs.sorted { $0.key < $1.key }.first?.value
    }

    /// The address serving `brokerName` according to the topic's route.
    func brokerAddr(brokerName: String, route: TopicRouteData) throws -> String {
        guard let b = route.brokerDatas.first(where: { $0.brokerName == brokerName }), let a = Self.selectBrokerAddr(b) else {
            throw MQAdminError.notFound("The broker[\(brokerName)] not exist")
        }
        return a
    }
}

extension Substring {
    func trimmingCharacters() -> String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
