// MessageText: how `mqadmin` prints a message — the detail block of queryMsgById/queryMsgByOffset/
// queryMsgByUniqueKey (with the body written under /tmp/rocketmq/msgbodys) and Java's MessageExt.toString
// used by consumeMessage (admin.md §4). Used by MessageCommands.

import Common
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Admin

enum MessageText {
    static let bodyDirectory = "/tmp/rocketmq/msgbodys"

    /// Writes the body to `/tmp/rocketmq/msgbodys/<name>`; returns the path.
    static func writeBody(_ body: [UInt8], name: String) -> String {
        mkdir("/tmp/rocketmq", 0o755)
        mkdir(bodyDirectory, 0o755)
        let path = bodyDirectory + "/" + name
        if let f = fopen(path, "wb") {
            _ = body.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, f) }
            fclose(f)
        }
        return path
    }

    static func properties(_ m: MessageExt) -> String {
        javaMap(m.properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    /// The `%-20s %s` detail block; `offsetID` false drops the first line (queryMsgByUniqueKey).
    static func detail(_ m: MessageExt, offsetID: Bool = true, bodyFormat: String? = nil, bodyFileName: String? = nil) -> String {
        let path = writeBody(m.body, name: bodyFileName ?? m.msgId)
        var rows: [(String, String)] = []
        if offsetID { rows.append(("OffsetID:", m.offsetMsgId)) }
        rows += [
            ("Topic:", m.topic), ("Tags:", "[\(m.tags ?? "null")]"), ("Keys:", "[\(m.properties[MessageConst.keys] ?? "null")]"),
            ("Queue ID:", String(m.queueId)), ("Queue Offset:", String(m.queueOffset)),
            ("CommitLog Offset:", String(m.commitLogOffset)), ("Reconsume Times:", String(m.reconsumeTimes)),
            ("Born Timestamp:", human2(m.bornTimestamp)), ("Store Timestamp:", human2(m.storeTimestamp)),
            ("Born Host:", m.bornHost.description), ("Store Host:", m.storeHost.description), ("System Flag:", String(m.sysFlag)),
            ("Properties:", properties(m)), ("Message Body Path:", path),
        ]
        if bodyFormat != nil { rows.append(("Message Body:", String(decoding: m.body, as: UTF8.self))) }
        return rows.map { l($0.0, 20) + " " + $0.1 }.joined(separator: "\n") + "\n"
    }

    /// Java `MessageExt.toString()`.
    static func messageExt(_ m: MessageExt) -> String {
        let body = "[" + m.body.map { String(Int8(bitPattern: $0)) }.joined(separator: ", ") + "]"
        return "MessageExt [brokerName=\(m.brokerName.isEmpty ? "null" : m.brokerName), queueId=\(m.queueId), storeSize=\(m.storeSize), queueOffset=\(m.queueOffset), sysFlag=\(m.sysFlag), bornTimestamp=\(m.bornTimestamp), bornHost=/\(m.bornHost), storeTimestamp=\(m.storeTimestamp), storeHost=/\(m.storeHost), msgId=\(m.offsetMsgId), commitLogOffset=\(m.commitLogOffset), bodyCRC=\(m.bodyCRC), reconsumeTimes=\(m.reconsumeTimes), preparedTransactionOffset=\(m.preparedTransactionOffset), toString()=Message{topic='\(m.topic)', flag=\(m.flag), properties=\(properties(m)), body=\(body), transactionId='null'}]"
    }
}
