// NamesrvConfigStore: the NameServer's settings as GET/UPDATE_NAMESRV_CONFIG see them; updates are checked
// against `configBlackList` and persisted to `configStorePath`. An actor; called by DefaultRequestProcessor.
// Updated values are reported at once; settings read at start (port, intervals) apply at the next start.

import Foundation
import Logging

public actor NamesrvConfigStore {
    public private(set) var current: NamesrvConfig
    private let logger: Logger

    public init(_ config: NamesrvConfig, logger: Logger) {
        self.current = config
        self.logger = logger
    }

    /// Applies a properties text. Returns a refusal remark, or nil when applied.
    public func update(propertiesText: String) -> String? {
        let entries = NamesrvConfig.parseProperties(propertiesText)
        let blocked = Set(current.configBlackList.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) })
        for (key, _) in entries where blocked.contains(key) {
            return "Can not update config in black list."
        }
        var next = current
        for (key, value) in entries {
            switch next.set(key, value) {
            case .applied: break
            case .unknownKey: logger.warning("unknown config key ignored", metadata: ["key": "\(key)"])
            case .badValue: return "bad value for \(key): \(value)"
            }
        }
        current = next
        logger.info("namesrv config updated", metadata: ["keys": "\(entries.map(\.key))"])
        do {
            let url = URL(fileURLWithPath: current.configStorePath)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(current.propertiesText.utf8).write(to: url, options: .atomic)
        } catch {
            logger.error("persisting namesrv config failed", metadata: ["error": "\(error)"])
        }
        return nil
    }
}
