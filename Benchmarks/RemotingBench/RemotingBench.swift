// RemotingBench (`make bench`): header encode/decode in both serialisations (ns/op) beside a memcpy of the
// same bytes, and the NameServer route-query rate over loopback with 64 requests in flight beside a raw
// loopback TCP echo measured in the same run (1 in flight and 64 in flight). Release build, one process.

import Foundation
import Logging
import NIOCore
import NIOPosix
import NameServer
import Remoting

@main
enum RemotingBench {
    static func main() async throws {
        LoggingSystem.bootstrap { _ in SwiftLogNoOpLogHandler() }
        print("RemotingBench — \(ProcessInfo.processInfo.activeProcessorCount) cores")
        // `--loopback-only N`: just the raw echo bound for N-byte frames, 64 in flight (the client bench's
        // bound: mqbench sends 1 KiB messages with 64 in flight).
        if let i = CommandLine.arguments.firstIndex(of: "--loopback-only") {
            let bytes = CommandLine.arguments.dropFirst(i + 1).first.flatMap { Int($0) } ?? 1024
            let rate = try rawEchoBound(inFlight: 64, seconds: 3, frameBytes: bytes)
            print(String(format: "loopback bound (raw TCP echo of %d-byte frames, 64 in flight, blocking sockets, no framing or parsing): %.0f frames/s, %.0f MB/s each way",
                         bytes, rate, rate * Double(bytes) / 1e6))
            return
        }
        // `--typed-only [name]`: just the typed header lines (those whose name contains `name`), to profile
        // one codec.
        if let i = CommandLine.arguments.firstIndex(of: "--typed-only") {
            typedHeaders(iterations: 1_000_000, only: CommandLine.arguments.dropFirst(i + 1).first)
            return
        }
        headerCodecs()
        if CommandLine.arguments.contains("--codecs-only") { return }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let raw1 = try rawEchoBound(inFlight: 1, seconds: 2)
        let raw64 = try rawEchoBound(inFlight: 64, seconds: 2)
        print(String(format: "loopback bound (raw TCP echo of 64-byte frames, blocking sockets, no framing or parsing): 1 in flight %.1f µs round trip (%.0f/s); 64 in flight (one 4 KiB batch each way) %.0f frames/s",
                     1e6 / raw1, raw1, raw64))
        let (rate, latencyUs) = try await routeQueryRate(group: group, inFlight: 64, seconds: 3)
        print(String(format: "NameServer GET_ROUTEINFO_BY_TOPIC over loopback, 64 in flight: %.0f req/s, mean latency %.0f µs  [bound: raw TCP echo, 64 in flight, %.0f frames/s]",
                     rate, latencyUs, raw64))
        let (rate1, latency1) = try await routeQueryRate(group: group, inFlight: 1, seconds: 2)
        print(String(format: "NameServer GET_ROUTEINFO_BY_TOPIC over loopback, 1 in flight: %.0f req/s, %.1f µs round trip  [bound: raw TCP echo %.1f µs]",
                     rate1, latency1, 1e6 / raw1))
        try await group.shutdownGracefully()
    }

    // MARK: Header codecs

    static func measure(_ iterations: Int, _ body: () throws -> Void) rethrows -> Double {
        for _ in 0..<(iterations / 10) { try body() }  // warm up
        let start = ContinuousClock.now
        for _ in 0..<iterations { try body() }
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) * 1e9 / Double(iterations)
            + Double(elapsed.components.attoseconds) / 1e9 / Double(iterations)
    }

    /// ns per frame header encoded, the whole frame, and the frame without its length prefix (what the
    /// decoder is given).
    static func encodeFrameHeader(_ c: RemotingCommand, iterations: Int) -> (Double, ByteBuffer, ByteBuffer) {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(1024)
        let encodeNs = measure(iterations) {
            buffer.clear()
            try? c.encodeFrameHeader(into: &buffer, bodyLength: 0)
        }
        let frame = (try? c.encodeFrame()) ?? ByteBuffer()
        return (encodeNs, frame, frame.getSlice(at: 4, length: frame.readableBytes - 4) ?? ByteBuffer())
    }

    static func headerCodecs() {
        let routeQuery = RemotingCommand(code: 105, opaque: 1, extFields: ["topic": "TopicTest"])
        let send = RemotingCommand(
            code: 310, opaque: 123_456,
            extFields: ["a": "producerGroup", "b": "TopicTest", "c": "TBW102", "d": "4", "e": "3", "f": "0",
                        "g": "1700000000000", "h": "0", "i": "WAIT\u{1}true\u{2}UNIQ_KEY\u{1}C0A8000A30391B6D35860A1B2C3D0001\u{2}",
                        "j": "0", "k": "false", "m": "false", "n": "broker-a"])
        let iterations = 200_000
        for (name, command) in [("route query, 1 field", routeQuery), ("send V2, 13 fields", send)] {
            for type in [SerializeType.json, .rocketmq] {
                var c = command
                c.serializeType = type
                let (encodeNs, frame, body) = encodeFrameHeader(c, iterations: iterations)
                var sink = 0
                let decodeNs = measure(iterations) {
                    if let d = try? RemotingCommand.decodeFrame(body) { sink &+= Int(d.opaque) }
                }
                var dest = [UInt8](repeating: 0, count: frame.readableBytes)
                let src = frame.allBytes
                let copyNs = measure(iterations) {
                    dest.withUnsafeMutableBytes { d in src.withUnsafeBytes { s in d.copyMemory(from: s) } }
                    sink &+= Int(dest[0])
                }
                let label = type == .json ? "JSON    " : "ROCKETMQ"
                print(String(format: "header %@ %@ (%d bytes): encode %.0f ns/op, decode %.0f ns/op  [bound: copy of the same bytes %.1f ns/op]",
                             label, name, frame.readableBytes, encodeNs, decodeNs, copyNs))
                // The typed send header read from the decoded frame (what the broker does per send).
                if name.hasPrefix("send"), let decoded = try? RemotingCommand.decodeFrame(body) {
                    let typedNs = measure(iterations) {
                        if let h = try? decoded.decodeHeader(SendMessageRequestHeaderV2.self) { sink &+= Int(h.header.queueId) }
                    }
                    print(String(format: "header %@ send V2 typed decode (SendMessageRequestHeaderV2 from the decoded frame): %.0f ns/op",
                                 type == .json ? "JSON    " : "ROCKETMQ", typedNs))
                }
                if sink == 42 { print("") }
            }
        }
        typedHeaders(iterations: iterations)
    }

    /// Typed headers written into a frame and read back from it (what a producer, the broker and a consumer
    /// do per send, send answer and pull): encode = the whole frame header from the typed value, decode = the
    /// typed value from the decoded frame.
    static func typedHeaders(iterations: Int, only: String? = nil) {
        let send = SendMessageRequestHeader(
            producerGroup: "producerGroup", topic: "TopicTest", queueId: 3, bornTimestamp: 1_700_000_000_000,
            properties: "WAIT\u{1}true\u{2}UNIQ_KEY\u{1}C0A8000A30391B6D35860A1B2C3D0001\u{2}", brokerName: "broker-a")
        let answer = SendMessageResponseHeader(msgId: "C0A8000A00002A9F0000000000001234", queueId: 3, queueOffset: 1234)
        let pull = PullMessageRequestHeader(consumerGroup: "G1", topic: "TopicTest", queueId: 3, queueOffset: 1234,
                                            sysFlag: 0x3, commitOffset: 1200, suspendTimeoutMillis: 15_000,
                                            subscription: "*", subVersion: 1_700_000_000_000, expressionType: "TAG",
                                            brokerName: "broker-a")
        let pullAnswer = PullMessageResponseHeader(suggestWhichBrokerId: 0, nextBeginOffset: 1266, minOffset: 0, maxOffset: 5000)
        var sink = 0
        func run<H: CommandCustomHeader>(_ name: String, _ code: RequestCode, _ header: H, response: Bool) {
            if let only, !name.contains(only) { return }
            for type in [SerializeType.json, .rocketmq] {
                let c = response
                    ? RemotingCommand(code: code.rawValue, serializeType: type).makeResponse(.success, header: header)
                    : RemotingCommand.request(code, header: header, serializeType: type)
                let (encodeNs, _, body) = encodeFrameHeader(c, iterations: iterations)
                guard let decoded = try? RemotingCommand.decodeFrame(body) else { continue }
                let decodeNs = measure(iterations) {
                    if (try? decoded.decodeHeader(H.self)) != nil { sink &+= 1 }
                }
                print(String(format: "typed %@ %@: frame header encode %.0f ns/op, typed decode %.0f ns/op",
                             type == .json ? "JSON    " : "ROCKETMQ", name, encodeNs, decodeNs))
            }
        }
        run("send V2 request   ", .sendMessageV2, SendMessageRequestHeaderV2(send), response: false)
        run("send answer       ", .sendMessageV2, answer, response: true)
        run("pull request      ", .pullMessage, pull, response: false)
        run("pull answer       ", .pullMessage, pullAnswer, response: true)
        if sink == 42 { print("") }
    }

    // MARK: Raw loopback bound

    /// Echo server on a thread; the client keeps `inFlight` 64-byte frames outstanding. Returns msgs/s.
    static func rawEchoBound(inFlight: Int, seconds: Double, frameBytes: Int = 64) throws -> Double {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, len) } }
        listen(listener, 1)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &len) } }
        let port = addr.sin_port
        let server = Thread {
            let conn = accept(listener, nil, nil)
            var one: Int32 = 1
            setsockopt(conn, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(4))
            var buf = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buf.withUnsafeMutableBytes { recv(conn, $0.baseAddress, $0.count, 0) }
                if n <= 0 { break }
                _ = buf.withUnsafeBytes { send(conn, $0.baseAddress, n, Int32(MSG_NOSIGNAL)) }
            }
            close(conn)
        }
        server.start()
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var peer = sockaddr_in()
        peer.sin_family = sa_family_t(AF_INET)
        peer.sin_addr.s_addr = inet_addr("127.0.0.1")
        peer.sin_port = port
        _ = withUnsafePointer(to: &peer) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(4))
        let message = [UInt8](repeating: 0x5A, count: frameBytes)
        let batch = Array(repeating: message, count: inFlight).flatMap { $0 }
        var buf = [UInt8](repeating: 0, count: batch.count)
        var count = 0
        let start = ContinuousClock.now
        let deadline = start + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            _ = batch.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            var got = 0
            while got < batch.count {
                let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, batch.count - got, 0) }
                if n <= 0 { break }
                got += n
            }
            count += inFlight
        }
        let elapsed = ContinuousClock.now - start
        close(fd)
        close(listener)
        let secs = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Double(count) / secs
    }

    // MARK: NameServer route queries

    static func routeQueryRate(group: any EventLoopGroup, inFlight: Int, seconds: Double) async throws -> (Double, Double) {
        var config = NamesrvConfig()
        config.listenPort = 0
        config.bindAddress = "127.0.0.1"
        config.kvConfigPath = FileManager.default.temporaryDirectory.appendingPathComponent("apus-bench-kv-\(UUID().uuidString).json").path
        let logger = Logger(label: "bench")
        let controller = NamesrvController(config: config, group: group, logger: logger)
        let port = try await controller.start()
        let address = "127.0.0.1:\(port)"
        let client = RemotingClient(group: group, logger: logger)
        let body = RegisterBrokerBody(topicConfigSerializeWrapper: TopicConfigSerializeWrapper(
            topicConfigTable: ["TopicTest": TopicConfig(topicName: "TopicTest", readQueueNums: 8, writeQueueNums: 8),
                               "TBW102": TopicConfig(topicName: "TBW102", perm: 7)],
            dataVersion: DataVersion(counter: 1, timestamp: 1)))
        let header = RegisterBrokerRequestHeader(brokerName: "broker-a", brokerAddr: "10.0.0.1:10911", clusterName: "c",
                                                 haServerAddr: "10.0.0.1:10912", brokerId: 0)
        _ = try await client.invokeSync(address, .request(.registerBroker, header: header, body: body.encode()))
        let channel = try await client.channel(to: address)
        let routeHeader = GetRouteInfoRequestHeader(topic: "TopicTest")

        let stats = BenchStats()
        let deadline = NIODeadline.now() + .milliseconds(Int64(seconds * 1000))
        let done = channel.channel.eventLoop.makePromise(of: Void.self)
        let active = Countdown(inFlight)
        @Sendable func issue() {
            let sent = NIODeadline.now()
            channel.invokeFuture(.request(.getRouteInfoByTopic, header: routeHeader)).whenComplete { result in
                if case .success(let r) = result, r.code == 0 { stats.record(NIODeadline.now() - sent) }
                if NIODeadline.now() < deadline {
                    issue()
                } else {
                    if active.decrement() == 0 { done.succeed(()) }
                }
            }
        }
        let start = NIODeadline.now()
        channel.channel.eventLoop.execute { for _ in 0..<inFlight { issue() } }
        try await done.futureResult.get()
        let elapsedNs = Double((NIODeadline.now() - start).nanoseconds)
        await client.shutdown()
        await controller.shutdown()
        let (count, totalNs) = stats.snapshot()
        return (Double(count) / (elapsedNs / 1e9), Double(totalNs) / Double(max(count, 1)) / 1000)
    }
}

import Synchronization

final class BenchStats: Sendable {
    private let state = Mutex<(Int, Int64)>((0, 0))
    func record(_ latency: TimeAmount) { state.withLock { $0.0 += 1; $0.1 += latency.nanoseconds } }
    func snapshot() -> (Int, Int64) { state.withLock { $0 } }
}

extension ByteBuffer {
    var allBytes: [UInt8] { getBytes(at: readerIndex, length: readableBytes) ?? [] }
}

final class Countdown: Sendable {
    private let left: Mutex<Int>
    init(_ n: Int) { left = Mutex(n) }
    func decrement() -> Int { left.withLock { $0 -= 1; return $0 } }
}
