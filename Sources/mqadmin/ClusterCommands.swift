// clusterList: clusters, brokers and their runtime figures (admin.md §8.1). Registered by MQAdminStartup.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Admin
import Remoting

enum ClusterCommands {
    static let clusterList = SubCommand("clusterList", "List cluster infos", [
        OptionSpec("m", "moreStats", false, "Print more stats"),
        OptionSpec("i", "interval", true, "specify intervals numbers, it is in seconds"),
        OptionSpec("c", "clusterName", true, "which cluster"),
    ]) { ctx in
        let admin = try ctx.admin
        let interval = try ctx.options.int64("i", default: 0)
        while true {
            if ctx.options.has("m") {
                try await printMoreStats(admin, cluster: ctx.options.value("c"))
            } else {
                try await printBaseInfo(admin, cluster: ctx.options.value("c"))
            }
            guard interval > 0 else { return }
            fflush(nil)
            try await Task.sleep(for: .seconds(interval))
        }
    }

    static func brokers(_ info: ClusterInfo, cluster: String?) throws -> [(cluster: String, broker: BrokerData)] {
        let clusters: [String]
        if let cluster {
            guard info.clusterAddrTable[cluster] != nil else {
                throw MQAdminError.notFound("[error] Make sure the specified clusterName exists or the name server connected to is correct.")
            }
            clusters = [cluster]
        } else {
            clusters = info.clusterAddrTable.keys.sorted()
        }
        return clusters.flatMap { c in
            (info.clusterAddrTable[c] ?? []).sorted().compactMap { name in info.brokerAddrTable[name].map { (c, $0) } }
        }
    }

    /// First number of a `"a b c"` TPS triple.
    static func firstNumber(_ s: String?) -> Double { Double(s?.split(separator: " ").first ?? "") ?? 0 }

    static func printBaseInfo(_ admin: MQAdmin, cluster: String?) async throws {
        let info = try await admin.examineBrokerClusterInfo()
        outln(l("#Cluster Name", 22) + "  " + l("#Broker Name", 22) + "  " + l("#BID", 4) + "  " + l("#Addr", 22) + " "
              + l("#Version", 16) + "  " + r("#InTPS(LOAD)", 16) + "  " + r("#OutTPS(LOAD)", 30) + "  "
              + l("#Timer(Progress)", 22) + "  " + l("#PCWait(ms)", 11) + "  " + l("#Hour", 12) + "  " + l("#SPACE", 8)
              + "  " + l("#ACTIVATED", 10))
        for (c, b) in try brokers(info, cluster: cluster) {
            for (id, addr) in b.brokerAddrs.sorted(by: { $0.key < $1.key }) {
                let t = (try? await admin.fetchBrokerRuntimeStats(brokerAddr: addr)) ?? [:]
                let v = { (k: String) in t[k] ?? "null" }
                let inTps = fixed(firstNumber(t["putTps"]), 2, width: 9)
                    + "(\(v("sendThreadPoolQueueSize")),\(v("sendThreadPoolQueueHeadWaitTimeMills"))ms)"
                let outTps = fixed(firstNumber(t["getTransferredTps"]), 2, width: 9)
                    + "(\(v("pullThreadPoolQueueSize")),\(v("pullThreadPoolQueueHeadWaitTimeMills"))ms|"
                    + "\(t["ackThreadPoolQueueSize"] ?? "N"),\(t["ackThreadPoolQueueHeadWaitTimeMills"] ?? "N")ms)"
                let num = { (k: String) in Int64(t[k] ?? "") ?? 0 }
                let dnum = { (k: String) in Double(t[k] ?? "") ?? 0 }
                let timer = "\(num("timerReadBehind"))-\(num("timerOffsetBehind"))(\(fixed(dnum("timerCongestNum") / 10_000, 1))w, "
                    + "\(fixed(dnum("timerEnqueueTps"), 1)), \(fixed(dnum("timerDequeueTps"), 1)))"
                let earliest = num("earliestMessageTimeStamp")
                let hour = earliest > 0 ? Double(nowMs() - earliest) / 3_600_000 : 0
                outln(l(c, 22) + "  " + l(b.brokerName, 22) + "  " + l(String(id), 4) + "  " + l(addr, 22) + " "
                      + l(v("brokerVersionDesc"), 16) + "  " + r(inTps, 16) + "  " + r(outTps, 30) + "  " + l(timer, 22) + "  "
                      + r(v("pageCacheLockTimeMills"), 11) + "  " + l(fixed(hour, 2), 12) + "  "
                      + l(fixed(dnum("commitLogDiskRatio"), 4), 8) + "  " + r(v("brokerActive"), 10))
            }
        }
    }

    static func printMoreStats(_ admin: MQAdmin, cluster: String?) async throws {
        let info = try await admin.examineBrokerClusterInfo()
        outln(l("#Cluster Name", 16) + "  " + l("#Broker Name", 32) + " " + r("#InTotalYest", 14) + " " + r("#OutTotalYest", 14)
              + " " + r("#InTotalToday", 14) + " " + r("#OutTotalToday", 14))
        for (c, b) in try brokers(info, cluster: cluster) {
            for (_, addr) in b.brokerAddrs.sorted(by: { $0.key < $1.key }) {
                let t = (try? await admin.fetchBrokerRuntimeStats(brokerAddr: addr)) ?? [:]
                let n = { (k: String) in Int64(t[k] ?? "") ?? 0 }
                outln(l(c, 16) + "  " + l(b.brokerName, 32) + " "
                      + r(String(n("msgPutTotalTodayMorning") - n("msgPutTotalYesterdayMorning")), 14) + " "
                      + r(String(n("msgGetTotalTodayMorning") - n("msgGetTotalYesterdayMorning")), 14) + " "
                      + r(String(n("msgPutTotalTodayNow") - n("msgPutTotalTodayMorning")), 14) + " "
                      + r(String(n("msgGetTotalTodayNow") - n("msgGetTotalTodayMorning")), 14))
            }
        }
    }
}
