// QueryMessageProcessor: VIEW_MESSAGE_BY_ID (33) — one record by commit-log offset — and QUERY_MESSAGE (12)
// — records by key within a time range from the index (spec broker.md §13, remoting.md §9.11).
// Built over the store alone; runs on the query executor; bodies are copies of the stored records.

import NIOCore
import Remoting
import Store

struct QueryMessageProcessor: RemotingRequestProcessor {
    let store: MessageStore
    static let defaultQueryMaxNum: Int32 = 32
    static let queryMaxNum: Int32 = 64

    func processRequest(_ request: RemotingCommand, channel: RemotingChannel) async throws -> RemotingCommand? {
        switch request.requestCode {
        case .viewMessageById:
            let h: ViewMessageRequestHeader
            do { h = try request.decodeHeader() } catch { return request.makeResponse(.systemError, remark: "\(error)") }
            guard h.offset >= 0, let record = store.lookMessage(physicalOffset: h.offset) else {
                return request.makeResponse(.systemError, remark: "can not find message by the offset, \(h.offset)")
            }
            return request.makeResponse(.success, body: ByteBuffer(bytes: record.bytes))
        case .queryMessage:
            let h: QueryMessageRequestHeader
            do { h = try request.decodeHeader() } catch { return request.makeResponse(.systemError, remark: "\(error)") }
            let maxNum = h.uniqueKeyQuery == true ? Self.defaultQueryMaxNum : min(max(1, h.maxNum), Self.queryMaxNum)
            let result = store.queryMessage(topic: h.topic, key: h.key, maxNum: Int(maxNum),
                                            beginMs: h.beginTimestamp, endMs: h.endTimestamp)
            let header = QueryMessageResponseHeader(indexLastUpdateTimestamp: result.indexLastUpdateTimestampMs,
                                                    indexLastUpdatePhyoffset: result.indexLastUpdatePhysicalOffset)
            guard !result.messages.isEmpty else {
                return request.makeResponse(.queryNotFound, remark: "can not find message, maybe time range not correct",
                                            header: header)
            }
            var body = ByteBufferAllocator().buffer(capacity: result.messages.reduce(0) { $0 + $1.size })
            for m in result.messages { body.writeBytes(m.bytes) }
            return request.makeResponse(.success, header: header, body: body)
        default:
            return RemotingDispatcher.notSupported(request)
        }
    }
}
