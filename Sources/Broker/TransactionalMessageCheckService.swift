// TransactionalMessageCheckService: finds half messages nobody ended (broker.md §8.3). Every
// transactionCheckInterval (masters only) one round walks each half queue from CID_RMQ_SYS_TRANS's
// progress: offsets named by op records are done; a message checked transactionCheckMax times (or older
// than the store's retention) is discarded to TRANS_CHECK_MAX_TIME_TOPIC; one stored after the round began
// or younger than its immunity time stops the queue until the next round; any other is re-appended with
// TRANSACTION_CHECK_TIMES + 1 and its producer group is asked about the new copy. Progress on the half and
// op queues is then stored. One round at a time, as one of the broker's background tasks.

import Common
import Logging
import Remoting
import Store

final class TransactionalMessageCheckService: Sendable {
    /// RocketMQ stops walking one queue after this long, so one busy queue cannot hold the others back.
    static let maxQueueProcessTimeMs: Int64 = 60_000

    let bridge: TransactionalMessageBridge
    let listener: TransactionalMessageCheckListener
    let config: any BrokerConfigSource
    var logger: Logger { bridge.logger }

    init(bridge: TransactionalMessageBridge, producers: ProducerManager, config: any BrokerConfigSource) {
        self.bridge = bridge
        self.config = config
        listener = TransactionalMessageCheckListener(bridge: bridge, producers: producers, config: config)
    }

    /// Runs rounds until cancelled; the interval is read before each wait so UPDATE_BROKER_CONFIG applies.
    func run() async {
        while !Task.isCancelled {
            let interval = max(10, config.brokerConfig.transactionCheckInterval)
            try? await Task.sleep(for: .milliseconds(interval))
            if Task.isCancelled { return }
            let c = config.brokerConfig
            await check(transactionTimeOut: c.transactionTimeOut, transactionCheckMax: c.transactionCheckMax)
        }
    }

    /// What one round did (logged; read by tests through the broker's log).
    struct RoundResult: Sendable, Equatable {
        var checked = 0
        var discarded = 0
        var skippedDone = 0
    }

    /// One check round over every half queue.
    @discardableResult
    func check(transactionTimeOut: Int64, transactionCheckMax: Int32) async -> RoundResult {
        var total = RoundResult()
        for queueId in bridge.halfQueueIds {
            let r = await checkQueue(queueId, transactionTimeOut: transactionTimeOut, transactionCheckMax: transactionCheckMax)
            total.checked += r.checked
            total.discarded += r.discarded
            total.skippedDone += r.skippedDone
        }
        if total.checked > 0 || total.discarded > 0 {
            logger.info("transaction check round: \(total.checked) checked, \(total.discarded) discarded, \(total.skippedDone) already ended")
        }
        return total
    }

    /// An op record as the walk needs it: its queue offset and the largest half offset it resolves.
    private struct OpRecord {
        let opOffset: Int64
        let maxHalfOffset: Int64
    }

    private func checkQueue(_ queueId: Int32, transactionTimeOut: Int64, transactionCheckMax: Int32) async -> RoundResult {
        let store = bridge.store
        let halfTopic = TransactionalMessageBridge.halfTopic, opTopic = TransactionalMessageBridge.opHalfTopic
        let startTime = nowMs()
        var result = RoundResult()
        let halfOffset = max(bridge.fetchConsumeOffset(topic: halfTopic, queueId: queueId),
                             store.minOffsetInQueue(topic: halfTopic, queueId: queueId))
        let opOffset = max(bridge.fetchConsumeOffset(topic: opTopic, queueId: queueId),
                           store.minOffsetInQueue(topic: opTopic, queueId: queueId))

        // Every op record written before the round began: an unresolved half message older than its
        // immunity time then really has no answer yet (records written later belong to the next round).
        var removeMap: [Int64: Int64] = [:]
        var ops: [OpRecord] = []
        let opMax = store.maxOffsetInQueue(topic: opTopic, queueId: queueId)
        var o = opOffset
        while o < opMax {
            defer { o += 1 }
            guard let op = bridge.message(topic: opTopic, queueId: queueId, queueOffset: o) else {
                ops.append(OpRecord(opOffset: o, maxHalfOffset: -1))  // gone with retention: nothing to keep
                continue
            }
            guard MessageProperties.value(of: MessageProperties.tags, in: op.properties) == TransactionalMessageBridge.removeTag else {
                logger.error("op record \(o) has an illegal tag; ignored")
                ops.append(OpRecord(opOffset: o, maxHalfOffset: -1))
                continue
            }
            let halves = TransactionalMessageBridge.opHalfOffsets(op)
            for h in halves where h >= halfOffset { removeMap[h] = o }
            ops.append(OpRecord(opOffset: o, maxHalfOffset: halves.max() ?? -1))
        }

        let fileReservedMs = store.config.fileReservedTimeHours * 3_600_000
        let halfMax = store.maxOffsetInQueue(topic: halfTopic, queueId: queueId)
        var i = halfOffset
        walk: while i < halfMax {
            let now = nowMs()
            if now - startTime > Self.maxQueueProcessTimeMs {
                logger.info("transaction check of half queue \(queueId) reached \(Self.maxQueueProcessTimeMs) ms")
                break
            }
            if removeMap[i] != nil {
                result.skippedDone += 1
                i += 1
                continue
            }
            guard let half = bridge.message(topic: halfTopic, queueId: queueId, queueOffset: i) else {
                i += 1  // removed by retention
                continue
            }
            var properties = MessageProperties.decode(half.properties)
            let checkTimes = properties[TransactionalMessageBridge.checkTimesProperty].flatMap { Int32($0) } ?? 0
            if checkTimes >= transactionCheckMax || now - half.bornTimestampMs > fileReservedMs {
                if await listener.resolveDiscardMsg(half) {
                    result.discarded += 1
                    i += 1
                    continue
                }
                break
            }
            if half.storeTimestampMs >= startTime { break }
            let age = now - half.bornTimestampMs
            let immunity = properties[TransactionalMessageBridge.checkImmunityTimeProperty]
                .map { Self.immunityTimeMs($0, transactionTimeOut: transactionTimeOut) } ?? transactionTimeOut
            // A born time in the future (producer clock ahead) is checked at once, as RocketMQ does.
            if age >= 0 && age < immunity { break }

            properties[TransactionalMessageBridge.checkTimesProperty] = String(checkTimes + 1)
            let encoded = MessageProperties.encode(properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
            guard let copy = await bridge.putBackHalfMessage(half, properties: encoded) else { break walk }
            await listener.resolveHalfMsg(copy)
            result.checked += 1
            i += 1
        }

        if i != halfOffset { bridge.updateConsumeOffset(topic: halfTopic, queueId: queueId, offset: i) }
        // Op records are consumed in order while everything they resolve lies behind the new half progress.
        var newOpOffset = opOffset
        for op in ops {
            guard op.maxHalfOffset < i else { break }
            newOpOffset = op.opOffset + 1
        }
        if newOpOffset != opOffset { bridge.updateConsumeOffset(topic: opTopic, queueId: queueId, offset: newOpOffset) }
        return result
    }

    /// CHECK_IMMUNITY_TIME_IN_SECONDS in ms, never shorter than transactionTimeOut (-1 or junk: the timeout).
    static func immunityTimeMs(_ text: String, transactionTimeOut: Int64) -> Int64 {
        guard let seconds = Int64(String(text.filter { $0 != " " })), seconds != -1 else { return transactionTimeOut }
        let (ms, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        return overflow ? Int64.max : max(ms, transactionTimeOut)
    }
}
