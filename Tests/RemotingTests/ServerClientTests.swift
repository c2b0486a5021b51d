// Server and client over loopback on an ephemeral port: dispatch by code, unknown codes, one-way,
// serialisation echo, timeouts, late responses, server-initiated requests, close notification, and a
// malformed frame closing only its own connection.

import ApusTestSupport
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import XCTest

@testable import Remoting

final class Recorder: RemotingChannelEventListener, Sendable {
    let closed = Mutex<[RemotingChannel]>([])
    let onewaySeen = Mutex<[Int32]>([])
    func channelClosed(_ channel: RemotingChannel) async { closed.withLock { $0.append(channel) } }
}

final class ServerClientTests: XCTestCase {
    var group: MultiThreadedEventLoopGroup!
    var server: RemotingServer!
    var client: RemotingClient!
    var recorder: Recorder!
    var address = ""
    let logger = Logger(label: "test")

    static let echo = RequestCode(9001)
    static let oneway = RequestCode(9002)
    static let late = RequestCode(9003)
    static let silent = RequestCode(9004)
    static let throwing = RequestCode(9005)
    static let callBack = RequestCode(9006)

    override func setUp() async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        server = RemotingServer(config: RemotingServerConfig(host: "127.0.0.1", port: 0), group: group, logger: logger)
        recorder = Recorder()
        let recorder = self.recorder!
        server.addChannelEventListener(recorder)
        server.registerProcessor(Self.echo, ClosureRequestProcessor { request, _ in
            request.makeResponse(.success, remark: request.extFields?["say"], body: request.body)
        })
        server.registerProcessor(Self.oneway, ClosureRequestProcessor { request, _ in
            recorder.onewaySeen.withLock { $0.append(request.opaque) }
            return request.makeResponse(.success)  // must not be sent
        })
        server.registerProcessor(Self.late, ClosureRequestProcessor { request, channel in
            Task {
                try await Task.sleep(for: .milliseconds(50))
                channel.writeResponse(request.makeResponse(.success, remark: "late"), to: request)
            }
            return nil
        })
        server.registerProcessor(Self.silent, ClosureRequestProcessor { _, _ in nil })
        server.registerProcessor(Self.throwing, ClosureRequestProcessor { _, _ in throw RemotingError.missingHeaderField("topic") })
        server.registerProcessor(Self.callBack, ClosureRequestProcessor { request, channel in
            // The server asks the client something before answering.
            let answer = try await channel.invoke(RemotingCommand.request(Self.echo, header: nil), timeoutMs: 2000)
            return request.makeResponse(.success, remark: "client said \(answer.remark ?? "nil")")
        })
        let bound = try await server.start()
        address = "127.0.0.1:\(bound.port ?? 0)"
        client = RemotingClient(group: group, logger: logger)
    }

    override func tearDown() async throws {
        await client.shutdown()
        await server.shutdown()
        try await group.shutdownGracefully()
    }

    func request(_ code: RequestCode, _ fields: [String: String]? = nil, type: SerializeType = .json) -> RemotingCommand {
        var r = RemotingCommand.request(code, serializeType: type)
        r.extFields = fields
        return r
    }

    func testRequestIsDispatchedByCodeAndAnsweredWithItsOpaque() async throws {
        let r = request(Self.echo, ["say": "hi"])
        let response = try await client.invokeSync(address, r)
        XCTAssertEqual(response.opaque, r.opaque)
        XCTAssertTrue(response.isResponse)
        XCTAssertEqual(response.remark, "hi")
    }

    func testResponseUsesTheSerialisationOfItsRequest() async throws {
        for type in [SerializeType.json, .rocketmq] {
            let response = try await client.invokeSync(address, request(Self.echo, ["say": "x"], type: type))
            XCTAssertEqual(response.serializeType, type)
            XCTAssertEqual(response.remark, "x")
        }
    }

    func testUnknownRequestCodeGetsRequestCodeNotSupported() async throws {
        let response = try await client.invokeSync(address, request(RequestCode(4242)))
        XCTAssertEqual(response.responseCode, .requestCodeNotSupported)
        XCTAssertEqual(response.remark, " request type 4242 not supported")
        // The connection still serves.
        let ok = try await client.invokeSync(address, request(Self.echo, ["say": "still"]))
        XCTAssertEqual(ok.remark, "still")
    }

    func testOnewayRequestIsProcessedButNotAnswered() async throws {
        // Raw bytes so any stray answer would be seen: one-way (known code), one-way (unknown code), then echo.
        let socket = try RawSocket(port: try XCTUnwrap(server.localPort))
        var oneway = request(Self.oneway)
        oneway.opaque = 777_001
        oneway.flag = RemotingCommand.onewayFlagBit
        var unknown = request(RequestCode(4243))
        unknown.flag = RemotingCommand.onewayFlagBit
        var echo = request(Self.echo, ["say": "after"])
        echo.opaque = 777_003
        socket.send(try oneway.encodeFrame().allBytes + unknown.encodeFrame().allBytes)
        let recorder = self.recorder!
        try await waitUntil { recorder.onewaySeen.withLock { $0.contains(777_001) } }
        socket.send(try echo.encodeFrame().allBytes)
        let frame = try XCTUnwrap(socket.readFrame())
        let response = try RemotingCommand.decodeFrame(ByteBuffer(bytes: frame.dropFirst(4)))
        XCTAssertEqual(response.opaque, 777_003, "the first frame back must answer the echo, not a one-way")
        XCTAssertEqual(response.remark, "after")
    }

    func testProcessorMayAnswerLater() async throws {
        let response = try await client.invokeSync(address, request(Self.late))
        XCTAssertEqual(response.remark, "late")
    }

    func testCallTimesOutWhenNoAnswerComes() async throws {
        do {
            _ = try await client.invokeSync(address, request(Self.silent), timeoutMs: 100)
            XCTFail("expected a timeout")
        } catch let error as RemotingError {
            guard case .timeout = error else { return XCTFail("\(error)") }
        }
    }

    func testShortTimeoutAfterALongOneExpiresOnItsOwnDeadline() async throws {
        // One sweep timer serves every call of a connection: a later, shorter call must re-arm it earlier,
        // and the longer call must still time out (not be forgotten) once the short one is gone.
        let clock = ContinuousClock()
        let client: RemotingClient = self.client, address = self.address, silent = request(Self.silent)
        async let long: RemotingCommand = client.invokeSync(address, silent, timeoutMs: 1500)
        let start = clock.now
        do {
            _ = try await client.invokeSync(address, request(Self.silent), timeoutMs: 100)
            XCTFail("expected a timeout")
        } catch let error as RemotingError {
            guard case .timeout = error else { return XCTFail("\(error)") }
        }
        XCTAssertLessThan(clock.now - start, .milliseconds(1000), "the short call waited for the long call's deadline")
        // Calls answered meanwhile are unaffected by the armed sweep.
        let answered = try await client.invokeSync(address, request(Self.late))
        XCTAssertEqual(answered.remark, "late")
        do {
            _ = try await long
            XCTFail("expected a timeout")
        } catch let error as RemotingError {
            guard case .timeout = error else { return XCTFail("\(error)") }
        }
    }

    func testThrowingProcessorGivesSystemError() async throws {
        let response = try await client.invokeSync(address, request(Self.throwing))
        XCTAssertEqual(response.responseCode, .systemError)
        XCTAssertEqual(response.remark, "the custom field <topic> is null")
    }

    func testServerInitiatedRequestIsServedByTheClient() async throws {
        client.registerProcessor(Self.echo, ClosureRequestProcessor { request, _ in
            request.makeResponse(.success, remark: "pong")
        })
        let response = try await client.invokeSync(address, request(Self.callBack))
        XCTAssertEqual(response.remark, "client said pong")
    }

    func testManyConcurrentCallsAreMatchedByOpaque() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<200 {
                var r = RemotingCommand.request(Self.echo)
                r.extFields = ["say": "\(i)"]
                let (client, address, request) = (self.client!, self.address, r)
                group.addTask {
                    let response = try await client.invokeSync(address, request)
                    XCTAssertEqual(response.remark, "\(i)")
                }
            }
            try await group.waitForAll()
        }
    }

    func testClosedConnectionIsReportedAndClientReconnects() async throws {
        let first = try await client.channel(to: address)
        _ = try await first.invoke(request(Self.echo))
        try await first.channel.close()
        let recorder = self.recorder!
        try await waitUntil { recorder.closed.withLock { $0.count } == 1 }
        let response = try await client.invokeSync(address, request(Self.echo, ["say": "again"]))
        XCTAssertEqual(response.remark, "again")
        let second = try await client.channel(to: address)
        XCTAssertNotEqual(first, second)
    }

    func testMalformedFrameClosesOnlyThatConnection() async throws {
        let port = try XCTUnwrap(server.localPort)
        let healthy = try await client.channel(to: address)
        let bad = try RawSocket(port: port)
        bad.send([0, 0, 0, 6, 0x07, 0, 0, 2, 0x7b, 0x7d])  // serialize type 7
        XCTAssertTrue(bad.waitForClose())
        let response = try await healthy.invoke(request(Self.echo, ["say": "fine"]))
        XCTAssertEqual(response.remark, "fine")
    }

    func testResponseBodyCanBeABufferFollowedByAFileRegion() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("apus-region-\(UUID().uuidString)").path
        let content = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(content)))
        let fd = open(path, O_RDONLY)
        XCTAssertGreaterThanOrEqual(fd, 0)
        let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: fd)
        defer {
            // The server's event loop may still be finishing the sendfile after the client has every byte
            // (close then answers EBUSY): retry briefly, so the handle is never left open.
            var closed = false
            for _ in 0..<500 where !closed {
                do { try handle.close(); closed = true } catch { usleep(2_000) }
            }
            XCTAssertTrue(closed, "file handle still busy")
            unlink(path)
        }
        let region = FileRegion(fileHandle: handle, readerIndex: 1000, endIndex: 100_000)
        let zeroCopy = RequestCode(9010)
        server.registerProcessor(zeroCopy, ClosureRequestProcessor { request, _ in
            var response = request.makeResponse(.success, body: ByteBuffer(bytes: [1, 2, 3]))
            response.fileRegion = region
            return response
        })
        let response = try await client.invokeSync(address, request(zeroCopy))
        XCTAssertEqual(response.body?.readableBytes, 3 + 99_000)
        XCTAssertEqual(response.body?.allBytes, [1, 2, 3] + content[1000...])
    }

    func testConnectFailureIsReported() async throws {
        do {
            _ = try await client.invokeSync("127.0.0.1:1", request(Self.echo))
            XCTFail("expected a connect failure")
        } catch let error as RemotingError {
            guard case .connectFailed = error else { return XCTFail("\(error)") }
        }
    }
}

/// Awaits a condition, checking every 10 ms, failing after `timeoutMs`.
func waitUntil(timeoutMs: Int = 5000, _ condition: @escaping @Sendable () async -> Bool) async throws {
    let deadline = ContinuousClock.now + .milliseconds(timeoutMs)
    while ContinuousClock.now < deadline {
        if await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    XCTFail("condition not met within \(timeoutMs) ms")
}
