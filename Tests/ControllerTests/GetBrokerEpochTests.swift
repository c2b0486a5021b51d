// mqadmin getBrokerEpoch against real processes: a real mqnamesrv routes the tool to the brokers of a name;
// a real mqbroker (not in controller mode) refuses as Java's does, and a controller-mode broker — played
// in-process by a remoting server that registers with the NameServer and answers GET_BROKER_EPOCH_CACHE with
// RocketMQ 5's body — has its epochs printed in RocketMQ's format (the last entry ends at the broker's max offset).

import ApusTestSupport
import Foundation
import Logging
import NIOCore
import NIOPosix
import Remoting
import XCTest

final class GetBrokerEpochTests: XCTestCase {
    func testGetBrokerEpochPrintsEpochEntriesAndRelaysARefusal() async throws {
        let cluster = try Cluster()
        try await cluster.startNamesrv()
        try await cluster.startBroker()

        // The real broker is not in controller mode: Java's refusal, a failed command.
        let refused = try await mqadmin("getBrokerEpoch", "-n", cluster.namesrvAddr, "-b", "broker-a")
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("getBrokerEpoch command failed: CODE: 1  DESC: this request only for controllerMode "),
                      refused.stderr)

        // A controller-mode broker set "broker-c": master (id 0) and one replica, both answering 1007.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        var servers: [RemotingServer] = []
        var addrs: [String] = []
        for brokerId in [Int64(0), 1] {
            let server = RemotingServer(config: RemotingServerConfig(host: "127.0.0.1", port: 0), group: group, logger: logger)
            let cache = EpochEntryCache(clusterName: "TestCluster", brokerName: "broker-c", brokerId: brokerId == 0 ? 1 : 2,
                                        epochList: [.init(epoch: 1, startOffset: 0, endOffset: 4096),
                                                    .init(epoch: 2, startOffset: 4096)],
                                        maxOffset: 9000 + brokerId)
            server.registerProcessor(.getBrokerEpochCache, ClosureRequestProcessor { request, _ in
                request.makeResponse(.success, body: cache.encode())
            })
            let port = try await server.start().port ?? 0
            servers.append(server)
            addrs.append("127.0.0.1:\(port)")
        }
        let wire = ControllerWire()
        for (brokerId, addr) in addrs.enumerated() {
            let r = try await wire.call(cluster.namesrvAddr, .registerBroker, RegisterBrokerRequestHeader(
                brokerName: "broker-c", brokerAddr: addr, clusterName: "TestCluster", haServerAddr: addr,
                brokerId: Int64(brokerId)), body: RegisterBrokerBody().encode())
            XCTAssertEqual(r.responseCode, .success, r.remark ?? "")
        }

        let printed = try await mqadmin("getBrokerEpoch", "-n", cluster.namesrvAddr, "-b", "broker-c")
        XCTAssertEqual(printed.status, 0, printed.stdout + printed.stderr)
        XCTAssertEqual(printed.stdout, """

            #clusterName\tTestCluster
            #brokerName\tbroker-c
            #brokerAddr\t\(addrs[0])
            #brokerId\t1
            #Epoch: EpochEntry{epoch=1, startOffset=0, endOffset=4096}
            #Epoch: EpochEntry{epoch=2, startOffset=4096, endOffset=9000}

            #clusterName\tTestCluster
            #brokerName\tbroker-c
            #brokerAddr\t\(addrs[1])
            #brokerId\t2
            #Epoch: EpochEntry{epoch=1, startOffset=0, endOffset=4096}
            #Epoch: EpochEntry{epoch=2, startOffset=4096, endOffset=9001}

            """)
        let unknown = try await mqadmin("getBrokerEpoch", "-n", cluster.namesrvAddr, "-b", "broker-zz")
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("Make sure the specified broker name exists"), unknown.stderr)

        await wire.shutdown()
        for s in servers { await s.shutdown() }
        try await group.shutdownGracefully()
        await cluster.stopAll()
    }
}
