// EtcdClient: the few etcd v3 operations the controller needs, over the JSON gateway (`/v3/kv/range`,
// `/v3/kv/put`, `/v3/kv/txn`, `/v3/lease/grant`, `/v3/lease/keepalive`, `/v3/lease/revoke`; keys and values
// base64, 64-bit numbers as JSON strings). Every change the controller makes to shared state goes through
// `putIf` (a txn comparing the key's mod_revision), so of two controllers acting on the same read only one
// wins. Endpoints are tried in order, starting with the last one that answered. Any task.

import Foundation
import NIOCore
import Remoting
import Synchronization

/// One key as etcd returned it.
public struct EtcdKeyValue: Sendable, Equatable {
    public let key: String
    public let value: [UInt8]
    /// Revision of the last change of this key (0 = the key does not exist).
    public let modRevision: Int64
    /// The lease the key is attached to (0 = none).
    public let lease: Int64
}

public final class EtcdClient: Sendable {
    public let endpoints: [EtcdEndpoint]
    private let transport: EtcdHTTPTransport
    /// Index of the endpoint that answered last.
    private let preferred = Mutex(0)

    public init(endpoints: [EtcdEndpoint], group: any EventLoopGroup, timeoutMs: Int64) {
        precondition(!endpoints.isEmpty, "EtcdClient needs at least one endpoint")
        self.endpoints = endpoints
        transport = EtcdHTTPTransport(group: group, timeoutMs: timeoutMs)
    }

    // MARK: kv

    /// The key, or nil.
    public func get(_ key: String) async throws -> EtcdKeyValue? {
        try await range(["key": .string(Self.base64(key))]).first
    }

    /// Every key starting with `prefix`, in key order.
    public func list(prefix: String) async throws -> [EtcdKeyValue] {
        try await range(["key": .string(Self.base64(prefix)), "range_end": .string(Data(Self.prefixEnd(prefix)).base64EncodedString())])
    }

    /// Unconditional put (lease 0 = none).
    public func put(_ key: String, _ value: [UInt8], lease: Int64 = 0) async throws {
        var o = ["key": JSONValue.string(Self.base64(key)), "value": .string(Data(value).base64EncodedString())]
        if lease != 0 { o["lease"] = .string(String(lease)) }
        _ = try await call("/v3/kv/put", o)
    }

    /// Puts only if the key's mod_revision is still `modRevision` (0: only if the key does not exist).
    /// True when written.
    public func putIf(_ key: String, modRevision: Int64, _ value: [UInt8], lease: Int64 = 0) async throws -> Bool {
        var put = ["key": JSONValue.string(Self.base64(key)), "value": .string(Data(value).base64EncodedString())]
        if lease != 0 { put["lease"] = .string(String(lease)) }
        let body: [String: JSONValue] = [
            "compare": .array([Self.object([
                "key": .string(Self.base64(key)), "target": .string("MOD"), "result": .string("EQUAL"),
                "mod_revision": .string(String(modRevision)),
            ])]),
            "success": .array([Self.object(["request_put": Self.object(put)])]),
        ]
        let answer = try await call("/v3/kv/txn", body)
        return answer["succeeded"]?.boolValue ?? false
    }

    /// Deletes the key only if its mod_revision is still `modRevision`. True when deleted.
    public func deleteIf(_ key: String, modRevision: Int64) async throws -> Bool {
        let body: [String: JSONValue] = [
            "compare": .array([Self.object([
                "key": .string(Self.base64(key)), "target": .string("MOD"), "result": .string("EQUAL"),
                "mod_revision": .string(String(modRevision)),
            ])]),
            "success": .array([Self.object(["request_delete_range": Self.object(["key": .string(Self.base64(key))])])]),
        ]
        return try await call("/v3/kv/txn", body)["succeeded"]?.boolValue ?? false
    }

    // MARK: leases

    /// A new lease of `ttlSeconds` (etcd may raise a very short TTL to its minimum); its id.
    public func grantLease(ttlSeconds: Int) async throws -> Int64 {
        let answer = try await call("/v3/lease/grant", ["TTL": .string(String(ttlSeconds))])
        guard let id = answer["ID"]?.int64Value, id != 0 else { throw EtcdError.malformed("lease grant without ID") }
        return id
    }

    /// Renews the lease; its TTL in seconds, 0 when the lease no longer exists (expired or revoked).
    public func keepAlive(lease: Int64) async throws -> Int64 {
        let answer = try await call("/v3/lease/keepalive", ["ID": .string(String(lease))])
        return answer["result"]?["TTL"]?.int64Value ?? 0
    }

    /// Ends the lease now: every key attached to it is deleted.
    public func revoke(lease: Int64) async throws {
        _ = try await call("/v3/lease/revoke", ["ID": .string(String(lease))])
    }

    // MARK: plumbing

    private func range(_ request: [String: JSONValue]) async throws -> [EtcdKeyValue] {
        let answer = try await call("/v3/kv/range", request)
        return try (answer["kvs"]?.arrayValue ?? []).map { v throws(EtcdError) in
            guard let o = v.objectValue, let k = o["key"]?.stringValue, let keyData = Data(base64Encoded: k) else {
                throw EtcdError.malformed("range entry without key")
            }
            let value = o["value"]?.stringValue.flatMap { Data(base64Encoded: $0) } ?? Data()
            return EtcdKeyValue(key: String(decoding: keyData, as: UTF8.self), value: [UInt8](value),
                                modRevision: o["mod_revision"]?.int64Value ?? 0, lease: o["lease"]?.int64Value ?? 0)
        }
    }

    /// POSTs the JSON object, trying each endpoint once from the preferred one; the answer as JSON.
    private func call(_ path: String, _ request: [String: JSONValue]) async throws -> JSONValue {
        var w = JSONWriter(style: .standard)
        w.value(Self.object(request))
        let body = w.bytes
        let start = preferred.withLock { $0 }
        var lastError: any Error = EtcdError.unreachable("no endpoint")
        for step in 0..<endpoints.count {
            let index = (start + step) % endpoints.count
            do {
                let answer = try await transport.post(endpoints[index], path: path, body: body)
                if step != 0 { preferred.withLock { $0 = index } }
                do {
                    return try answer.withUnsafeBytes { raw throws(RemotingError) in try JSONValue.parse(raw) }
                } catch {
                    throw EtcdError.malformed("\(path): \(error)")
                }
            } catch let e as EtcdError {
                switch e {
                case .unreachable, .timeout: lastError = e  // next endpoint
                case .status, .malformed: throw e
                }
            }
        }
        throw lastError
    }

    private static func object(_ members: [String: JSONValue]) -> JSONValue {
        var o = JSONObject()
        for k in members.keys.sorted() { o.append(.string(k), members[k] ?? .null) }
        return .object(o)
    }

    static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    /// The end of the range holding every key that starts with `prefix`: the prefix with its last byte + 1.
    static func prefixEnd(_ prefix: String) -> [UInt8] {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last {
            if last < 0xFF {
                bytes[bytes.count - 1] = last + 1
                return bytes
            }
            bytes.removeLast()
        }
        return [0]
    }
}
