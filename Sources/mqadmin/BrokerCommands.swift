// Broker sub-commands: brokerStatus, getBrokerConfig, updateBrokerConfig (admin.md §8.2–§8.4).
// Registered by MQAdminStartup.

import Admin
import Remoting

enum BrokerCommands {
    static let brokerStatus = SubCommand("brokerStatus", "Fetch broker runtime status data", [
        OptionSpec("b", "brokerAddr", true, "Broker address"),
        OptionSpec("c", "clusterName", true, "which cluster"),
    ]) { ctx in
        let admin = try ctx.admin
        if let addr = ctx.options.value("b") {
            let table = try await admin.fetchBrokerRuntimeStats(brokerAddr: addr)
            for k in table.keys.sorted() { outln(l(k, 32) + ": " + (table[k] ?? "null")) }
        } else if let cluster = ctx.options.value("c") {
            for addr in try await admin.allAddrs(ofCluster: cluster) {
                let table = try await admin.fetchBrokerRuntimeStats(brokerAddr: addr)
                for k in table.keys.sorted() { outln(l(addr, 24) + " " + l(k, 32) + ": " + (table[k] ?? "null")) }
            }
        } else {
            throw ParseError(description: "Missing one of the options: b, c")
        }
    }

    /// RocketMQ 5's haStatus: a master's slaves (acknowledged offset, lag, speed, in sync), or a slave's view.
    static let haStatus = SubCommand("haStatus", "Fetch ha runtime status data", [
        OptionSpec("b", "brokerAddr", true, "which broker to fetch"),
        OptionSpec("c", "clusterName", true, "which cluster"),
    ]) { ctx in
        let admin = try ctx.admin
        func show(_ addr: String) async throws {
            let info = try await admin.getBrokerHAStatus(brokerAddr: addr)
            if info.master {
                outln("\n#MasterAddr\t\(addr)\n#MasterCommitLogMaxOffset\t\(info.masterCommitLogMaxOffset)\n#SlaveNum\t\(info.haConnectionInfo.count)\n#InSyncSlaveNum\t\(info.inSyncSlaveNums)")
                outln(l("#SlaveAddr", 32) + "  " + l("#SlaveAckOffset", 16) + " " + r("#Diff", 16) + " " + r("#TransferSpeed(KB/s)", 16)
                      + " " + r("#Status", 16) + " " + r("#TransferFromWhere", 16))
                for c in info.haConnectionInfo {
                    outln(l(c.addr, 32) + "  " + l(c.slaveAckOffset, 16) + " " + r(String(c.diff), 16) + " "
                          + r(String(format: "%.2f", Double(c.transferredByteInSecond) / 1024), 16) + " "
                          + r(c.inSync ? "OK" : "Fall Behind", 16) + " " + r(String(c.transferFromWhere), 16))
                }
            } else {
                let c = info.haClientRuntimeInfo
                outln("\n#MasterAddr\t\(c.masterAddr)\n#Activated\t\(c.isActivated)\n#TransferSpeed(KB/s)\t\(String(format: "%.2f", Double(c.transferredByteInSecond) / 1024))\n#LastReadTime\t\(c.lastReadTimestamp)\n#LastWriteTime\t\(c.lastWriteTimestamp)\n#MaxOffset\t\(c.maxOffset)")
            }
        }
        if let addr = ctx.options.value("b") {
            try await show(addr)
        } else if let cluster = ctx.options.value("c") {
            for addr in try await admin.allAddrs(ofCluster: cluster) { try await show(addr) }
        } else {
            throw ParseError(description: "Missing one of the options: b, c")
        }
    }

    static let getBrokerConfig = SubCommand("getBrokerConfig", "Get broker config by cluster or special broker!", [
        OptionSpec("b", "brokerAddr", true, "get which broker"),
        OptionSpec("c", "clusterName", true, "get which cluster"),
    ]) { ctx in
        let admin = try ctx.admin
        func printConfig(_ addr: String) async throws {
            for (k, v) in try await admin.getBrokerConfig(brokerAddr: addr) { outln(l(k, 50) + "=  " + v) }
            outln()
        }
        if let addr = ctx.options.value("b") {
            outln("============\(addr)============")
            try await printConfig(addr)
        } else if let cluster = ctx.options.value("c") {
            let info = try await admin.examineBrokerClusterInfo()
            guard let names = info.clusterAddrTable[cluster] else {
                throw MQAdminError.notFound("[error] Make sure the specified clusterName exists or the name server connected to is correct.")
            }
            for name in names.sorted() {
                guard let b = info.brokerAddrTable[name] else { continue }
                let master = b.masterAddr
                if let master {
                    outln("============Master: \(master)============")
                    try await printConfig(master)
                }
                for (id, slave) in b.brokerAddrs.sorted(by: { $0.key < $1.key }) where id != 0 {
                    outln("============My Master: \(master ?? "NO_MASTER")=====Slave: \(slave)============")
                    if master != nil { try await printConfig(slave) }
                }
            }
        } else {
            throw ParseError(description: "Missing one of the options: b, c")
        }
    }

    static let updateBrokerConfig = SubCommand("updateBrokerConfig", "Update broker's config", [
        OptionSpec("b", "brokerAddr", true, "update which broker"),
        OptionSpec("c", "clusterName", true, "update which cluster"),
        OptionSpec("a", "updateAllBroker", true, "update all brokers include slave"),
        OptionSpec("k", "key", true, "config key", required: true),
        OptionSpec("v", "value", true, "config value", required: true),
    ]) { ctx in
        let o = ctx.options
        let key = try o.required("k")
        let value = try o.required("v")
        if key == "brokerPermission", !(Int32(value).map { (0...7).contains($0) } ?? false) {
            throw ParseError(description: "brokerPermission must be in [0, 7]: \(value)")
        }
        let admin = try ctx.admin
        let targets: [String]
        if let b = o.value("b") {
            targets = [b]
        } else if let cluster = o.value("c") {
            targets = o.has("a") ? try await admin.allAddrs(ofCluster: cluster) : try await admin.masterAddrs(ofCluster: cluster)
        } else {
            throw ParseError(description: "Missing one of the options: b, c")
        }
        for addr in targets {
            try await admin.updateBrokerConfig(brokerAddr: addr, key: key, value: value)
            outln("update broker config success, \(addr)")
        }
    }
}
