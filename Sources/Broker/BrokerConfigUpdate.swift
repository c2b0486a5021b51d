// BrokerConfigUpdate: UPDATE_BROKER_CONFIG's rules (Java: AdminBrokerProcessor.updateBrokerConfig over
// Configuration.update). Every key is checked before anything changes: a broker key read only at start, a
// store key the store reads only when it opens, an unknown key or an unparsable value refuses the whole
// request with the key named; otherwise broker keys go to the controller's settings and store keys to the
// store's live settings (StoreLiveSettings). Called by AdminBrokerProcessor on the admin executor.

import Remoting
import Store

/// Why an update was refused; nothing was changed.
struct BrokerConfigRefusal: Error, Equatable {
    let code: ResponseCode
    let remark: String

    static func unknownKey(_ k: String) -> Self {
        Self(code: .invalidParameter, remark: "unknown broker config key: \(k)")
    }
    static func restartOnly(_ k: String) -> Self {
        // Java answers keys of its configBlackList with NO_PERMISSION too.
        Self(code: .noPermission, remark: "Can not update config \(k) at run time: it is read only at start (set it in broker.conf and restart)")
    }
    static func badValue(_ k: String, _ v: String) -> Self {
        Self(code: .invalidParameter, remark: "bad value for broker config key \(k): \(v)")
    }
}

extension BrokerController {
    /// Applies `properties` (all or nothing); nil when everything was applied.
    func applyConfigUpdate(_ properties: [String: String]) -> BrokerConfigRefusal? {
        // Under the settings' lock, so two updates cannot interleave (Java's method is synchronized). The
        // store's settings lock is taken inside it; the store never takes this one.
        withBrokerConfigLocked { current -> BrokerConfigRefusal? in
            var broker = current
            var storeProperties: [String: String] = [:]
            for name in properties.keys.sorted() {
                let value = properties[name] ?? ""
                if BrokerConfig.keyNames.contains(name) {
                    if BrokerConfig.restartOnlyKeys.contains(name) { return .restartOnly(name) }
                    if broker.set(name, value) != .applied { return .badValue(name, value) }
                } else if StoreLiveSettings.isStoreKey(name) {
                    storeProperties[name] = value
                } else {
                    return .unknownKey(name)
                }
            }
            // The store checks all its keys before taking any; broker keys are committed only after it did.
            do throws(StoreSettingError) {
                try store.settings.update(storeProperties)
            } catch {
                switch error {
                case .unknownKey(let k): return .unknownKey(k)
                case .restartOnly(let k): return .restartOnly(k)
                case .badValue(let k, let v): return .badValue(k, v)
                }
            }
            current = broker
            return nil
        }
    }
}
