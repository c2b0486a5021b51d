// Property-based fuzzing of the frame decoder: thousands of random and mutated frames, fed whole and one
// byte at a time, through the pure parser and the channel decoder. No crash; every failure is a
// RemotingError; a declared length over the bound is refused before its bytes are buffered.

import ApusTestSupport
import NIOCore
import NIOEmbedded
import XCTest

@testable import Remoting

/// Deterministic xorshift generator so a failure reproduces.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

final class FrameDecoderPropertyTests: XCTestCase {
    static let frameBytesMax = 64 * 1024

    func seedFrames() throws -> [[UInt8]] {
        var frames: [[UInt8]] = []
        for type in [SerializeType.json, .rocketmq] {
            let c = RemotingCommand(
                code: 105, opaque: 3, remark: "r", extFields: ["topic": "TopicTest", "k": "v"],
                body: ByteBuffer(bytes: Array("{\"a\":{0:\"x\"}}".utf8)), serializeType: type)
            frames.append(try c.encodeFrame().allBytes)
            frames.append(try RemotingCommand(code: 0, flag: 1, serializeType: type).encodeFrame().allBytes)
            let send = SendMessageRequestHeader(
                producerGroup: "g", topic: "T", queueId: 1, bornTimestamp: 12, properties: "K\u{1}V\u{2}",
                reconsumeTimes: 1, unitMode: false, maxReconsumeTimes: 2, batch: true, brokerName: "b")
            frames.append(try RemotingCommand.request(.sendMessageV2, header: SendMessageRequestHeaderV2(send),
                                                      serializeType: type).encodeFrame().allBytes)
            frames.append(try RemotingCommand(code: 310, opaque: 5, serializeType: type)
                .makeResponse(.success, header: SendMessageResponseHeader(msgId: "M", queueId: 1, queueOffset: 9))
                .encodeFrame().allBytes)
        }
        return frames
    }

    func mutate(_ frame: [UInt8], _ rng: inout SplitMix) -> [UInt8] {
        var f = frame
        switch Int.random(in: 0..<6, using: &rng) {
        case 0:  // flip random bytes
            for _ in 0..<Int.random(in: 1...4, using: &rng) where !f.isEmpty {
                f[Int.random(in: 0..<f.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
        case 1:  // truncate
            f = Array(f.prefix(Int.random(in: 0...f.count, using: &rng)))
        case 2:  // lie about the frame length
            let v = UInt32.random(in: 0...UInt32.max, using: &rng)
            if f.count >= 4 { f.replaceSubrange(0..<4, with: withUnsafeBytes(of: v.bigEndian, Array.init)) }
        case 3:  // lie about the header length / type
            let v = UInt32.random(in: 0...UInt32.max, using: &rng)
            if f.count >= 8 { f.replaceSubrange(4..<8, with: withUnsafeBytes(of: v.bigEndian, Array.init)) }
        case 4:  // insert random bytes in the header
            let at = Int.random(in: 0...f.count, using: &rng)
            f.insert(contentsOf: (0..<Int.random(in: 1...8, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: at)
        default:  // pure noise
            f = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        }
        return f
    }

    func testRandomAndMutatedFramesNeverCrashThePureParser() throws {
        var rng = SplitMix(state: 0xA905)
        let seeds = try seedFrames()
        let parser = RemotingFrameParser(frameBytesMax: Self.frameBytesMax)
        var decoded = 0, rejected = 0, partial = 0
        for i in 0..<20_000 {
            let input = mutate(seeds[i % seeds.count], &rng)
            var buffer = ByteBuffer(bytes: input)
            switch Result(catching: { () throws(RemotingError) -> [RemotingCommand] in try parser.decodeAll(&buffer) }) {
            case .failure:
                rejected += 1
            case .success(let commands):
                decoded += commands.count
                if commands.isEmpty { partial += 1 }
                // A frame the parser accepted must re-encode and decode to the same fields, and the send
                // path's in-place header readers must agree with the dictionary readers.
                for c in commands {
                    let fields = c.extFields ?? [:]
                    XCTAssertEqual(try? c.decodeHeader(SendMessageRequestHeaderV2.self).header,
                                   try? SendMessageRequestHeader(v2ExtFields: fields))
                    XCTAssertEqual(try? c.decodeHeader(SendMessageRequestHeader.self), try? SendMessageRequestHeader(extFields: fields))
                    XCTAssertEqual(try? c.decodeHeader(SendMessageResponseHeader.self), try? SendMessageResponseHeader(extFields: fields))
                    guard var again = try? c.encodeFrame() else { continue }
                    let back = try? parser.decodeAll(&again)
                    XCTAssertEqual(back?.first?.code, c.code)
                    XCTAssertEqual(back?.first?.extFields, c.extFields)
                }
            }
        }
        XCTAssertGreaterThan(decoded, 0)
        XCTAssertGreaterThan(rejected, 1000)
        XCTAssertGreaterThan(partial, 0)
    }

    func testMutatedFramesThroughTheChannelDecoderByteByByte() throws {
        var rng = SplitMix(state: 0xBEEF)
        let seeds = try seedFrames()
        for i in 0..<2_000 {
            let input = mutate(seeds[i % seeds.count], &rng) + seeds[0]
            let channel = EmbeddedChannel(handler: ByteToMessageHandler(RemotingFrameDecoder(frameBytesMax: Self.frameBytesMax)))
            var failed = false
            for byte in input {
                do {
                    try channel.writeInbound(ByteBuffer(bytes: [byte]))
                } catch {
                    XCTAssertTrue(error is RemotingError, "\(error)")
                    failed = true
                    break
                }
            }
            while let c = try channel.readInbound(as: RemotingCommand.self) { _ = c }
            _ = try? channel.finish()
            _ = failed
        }
    }

    func testWholeAndByteAtATimeFeedingAgree() throws {
        let seeds = try seedFrames()
        let stream = seeds.flatMap { $0 }
        let whole = EmbeddedChannel(handler: ByteToMessageHandler(RemotingFrameDecoder()))
        try whole.writeInbound(ByteBuffer(bytes: stream))
        let bytewise = EmbeddedChannel(handler: ByteToMessageHandler(RemotingFrameDecoder()))
        for b in stream { try bytewise.writeInbound(ByteBuffer(bytes: [b])) }
        for _ in seeds {
            let a = try XCTUnwrap(try whole.readInbound(as: RemotingCommand.self))
            let b = try XCTUnwrap(try bytewise.readInbound(as: RemotingCommand.self))
            XCTAssertEqual(a.code, b.code)
            XCTAssertEqual(a.extFields, b.extFields)
            XCTAssertEqual(a.body?.allBytes, b.body?.allBytes)
        }
        XCTAssertNil(try whole.readInbound(as: RemotingCommand.self))
    }

    func testFrameLongerThanLimitIsRejectedWithoutBuffering() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(RemotingFrameDecoder(frameBytesMax: 1024)))
        // Only the 4-byte prefix has arrived: the decoder must refuse now, not wait for 2 GiB.
        XCTAssertThrowsError(try channel.writeInbound(ByteBuffer(bytes: [0x7F, 0xFF, 0xFF, 0xFF]))) { error in
            XCTAssertEqual(error as? RemotingError, .frameTooLarge(declaredBytes: 4 + 0x7FFF_FFFF, maxBytes: 1024))
        }
        // Negative and too-short lengths too.
        let c2 = EmbeddedChannel(handler: ByteToMessageHandler(RemotingFrameDecoder()))
        XCTAssertThrowsError(try c2.writeInbound(ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF])))
        let c3 = EmbeddedChannel(handler: ByteToMessageHandler(RemotingFrameDecoder()))
        XCTAssertThrowsError(try c3.writeInbound(ByteBuffer(bytes: [0, 0, 0, 2, 0, 0])))
        // Exactly at the bound is accepted.
        let body = [UInt8](repeating: 7, count: 1024 - 4 - 4 - 21)
        let c = RemotingCommand(code: 1, body: ByteBuffer(bytes: body), serializeType: .rocketmq)
        let frame = try c.encodeFrame().allBytes
        XCTAssertEqual(frame.count, 1024)
        let c4 = EmbeddedChannel(handler: ByteToMessageHandler(RemotingFrameDecoder(frameBytesMax: 1024)))
        try c4.writeInbound(ByteBuffer(bytes: frame))
        XCTAssertEqual(try c4.readInbound(as: RemotingCommand.self)?.body?.readableBytes, body.count)
    }

    func testEachRejectionNamesItsCause() throws {
        func decode(_ bytes: [UInt8]) -> RemotingError? {
            var b = ByteBuffer(bytes: bytes)
            do { _ = try RemotingFrameParser().decodeAll(&b); return nil } catch { return error }
        }
        XCTAssertEqual(decode([0, 0, 0, 6, 0x05, 0, 0, 2, 0x7b, 0x7d]), .badSerializeType(5))
        XCTAssertEqual(decode([0, 0, 0, 6, 0, 0, 0, 9, 0x7b, 0x7d]), .headerLongerThanFrame(headerBytes: 9, frameBytes: 6))
        if case .malformedHeader = decode([0, 0, 0, 6, 0, 0, 0, 2, 0x7b, 0x7b]) {} else { XCTFail("invalid JSON accepted") }
    }
}
