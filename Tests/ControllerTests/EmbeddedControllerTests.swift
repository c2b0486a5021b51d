// `enableControllerInNamesrv`: a real mqnamesrv serving the controller codes on its own port beside a
// standalone mqcontroller on the same etcd — one group, one state; a controller-mode broker's heartbeat to
// the NameServer keeps both its route and its controller liveness.

import ApusTestSupport
import Foundation
import NIOCore
import Remoting
import XCTest

final class EmbeddedControllerTests: XCTestCase {
    func testNameServerWithEmbeddedControllerSharesStateWithAStandaloneController() async throws {
        let c = try ControllerCluster()
        try await c.startEtcd()
        let conf = c.directory.appendingPathComponent("namesrv.conf")
        try """
            listenPort=0
            bindAddress=127.0.0.1
            enableControllerInNamesrv=true
            controllerEtcdEndpoints=\(c.etcdEndpoint)
            controllerSelfId=ns0
            controllerEtcdLeaseTtlSeconds=2
            scanNotActiveBrokerInterval=500
            kvConfigPath=\(c.directory.path)/kv.json
            configStorePath=\(c.directory.path)/namesrv.properties
            logPath=\(c.directory.path)/namesrv.log

            """.write(to: conf, atomically: true, encoding: .utf8)
        let namesrv = ChildProcess(binary: try findBinary("mqnamesrv", env: "APUS_MQNAMESRV"), arguments: ["-c", conf.path],
                                   environment: ["HOME": c.directory.path])
        c.controllers.append(namesrv)
        let port: Int = try await namesrv.start { text in
            guard text.contains("The ControllerManager boot success"),
                  let line = text.split(separator: "\n").first(where: { $0.hasPrefix("The Name Server listening port=") })
            else { return nil }
            return Int(line.dropFirst("The Name Server listening port=".count))
        }
        let ns = "127.0.0.1:\(port)"
        // The standalone controller is c1 (ControllerCluster numbers controllers by their position).
        let standalone = try await c.startController()

        let meta = try await mqadmin("getControllerMetaData", "-a", standalone)
        XCTAssertEqual(meta.stdout, """

            #ControllerGroup\tDefaultControllerGroup
            #ControllerLeaderId\tns0
            #ControllerLeaderAddress\t\(ns)
            #Peer:\tc1:\(standalone)
            #Peer:\tns0:\(ns)

            """, meta.stderr)

        let wire = ControllerWire()
        let id = try await wire.register(ns, cluster: "TestCluster", brokerName: "broker-a", brokerAddr: "127.0.0.1:10911")
        try await wire.heartbeat(ns, cluster: "TestCluster", brokerName: "broker-a", brokerAddr: "127.0.0.1:10911", brokerId: id,
                                 timeoutMs: 60_000)
        let elect = try await wire.call(standalone, .controllerElectMaster, ElectMasterRequestHeader(
            clusterName: "TestCluster", brokerName: "broker-a", brokerId: id))
        XCTAssertEqual(elect.responseCode, .success, elect.remark ?? "")
        let sync = try await mqadmin("getSyncStateSet", "-a", ns, "-b", "broker-a")
        XCTAssertTrue(sync.stdout.contains("#MasterBrokerId\t1\n#MasterAddr\t127.0.0.1:10911\n#MasterEpoch\t1\n"), sync.stdout + sync.stderr)
        XCTAssertTrue(sync.stdout.contains("InSyncReplica:\tReplicaIdentity{brokerName='broker-a', brokerId=1, brokerAddress='127.0.0.1:10911', alive=true}"),
                      sync.stdout)
        // The NameServer is still a NameServer.
        let info = try await wire.call(ns, .getBrokerClusterInfo)
        XCTAssertEqual(info.responseCode, .success)
        let config = try await mqadmin("getControllerConfig", "-a", ns)
        XCTAssertTrue(config.stdout.contains("controllerSelfId" + String(repeating: " ", count: 34) + "=  ns0"), config.stdout)

        await wire.shutdown()
        await c.stopAll()
    }
}
