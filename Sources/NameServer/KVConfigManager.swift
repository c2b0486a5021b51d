// KVConfigManager: the NameServer's namespaced key/value settings (PUT/GET/DELETE_KV_CONFIG,
// GET_KVLIST_BY_NAMESPACE), persisted to kvConfig.json after every change (Java's layout,
// `{"configTable":{namespace:{key:value}}}`). An actor; called by DefaultRequestProcessor.

import Foundation
import Logging
import Remoting

public actor KVConfigManager {
    private var configTable: [String: [String: String]] = [:]
    private let path: String
    private let logger: Logger

    public init(path: String, logger: Logger) {
        self.path = path
        self.logger = logger
    }

    /// Loads the file if it exists; a file that does not parse is logged and left alone.
    public func load() {
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else { return }
        do {
            let json = try JSONValue.parse(String(decoding: data, as: UTF8.self))
            var table: [String: [String: String]] = [:]
            for (ns, entries) in json["configTable"]?.objectValue?.members ?? [] {
                guard let namespace = ns.text else { continue }
                var kv: [String: String] = [:]
                for (k, v) in entries.objectValue?.members ?? [] {
                    if let key = k.text, let value = v.stringValue { kv[key] = value }
                }
                table[namespace] = kv
            }
            configTable = table
            logger.info("loaded KV config", metadata: ["path": "\(path)", "namespaces": "\(table.count)"])
        } catch {
            logger.error("KV config file does not parse; starting empty", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }

    public func put(namespace: String, key: String, value: String) {
        configTable[namespace, default: [:]][key] = value
        logger.info("putKVConfig", metadata: ["namespace": "\(namespace)", "key": "\(key)", "value": "\(value)"])
        persist()
    }

    public func get(namespace: String, key: String) -> String? { configTable[namespace]?[key] }

    public func delete(namespace: String, key: String) {
        guard configTable[namespace]?.removeValue(forKey: key) != nil else { return }
        if configTable[namespace]?.isEmpty == true { configTable[namespace] = nil }
        persist()
    }

    public func list(namespace: String) -> [String: String]? { configTable[namespace] }

    private func persist() {
        var w = JSONWriter()
        w.beginObject()
        w.key("configTable")
        w.beginObject()
        for ns in configTable.keys.sorted() {
            w.field(ns, stringMap: configTable[ns] ?? [:])
        }
        w.endObject()
        w.endObject()
        do {
            let url = URL(fileURLWithPath: path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(w.bytes).write(to: url, options: .atomic)
        } catch {
            logger.error("persisting KV config failed", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }
}
