// RemotingCommand: one request or response frame — header fields, extFields and body.
// A value type; built by the decoder on the event loop, by processors and by clients on any task.

import NIOCore
import Synchronization

/// The logical fields of a frame (spec remoting.md §2.1) plus its body.
public struct RemotingCommand: Sendable {
    /// Request code (requests) or response code (responses).
    public var code: Int32
    public var language: LanguageCode
    public var version: Int32
    public var opaque: Int32
    /// Bit 0 response, bit 1 one-way (§2.2); other bits kept as received.
    public var flag: Int32
    public var remark: String?
    /// The "custom header"; nil when the frame had none (Java omits the member then). Built on demand from
    /// how the header is held (see `HeaderFields`), so hot paths use `decodeHeader` instead.
    public var extFields: [String: String]? {
        get {
            switch headerFields {
            case .none: return nil
            case .map(let fields): return fields
            case .binary(let section): return section.dictionary
            case .typed(let header): return header.toExtFields()
            }
        }
        set { headerFields = newValue.map { .map($0) } ?? .none }
    }
    /// How the custom header is held: a received binary section is read in place and a typed header is
    /// written straight into the frame, so the send path builds no dictionary on either side.
    public enum HeaderFields: Sendable {
        case none
        case map([String: String])
        /// As it arrived in a ROCKETMQ binary header.
        case binary(BinaryExtFields)
        /// Set by `request(_:header:)` and `makeResponse`; flattened only when encoded.
        case typed(any CommandCustomHeader)
    }
    public var headerFields: HeaderFields
    /// Body bytes; nil for a zero-length body (§1.1).
    public var body: ByteBuffer?
    /// Bytes sent after `body` without copying through user space (pull responses). Outbound only.
    public var fileRegion: FileRegion?
    /// Further regions sent after `fileRegion`, in order (a pull's records from several places). Outbound only.
    public var moreFileRegions: [FileRegion] = []
    /// Kept alive until the frame's last write completes or fails (owner of the regions' file handles). Outbound only.
    public var retainUntilWritten: (any Sendable)?
    /// Serialisation the header arrived in; responses built by `makeResponse` inherit it.
    public var serializeType: SerializeType

    public static let responseFlagBit: Int32 = 0x1
    public static let onewayFlagBit: Int32 = 0x2

    public init(
        code: Int32, language: LanguageCode = .java, version: Int32 = Int32(MQVersion.current), opaque: Int32 = 0,
        flag: Int32 = 0, remark: String? = nil, extFields: [String: String]? = nil, body: ByteBuffer? = nil,
        serializeType: SerializeType = .json
    ) {
        self.code = code
        self.language = language
        self.version = version
        self.opaque = opaque
        self.flag = flag
        self.remark = remark
        self.headerFields = extFields.map { .map($0) } ?? .none
        self.body = body
        self.fileRegion = nil
        self.moreFileRegions = []
        self.retainUntilWritten = nil
        self.serializeType = serializeType
    }

    public var isResponse: Bool { flag & Self.responseFlagBit != 0 }
    public var isOneway: Bool { flag & Self.onewayFlagBit != 0 }
    public var requestCode: RequestCode { RequestCode(code) }
    public var responseCode: ResponseCode { ResponseCode(code) }

    /// A new request with a fresh opaque and the typed header as its extFields.
    public static func request(
        _ code: RequestCode, header: (any CommandCustomHeader)? = nil, body: ByteBuffer? = nil,
        serializeType: SerializeType = .json
    ) -> RemotingCommand {
        var command = RemotingCommand(
            code: code.rawValue, language: .java, opaque: nextOpaque(), flag: 0, remark: nil,
            extFields: nil, body: body, serializeType: serializeType)
        command.headerFields = header.map { .typed($0) } ?? .none
        return command
    }

    /// The response to this request: same opaque and serialisation, response flag set.
    public func makeResponse(
        _ code: ResponseCode, remark: String? = nil, header: (any CommandCustomHeader)? = nil, body: ByteBuffer? = nil
    ) -> RemotingCommand {
        var command = RemotingCommand(
            code: code.rawValue, language: .java, opaque: opaque, flag: Self.responseFlagBit, remark: remark,
            extFields: nil, body: body, serializeType: serializeType)
        command.headerFields = header.map { .typed($0) } ?? .none
        return command
    }

    /// Decodes extFields into a typed header, accepting absent extFields as an empty map.
    public func decodeHeader<H: CommandCustomHeader>(_ type: H.Type = H.self) throws(RemotingError) -> H {
        switch headerFields {
        case .binary(let section): return try H(binaryExtFields: section)
        case .typed(let header as H): return header
        default: return try H(extFields: extFields ?? [:])
        }
    }

    /// Body bytes as an array (empty when there is none).
    public var bodyBytes: [UInt8] {
        guard let body else { return [] }
        return body.getBytes(at: body.readerIndex, length: body.readableBytes) ?? []
    }
}

/// One process-wide counter, as Java and C++ keep (§7.1); the sign bit is masked like the C++ client.
private let opaqueCounter = Atomic<Int32>(0)

/// A fresh request id.
public func nextOpaque() -> Int32 {
    opaqueCounter.wrappingAdd(1, ordering: .relaxed).newValue & 0x7FFF_FFFF
}
