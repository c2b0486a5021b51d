// BrokerBench: `make bench`'s end-to-end loopback run for the broker (until mqbench exists), and the
// quick-start producer/consumer `make run` points to. `bench` starts a broker in this process on loopback
// and measures 1 KiB sends with 64 in flight, pulls of a backlog (default 1 GiB), and zero-copy against
// copying pull bodies for small and large batches, printing the loopback and disk bounds measured in the
// same run. `produce` / `consume` talk to a running broker. Runs on the main task and NIO loops.

import Broker
import Foundation
import Logging
import NIOCore
import NIOPosix
import Remoting
import Store

@main
enum BrokerBench {
    static func main() async throws {
        var args = Array(CommandLine.arguments.dropFirst())
        let mode = args.first.map { $0.hasPrefix("-") ? "bench" : args.removeFirst() } ?? "bench"
        func option(_ name: String, _ fallback: String) -> String {
            guard let i = args.firstIndex(of: "--" + name), i + 1 < args.count else { return fallback }
            return args[i + 1]
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        switch mode {
        case "produce":
            try await QuickStart.produce(group: group, address: option("broker", "127.0.0.1:10911"),
                                         topic: option("topic", "TopicTest"), count: Int(option("count", "10")) ?? 10)
        case "consume":
            try await QuickStart.consume(group: group, address: option("broker", "127.0.0.1:10911"),
                                         topic: option("topic", "TopicTest"), consumerGroup: option("group", "QuickStartGroup"))
        default:
            try await Bench.run(group: group, sends: Int(option("sends", "200000")) ?? 200_000,
                                backlogMiB: Int(option("backlog-mib", "1024")) ?? 1024,
                                directory: option("dir", FileManager.default.temporaryDirectory.path + "/apus-broker-bench"))
        }
        try await group.shutdownGracefully()
    }
}

enum Bench {
    static func mbps(_ bytes: Int, _ d: Duration) -> Double { Double(bytes) / 1_048_576 / seconds(d) }
    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    static func run(group: MultiThreadedEventLoopGroup, sends: Int, backlogMiB: Int, directory: String) async throws {
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        print("BrokerBench: in-process broker on loopback, store in \(directory), \(System.coreCount) cores")
        let loop = Bounds.loopbackMBps(bytes: 1 << 30)
        let disk = Bounds.diskWriteMBps(path: directory + "/disk-bound", bytes: 512 << 20)
        print(String(format: "bound  loopback TCP (1 MiB writes, 1 GiB):          %8.0f MB/s", loop))
        print(String(format: "bound  disk sequential write + fdatasync (512 MiB): %8.0f MB/s", disk))

        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        var bc = BrokerConfig()
        bc.brokerIP1 = "127.0.0.1"
        bc.listenPort = 0
        bc.namesrvAddr = ""
        var sc = MessageStoreConfig(storePathRootDir: directory + "/store")
        sc.mappedFileSizeCommitLogBytes = 1 << 30
        sc.maxTransferCountOnMessageInMemory = 4096
        sc.maxTransferBytesOnMessageInMemory = 4 << 20
        let broker = try await BrokerController.start(brokerConfig: bc, storeConfig: sc, group: group, logger: logger)
        let address = broker.brokerConfig.brokerAddr
        let client = RemotingClient(group: group, logger: logger)
        let topic = "BenchTopic"
        let queues: Int32 = 4
        _ = try await client.invokeSync(address, .request(.updateAndCreateTopic, header: CreateTopicRequestHeader(
            topic: topic, readQueueNums: queues, writeQueueNums: queues)))

        // 1 KiB sends, 64 in flight.
        let body = ByteBuffer(bytes: [UInt8](repeating: 0x61, count: 1024))
        let t0 = ContinuousClock.now
        try await inFlight(64, total: sends) { i in
            var r = RemotingCommand.request(.sendMessageV2, body: body)
            r.extFields = SendMessageRequestHeader(producerGroup: "BenchPG", topic: topic, queueId: Int32(i % Int(queues)),
                                                   bornTimestamp: 0, properties: "WAIT\u{1}true\u{2}").toV2ExtFields()
            let resp = try await client.invokeSync(address, r)
            precondition(resp.responseCode == .success, "send failed: \(resp.remark ?? "")")
        }
        let sendTime = ContinuousClock.now - t0
        print(String(format: "send   1 KiB, 64 in flight, %d msgs:               %8.0f msgs/s %8.1f MB/s (bodies)",
                     sends, Double(sends) / seconds(sendTime), mbps(sends * 1024, sendTime)))

        // Backlog: fill with 64 KiB batches of 1 KiB messages up to backlogMiB of CommitLog.
        let item = batchItem(body: [UInt8](repeating: 0x62, count: 1024))
        let batch = ByteBuffer(bytes: Array([[UInt8]](repeating: item, count: 64).joined()))
        let targetBytes = Int64(backlogMiB) << 20
        let batches = max(0, Int((targetBytes - broker.store.maxPhysicalOffset) / Int64(64 * (item.count + 150))))
        try await inFlight(16, total: batches) { i in
            var r = RemotingCommand.request(.sendBatchMessage, body: batch)
            r.extFields = SendMessageRequestHeader(producerGroup: "BenchPG", topic: topic, queueId: Int32(i % Int(queues)),
                                                   bornTimestamp: 0, properties: "WAIT\u{1}true\u{2}", batch: true).toV2ExtFields()
            let resp = try await client.invokeSync(address, r)
            precondition(resp.responseCode == .success, "batch send failed: \(resp.remark ?? "")")
        }
        while broker.store.dispatchBehindBytes > 0 { try await Task.sleep(for: .milliseconds(20)) }
        var total: Int64 = 0
        for q in 0..<queues { total += broker.store.maxOffsetInQueue(topic: topic, queueId: q) }
        print("backlog: \(total) messages, \(broker.store.maxPhysicalOffset >> 20) MiB of CommitLog")

        // Pull the whole backlog (zero-copy above the threshold), 4 queues in parallel, 1024 msgs per pull.
        func pullAll(group consumerGroup: String, maxNums: Int32, from first: Int64 = 0, limitPerQueue: Int64 = .max) async throws -> (Int, Int, Duration) {
            let start = ContinuousClock.now
            let results = try await withThrowingTaskGroup(of: (Int, Int).self) { g in
                for q in 0..<queues {
                    g.addTask {
                        var next: Int64 = first, msgs = 0, bytes = 0
                        while next < limitPerQueue {
                            let h = PullMessageRequestHeader(consumerGroup: consumerGroup, topic: topic, queueId: q, queueOffset: next,
                                                             maxMsgNums: maxNums, sysFlag: 4, subscription: "*")
                            let r = try await client.invokeSync(address, .request(.pullMessage, header: h))
                            guard r.responseCode == .success else { break }
                            let rh: PullMessageResponseHeader = try r.decodeHeader()
                            msgs += Int(rh.nextBeginOffset - next)
                            bytes += r.body?.readableBytes ?? 0
                            next = rh.nextBeginOffset
                        }
                        return (msgs, bytes)
                    }
                }
                var m = 0, b = 0
                for try await (x, y) in g { m += x; b += y }
                return (m, b)
            }
            return (results.0, results.1, ContinuousClock.now - start)
        }
        func setConfig(_ text: String) async throws {
            _ = try await client.invokeSync(address, .request(.updateBrokerConfig, body: ByteBuffer(string: text)))
        }
        let (m, b, d) = try await pullAll(group: "BenchBacklog", maxNums: 1024)
        print(String(format: "pull   backlog, 1024 msgs/pull, default policy:      %8.0f msgs/s %8.1f MB/s (%d msgs, %d MiB)",
                     Double(m) / seconds(d), mbps(b, d), m, b >> 20))

        // Zero-copy against copying, small (8 msgs, ~9 KiB) and large (1024 msgs, ~1.2 MiB) pull bodies, over
        // records stored contiguously (batches: 64 records per run) and interleaved (single sends to 4 queues:
        // every record its own run).
        let singlesPerQueue = Int64(sends) / Int64(queues)
        let batchedPerQueue = total / Int64(queues) - singlesPerQueue
        let scenarios: [(String, Int32, Int64, Int64)] = [
            ("contiguous small 8 msgs/pull   ", 8, singlesPerQueue, min(16_384, batchedPerQueue)),
            ("contiguous large 1024 msgs/pull", 1024, singlesPerQueue, min(131_072, batchedPerQueue)),
            ("interleaved small 8 msgs/pull  ", 8, 0, min(16_384, singlesPerQueue)),
            ("interleaved large 1024 msgs/pull", 1024, 0, singlesPerQueue),
        ]
        for (i, (label, nums, from, count)) in scenarios.enumerated() where count > 0 {
            try await setConfig("transferMsgByHeap=true\n")
            let (cm, cb, cd) = try await pullAll(group: "BenchCopy\(i)", maxNums: nums, from: from, limitPerQueue: from + count)
            try await setConfig("transferMsgByHeap=false\nzeroCopyThresholdBytes=0\n")
            let (zm, zb, zd) = try await pullAll(group: "BenchZero\(i)", maxNums: nums, from: from, limitPerQueue: from + count)
            print(String(format: "pull   %@ copy:      %8.0f msgs/s %8.1f MB/s", label, Double(cm) / seconds(cd), mbps(cb, cd)))
            print(String(format: "pull   %@ zero-copy: %8.0f msgs/s %8.1f MB/s", label, Double(zm) / seconds(zd), mbps(zb, zd)))
        }
        await client.shutdown()
        await broker.shutdown()
        try? FileManager.default.removeItem(atPath: directory)
    }

    static func batchItem(body: [UInt8]) -> [UInt8] {
        let props = Array("WAIT\u{1}true\u{2}".utf8)
        var out: [UInt8] = []
        func put(_ v: Int) { out += [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        put(20 + body.count + 2 + props.count)
        put(0); put(0); put(0)
        put(body.count)
        out += body
        out += [UInt8(props.count >> 8), UInt8(props.count & 0xFF)]
        return out + props
    }

    /// Runs `total` operations with `width` in flight.
    static func inFlight(_ width: Int, total: Int, _ op: @escaping @Sendable (Int) async throws -> Void) async throws {
        let next = NextIndex()
        try await withThrowingTaskGroup(of: Void.self) { g in
            for _ in 0..<width {
                g.addTask {
                    while let i = next.take(below: total) { try await op(i) }
                }
            }
            try await g.waitForAll()
        }
    }
}

import Synchronization

final class NextIndex: Sendable {
    private let value = Atomic<Int>(0)
    func take(below total: Int) -> Int? {
        let i = value.wrappingAdd(1, ordering: .relaxed).oldValue
        return i < total ? i : nil
    }
}
