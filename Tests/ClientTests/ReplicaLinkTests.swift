// SYNC_MASTER while the link to its slave is cut (issue 10, must-show 2): the NameServer, the master and the
// slave each on its own host (network namespaces, HostNetwork), and the slave's link is taken down while
// sending, so its connection stays open and no acknowledgement comes. (Where namespaces cannot be made, on
// loopback, the slave is frozen with SIGSTOP instead: the same silence.) Every send is then answered
// FLUSH_SLAVE_TIMEOUT (after slaveTimeout) or SLAVE_NOT_AVAILABLE, never SEND_OK; once the link is back the
// slave catches up with no gap (its CommitLog equals the master's) and SEND_OK resumes.

import ApusTestSupport
import Client
import Foundation
import Logging
import NIOPosix
import Remoting
import XCTest

final class ReplicaLinkTests: XCTestCase {
    let remoting = RemotingClient(group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "test"))

    override func tearDown() async throws { await remoting.shutdown() }

    func maxOffset(_ addr: String) async -> Int64? {
        guard let r = try? await remoting.invokeSync(addr, .request(.getBrokerRuntimeInfo), timeoutMs: 2_000),
              r.responseCode == .success, let body = r.body, let table = try? KVTable.decode(body) else { return nil }
        return table.table["commitLogMaxOffset"].flatMap { Int64($0) }
    }

    func testNoSendOKWithoutTheSlavesAckAndTheSlaveCatchesUpAfter() async throws {
        let cluster = try Cluster(extraConfig: ["brokerRole": "SYNC_MASTER", "slaveTimeout": "1000"])
        let network = HostNetwork.make(hosts: 3)
        if let network { cluster.place(on: network) }
        addTeardownBlock {
            if let pid = cluster.slave?.process.processIdentifier { kill(pid, SIGCONT) }
            if let network { try? network.restore(network.hosts[2]) }
            await cluster.stopAll()
            network?.remove()
        }
        try await cluster.startNamesrv()
        try await cluster.startBroker()
        try await cluster.startSlave()
        let topic = "LinkTopic"
        try await cluster.createTopic(topic, queues: 4)
        let producer = Producer(group: "link_pg", config: cluster.clientConfig)
        try await producer.start()
        addTeardownBlock { await producer.shutdown() }
        try await waitUntil("the slave in sync") {
            (try? await producer.send(Message(topic: topic, body: "probe")))?.sendStatus == .sendOK
        }
        let slavePid = try XCTUnwrap(cluster.slave?.process.processIdentifier)
        if let network { try network.cut(network.hosts[2]) } else { kill(slavePid, SIGSTOP) }
        for i in 0..<4 {
            let r = try await producer.send(Message(topic: topic, body: "while cut \(i)"))
            XCTAssertTrue([SendStatus.flushSlaveTimeout, .slaveNotAvailable].contains(r.sendStatus), "send \(i): \(r.sendStatus)")
        }
        if let network { try network.restore(network.hosts[2]) } else { kill(slavePid, SIGCONT) }
        print("ha-link: \(network == nil ? "slave frozen on loopback" : "slave's link cut between namespaces") and restored")
        // The slave catches up what it missed, then acknowledges again.
        try await waitUntil("SEND_OK again") {
            (try? await producer.send(Message(topic: topic, body: "after")))?.sendStatus == .sendOK
        }
        guard let end = await maxOffset(cluster.brokerAddr) else { return XCTFail("master unreachable") }
        try await waitUntil("the slave to hold every byte") { await self.maxOffset(cluster.slaveAddr) ?? 0 >= end }
        let name = "commitlog/" + String(repeating: "0", count: 20)
        let master = try XCTUnwrap(FileManager.default.contents(atPath: cluster.storeDirectory.appendingPathComponent(name).path))
        let slave = try XCTUnwrap(FileManager.default.contents(atPath: cluster.slaveStoreDirectory.appendingPathComponent(name).path))
        XCTAssertEqual(slave.prefix(Int(end)), master.prefix(Int(end)), "the slave's CommitLog has a gap or differs")
    }
}
