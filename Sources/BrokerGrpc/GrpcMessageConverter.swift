// GrpcMessageConverter: v2 `Message` ↔ RocketMQ's stored form, as the proxy's GrpcConverter. A sent message's
// system properties become the properties RocketMQ keeps (TAGS, KEYS, UNIQ_KEY, __SHARDINGKEY for the FIFO
// message group, DELAY for a delivery time); a stored message becomes a v2 Message with its body digest
// (CRC32, upper-case hex, which the clients check), its receipt handle and delivery attempt.

import Common
import CZlib
import Foundation
import GrpcAPI
import Remoting
import Store
import SwiftProtobuf

enum GrpcMessageConverter {
    /// The FIFO message group's property (RocketMQ's MessageConst.PROPERTY_SHARDING_KEY).
    static let shardingKey = "__SHARDINGKEY"
    /// What RocketMQ 5 keeps a delivery time in; Apus stores it beside the delay level it maps to (the
    /// delivery from the schedule topic drops it, as RocketMQ's delay levels do).
    static let timerDeliverMs = "TIMER_DELIVER_MS"
    static let systemKeys: Set<String> = MessageConst.reserved.union([
        MessageConst.cluster, shardingKey, "MSG_REGION", "TRACE_ON", MessageConst.transactionId, "CORRECTION_FLAG",
        "MIN_OFFSET", "MAX_OFFSET", "BORN_HOST", "__BORNHOST",
    ])

    /// The delay level for a delivery `delayMs` from now: the first level at least that long (the message
    /// is never delivered early), the last level past them all; 0: not delayed.
    static func delayLevel(forDelayMs delayMs: Int64, levels: [Int64]) -> Int32 {
        guard delayMs > 0, !levels.isEmpty else { return 0 }
        for (i, ms) in levels.enumerated() where ms >= delayMs { return Int32(i + 1) }
        return Int32(levels.count)
    }

    /// The properties string for a sent v2 message (user properties, then the system ones RocketMQ keeps).
    static func properties(of m: Apache_Rocketmq_V2_Message, delayLevel: Int32, deliverAtMs: Int64?) -> String {
        var pairs: [(String, String)] = m.userProperties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        let sp = m.systemProperties
        if sp.hasTag, !sp.tag.isEmpty { pairs.append((MessageConst.tags, sp.tag)) }
        if !sp.keys.isEmpty { pairs.append((MessageConst.keys, sp.keys.joined(separator: " "))) }
        if !sp.messageID.isEmpty { pairs.append((MessageConst.uniqueClientMessageIdKeyIndex, sp.messageID)) }
        if sp.hasMessageGroup, !sp.messageGroup.isEmpty { pairs.append((shardingKey, sp.messageGroup)) }
        if delayLevel > 0 { pairs.append((MessageConst.delayTimeLevel, String(delayLevel))) }
        if let deliverAtMs { pairs.append((timerDeliverMs, String(deliverAtMs))) }
        return MessageProperties.encode(pairs)
    }

    static func crc32Hex(_ body: [UInt8]) -> String {
        let crc = body.withUnsafeBufferPointer { p in CZlib.crc32(0, p.baseAddress, UInt32(p.count)) }
        let hex = String(UInt32(truncatingIfNeeded: crc), radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 8 - hex.count)) + hex
    }

    static func timestamp(ms: Int64) -> Google_Protobuf_Timestamp {
        Google_Protobuf_Timestamp(seconds: ms / 1000, nanos: Int32(ms % 1000) * 1_000_000)
    }

    static func duration(ms: Int64) -> Google_Protobuf_Duration {
        Google_Protobuf_Duration(seconds: ms / 1000, nanos: Int32(ms % 1000) * 1_000_000)
    }

    static func milliseconds(_ d: Google_Protobuf_Duration) -> Int64 { d.seconds * 1000 + Int64(d.nanos / 1_000_000) }

    static func milliseconds(_ t: Google_Protobuf_Timestamp) -> Int64 { t.seconds * 1000 + Int64(t.nanos / 1_000_000) }

    /// A popped message as the client receives it. A body compressed by a 4.x producer (sysFlag bit 0) is
    /// inflated here, as the proxy does.
    static func v2Message(_ p: PoppedMessage, namespace: String) -> Apache_Rocketmq_V2_Message {
        let s = p.message
        let props = MessageProperties.decode(s.properties)
        var body = s.body
        if s.sysFlag & 0x1 != 0, let inflated = try? Zlib.inflate(body, outputBytesMax: 64 << 20) { body = inflated }
        var m = Apache_Rocketmq_V2_Message()
        m.topic.resourceNamespace = namespace
        m.topic.name = s.topic
        m.body = Data(body)
        for (k, v) in props where !systemKeys.contains(k) { m.userProperties[k] = v }
        var sp = Apache_Rocketmq_V2_SystemProperties()
        if let tag = props[MessageConst.tags] { sp.tag = tag }
        if let keys = props[MessageConst.keys] { sp.keys = keys.split(separator: " ").map(String.init) }
        sp.messageID = props[MessageConst.uniqueClientMessageIdKeyIndex] ?? s.offsetMessageId
        sp.bodyDigest.type = .crc32
        sp.bodyDigest.checksum = crc32Hex(body)
        sp.bodyEncoding = .identity
        if let group = props[shardingKey] { sp.messageGroup = group }
        // The type as the proxy reads it: transaction, then delay, then FIFO.
        if props[MessageConst.transactionPrepared] == "true" {
            sp.messageType = .transaction
        } else if let at = props[timerDeliverMs].flatMap({ Int64($0) }) {
            sp.messageType = .delay
            sp.deliveryTimestamp = timestamp(ms: at)
        } else if props[MessageConst.delayTimeLevel] != nil || props[MessageConst.realTopic] != nil {
            // Delivered from the delay levels' schedule topic, which drops DELAY and TIMER_DELIVER_MS (as
            // RocketMQ's ScheduleMessageService does) and keeps REAL_TOPIC: a delay message, time unknown.
            sp.messageType = .delay
        } else if props[shardingKey] != nil {
            sp.messageType = .fifo
        } else {
            sp.messageType = .normal
        }
        sp.bornTimestamp = timestamp(ms: s.bornTimestampMs)
        sp.bornHost = s.bornHost.addressText
        sp.storeTimestamp = timestamp(ms: s.storeTimestampMs)
        sp.storeHost = s.storeHost.description
        sp.receiptHandle = p.handle.text
        sp.queueID = s.queueId
        sp.queueOffset = s.queueOffset
        sp.invisibleDuration = duration(ms: p.invisibleMs)
        sp.deliveryAttempt = p.attempt
        m.systemProperties = sp
        return m
    }
}
