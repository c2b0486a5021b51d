// BrokerStartupCheck: what mqbroker refuses to start with beyond one bad value, checked before anything is
// bound or written: keys that contradict each other (a SLAVE with brokerId 0, the HA port on the listen
// port, a low water mark above the high one) and store paths that are not usable directories. Each problem
// names its key, the value, and what is accepted.

import Foundation
import Glibc
import Store

public enum BrokerStartupCheck {
    public static func problems(broker: BrokerConfig, store: MessageStoreConfig) -> [String] {
        var out: [String] = []
        // RocketMQ's BrokerStartup exits the same way: "Slave's brokerId must be > 0".
        // In controller mode the controller assigns the id and the role.
        if store.brokerRole == .slave && broker.brokerId <= 0 && !broker.enableControllerMode {
            out.append("brokerId=\(broker.brokerId): a SLAVE needs brokerId > 0 (brokerRole=SLAVE)")
        }
        if broker.enableControllerMode && broker.controllerAddr.isEmpty {
            out.append("controllerAddr=: enableControllerMode=true needs the controller's address (host:port;host:port)")
        }
        // A master made replica at run time appends replicated bytes through the file mapping, not a pool buffer.
        if broker.enableControllerMode && store.transientStorePoolEnable {
            out.append("transientStorePoolEnable=true: not supported with enableControllerMode=true yet (the role may change while the broker runs)")
        }
        if broker.listenPort != 0, let ha = broker.haListenPort, ha == broker.listenPort {
            out.append("haListenPort=\(ha): the same port as listenPort=\(broker.listenPort); HA needs its own port")
        }
        if broker.writeBufferLowWaterMark > broker.writeBufferHighWaterMark {
            out.append("writeBufferLowWaterMark=\(broker.writeBufferLowWaterMark): above writeBufferHighWaterMark=\(broker.writeBufferHighWaterMark)")
        }
        if store.diskSpaceCleanForciblyRatioPercent > store.diskSpaceWarningLevelRatioPercent {
            out.append("diskSpaceCleanForciblyRatio=\(store.diskSpaceCleanForciblyRatioPercent): above diskSpaceWarningLevelRatio=\(store.diskSpaceWarningLevelRatioPercent); forced cleaning must start before sends are refused")
        }
        if let problem = directoryProblem(store.storePathRootDir) { out.append("storePathRootDir=\(store.storePathRootDir): \(problem)") }
        if let commitLog = store.storePathCommitLog, let problem = directoryProblem(commitLog) {
            out.append("storePathCommitLog=\(commitLog): \(problem)")
        }
        return out
    }

    /// Why `path` cannot hold a store, or nil: it must be an absolute path that is a directory, or can become
    /// one in a writable directory. Probes writability by creating and removing a file, since permission bits
    /// say nothing for root or on a read-only mount; nothing is left behind.
    static func directoryProblem(_ path: String) -> String? {
        guard path.hasPrefix("/") else { return "not an absolute path" }
        var isDir: ObjCBool = false
        var existing = path
        while !FileManager.default.fileExists(atPath: existing, isDirectory: &isDir) {
            let parent = (existing as NSString).deletingLastPathComponent
            if parent == existing { return "no part of the path exists" }
            existing = parent
        }
        guard isDir.boolValue else {
            return existing == path ? "a file, not a directory" : "\(existing) is a file, not a directory"
        }
        let probe = existing + "/.apus-write-probe-\(getpid())"
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            let what = existing == path ? "the directory" : "\(existing), where it would be created,"
            return "\(what) is not writable (\(String(cString: strerror(errno))))"
        }
        close(fd)
        unlink(probe)
        return nil
    }
}
