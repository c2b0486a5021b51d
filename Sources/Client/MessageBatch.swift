// MessageBatch: the body of SEND_BATCH_MESSAGE (remoting.md §9.2) — per message total size, magic 0,
// body CRC 0, flag, body length, body, properties length, properties. Built by Producer on any task.

import Common

enum MessageBatch {
    static func encode(_ messages: [Message]) -> [UInt8] {
        var out: [UInt8] = []
        func put32(_ v: Int32) {
            let u = UInt32(bitPattern: v)
            out += [UInt8(u >> 24), UInt8((u >> 16) & 0xFF), UInt8((u >> 8) & 0xFF), UInt8(u & 0xFF)]
        }
        for m in messages {
            let props = Array(MessageProperties.encode(m.properties).utf8)
            put32(Int32(20 + m.body.count + 2 + props.count))
            put32(0); put32(0); put32(m.flag); put32(Int32(m.body.count))
            out += m.body
            out += [UInt8(props.count >> 8 & 0xFF), UInt8(props.count & 0xFF)]
            out += props
        }
        return out
    }
}
