// RoutePrettyJSON: `topicRoute`'s default output — the route as fastjson's pretty form (tabs, fields in
// alphabetical order, null fields omitted, numeric map keys unquoted; admin.md §6.4). Used by TopicCommands.

import Remoting

enum RoutePrettyJSON {
    static func text(_ route: TopicRouteData) -> String {
        var s = "{\n"
        s += "\t\"brokerDatas\":[\n"
        s += route.brokerDatas.map { b in
            var f: [String] = []
            let addrs = b.brokerAddrs.sorted { $0.key < $1.key }.map { "\($0.key):\(quote($0.value))" }.joined(separator: ",")
            f.append("\t\t\t\"brokerAddrs\":{" + addrs + (addrs.isEmpty ? "}" : "\n\t\t\t}"))
            f.append("\t\t\t\"brokerName\":\(quote(b.brokerName))")
            f.append("\t\t\t\"cluster\":\(quote(b.cluster))")
            f.append("\t\t\t\"enableActingMaster\":\(b.enableActingMaster)")
            if let z = b.zoneName { f.append("\t\t\t\"zoneName\":\(quote(z))") }
            return "\t\t{\n" + f.joined(separator: ",\n") + "\n\t\t}"
        }.joined(separator: ",\n")
        s += (route.brokerDatas.isEmpty ? "" : "\n") + "\t],\n"
        let filters = route.filterServerTable.sorted { $0.key < $1.key }
            .map { "\(quote($0.key)):[" + $0.value.map(quote).joined(separator: ",") + "]" }.joined(separator: ",")
        s += "\t\"filterServerTable\":{" + filters + "},\n"
        if let order = route.orderTopicConf { s += "\t\"orderTopicConf\":\(quote(order)),\n" }
        s += "\t\"queueDatas\":[\n"
        s += route.queueDatas.map { q in
            "\t\t{\n\t\t\t\"brokerName\":\(quote(q.brokerName)),\n\t\t\t\"perm\":\(q.perm),\n\t\t\t\"readQueueNums\":\(q.readQueueNums),\n"
                + "\t\t\t\"topicSysFlag\":\(q.topicSysFlag),\n\t\t\t\"writeQueueNums\":\(q.writeQueueNums)\n\t\t}"
        }.joined(separator: ",\n")
        s += (route.queueDatas.isEmpty ? "" : "\n") + "\t]\n}"
        return s
    }

    static func quote(_ s: String) -> String {
        var w = JSONWriter(style: .fastjson)
        w.value(s)
        return w.text
    }
}
