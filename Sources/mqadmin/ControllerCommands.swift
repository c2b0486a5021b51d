// Controller-mode sub-commands with RocketMQ 5's names, options and output: getControllerMetaData,
// getControllerConfig, electMaster, getSyncStateSet (ha group) and getBrokerEpoch (broker group)
// (admin.md §2, HA / controller row). The first four address a controller with -a and need no NameServer
// unless -c names a cluster; getBrokerEpoch finds the brokers through the NameServer. Registered by
// MQAdminStartup.

import Admin
import Remoting

enum ControllerCommands {
    static let all = [getSyncStateSet, getBrokerEpoch, getControllerMetaData, getControllerConfig, electMaster]

    static let getControllerMetaData = SubCommand("getControllerMetaData", "Get controller cluster's metadata.", [
        OptionSpec("a", "controllerAddress", true, "the address of controller", required: true),
    ]) { ctx in
        let m = try await ctx.directAdmin.getControllerMetaData(controllerAddr: try ctx.options.required("a"))
        out("\n#ControllerGroup\t\(m.group ?? "null")")
        out("\n#ControllerLeaderId\t\(m.controllerLeaderId ?? "null")")
        out("\n#ControllerLeaderAddress\t\(m.controllerLeaderAddress ?? "null")")
        for peer in (m.peers ?? "").split(separator: ";") { out("\n#Peer:\t\(peer)") }
        out("\n")
    }

    static let getControllerConfig = SubCommand("getControllerConfig", "Get controller config.", [
        OptionSpec("a", "controllerAddress", true, "Controller address list, eg: 192.168.0.1:9878;192.168.0.2:9878",
                   required: true),
    ]) { ctx in
        let addrs = try ctx.options.required("a").split(separator: ";").map(String.init).filter { !$0.isEmpty }
        for (addr, config) in try await ctx.directAdmin.getControllerConfig(controllerAddrs: addrs) {
            out("============\(addr)============\n")
            for (k, v) in config { out(l(k, 50) + "=  " + v + "\n") }
        }
    }

    static let electMaster = SubCommand("electMaster", "Re-elect the specified broker as master.", [
        OptionSpec("a", "controllerAddress", true, "The address of controller", required: true),
        OptionSpec("b", "brokerId", true, "The id of the broker which requires to become master", required: true),
        OptionSpec("bn", "brokerName", true, "The broker name of the replicas that require to be manipulated", required: true),
        OptionSpec("c", "clusterName", true, "the clusterName of broker", required: true),
    ]) { ctx in
        let o = ctx.options
        let cluster = try o.required("c")
        let brokerName = try o.required("bn")
        let brokerId = try o.int64("b", default: 0)
        let (meta, group) = try await ctx.directAdmin.electMaster(
            controllerAddr: try o.required("a"), clusterName: cluster, brokerName: brokerName, brokerId: brokerId)
        out("\n#ClusterName\t\(cluster)")
        out("\n#BrokerName\t\(brokerName)")
        out("\n#BrokerMasterAddr\t\(meta.masterAddress ?? "null")")
        out("\n#MasterEpoch\t\(meta.masterEpoch.map(String.init) ?? "null")")
        out("\n#SyncStateSetEpoch\t\(meta.syncStateSetEpoch.map(String.init) ?? "null")\n")
        for (id, addr) in (group?.brokerAddrs ?? [:]).sorted(by: { $0.key < $1.key }) { out("\t#Broker\t\(id)\t\(addr)\n") }
    }

    static let getSyncStateSet = SubCommand("getSyncStateSet", "Fetch syncStateSet for target brokers.", [
        OptionSpec("a", "controllerAddress", true, "the address of controller", required: true),
        OptionSpec("c", "clusterName", true, "which cluster"),
        OptionSpec("b", "brokerName", true, "which broker to fetch"),
        OptionSpec("i", "interval", true, "the interval(second) of get info"),
    ]) { ctx in
        try await repeatEvery(ctx) {
            let controller = String(try ctx.options.required("a").split(separator: ";").first ?? "")
            let names: [String]
            if let b = ctx.options.value("b") {
                names = [b]
            } else if let c = ctx.options.value("c") {
                names = try await ctx.admin.brokerNames(ofCluster: c)
            } else {
                throw ParseError(description: "Missing one of the options: b, c")
            }
            guard !names.isEmpty else { return }
            let info = try await ctx.directAdmin.getInSyncStateData(controllerAddr: controller, brokerNames: names)
            for (name, r) in info.replicasInfoTable {
                out("\n#brokerName\t\(name)\n#MasterBrokerId\t\(r.masterBrokerId.map(String.init) ?? "null")\n#MasterAddr\t\(r.masterAddress ?? "null")\n#MasterEpoch\t\(r.masterEpoch)\n#SyncStateSetEpoch\t\(r.syncStateSetEpoch)\n#SyncStateSetNums\t\(r.inSyncReplicas.count)\n")
                for m in r.inSyncReplicas { out("\nInSyncReplica:\t\(m)\n") }
                for m in r.notInSyncReplicas { out("\nNotInSyncReplica:\t\(m)\n") }
            }
        }
    }

    static let getBrokerEpoch = SubCommand("getBrokerEpoch", "Fetch broker epoch entries.", [
        OptionSpec("c", "clusterName", true, "which cluster"),
        OptionSpec("b", "brokerName", true, "which broker to fetch"),
        OptionSpec("i", "interval", true, "the interval(second) of get info"),
    ]) { ctx in
        try await repeatEvery(ctx) {
            let admin = try ctx.admin
            let addrs: [String]
            if let b = ctx.options.value("b") {
                addrs = try await admin.addrs(ofBrokerName: b)
            } else if let c = ctx.options.value("c") {
                addrs = try await admin.allAddrs(ofCluster: c)
            } else {
                throw ParseError(description: "Missing one of the options: b, c")
            }
            for addr in addrs {
                let cache = try await admin.getBrokerEpochCache(brokerAddr: addr)
                out("\n#clusterName\t\(cache.clusterName)\n#brokerName\t\(cache.brokerName)\n#brokerAddr\t\(addr)\n#brokerId\t\(cache.brokerId)")
                for (i, var entry) in cache.epochList.enumerated() {
                    if i == cache.epochList.count - 1 { entry.endOffset = cache.maxOffset }
                    out("\n#Epoch: \(entry)")
                }
                out("\n")
            }
        }
    }

    /// Once, or with -i every that many seconds (default 3) until killed, as RocketMQ's commands loop.
    private static func repeatEvery(_ ctx: CommandContext, _ body: () async throws -> Void) async throws {
        guard ctx.options.has("i") else { return try await body() }
        let seconds = try ctx.options.int32("i", default: 3)
        while true {
            try await body()
            try await Task.sleep(for: .seconds(Int(max(1, seconds))))
        }
    }
}
