// HAService: the master's side of classic master/slave replication (broker.md §12.1–12.2, RocketMQ 4.x's
// HAService, HAConnection and GroupTransferService). Accepts any number of slaves on haListenPort; each
// connection streams CommitLog bytes from where its slave asked (its last file when it reports 0) and
// records the offsets the slave acknowledges. SYNC_MASTER puts wait here (ReplicaAckWaiting) for the first
// acknowledgement covering them, with FLUSH_SLAVE_TIMEOUT after slaveTimeout and SLAVE_NOT_AVAILABLE at once
// when no slave is usable. In controller mode (HAService+SyncStateSet.swift) it also keeps the SyncStateSet
// and counts acknowledgements as RocketMQ 5's AutoSwitchHAService does. Threads: one accepting, one per slave
// (blocking socket, sendfile); waits are completed by those threads and by a 10 ms sweep. Thread-safe.

import Common
import Foundation
import Glibc
import Logging
import Store
import Synchronization

final class HAService: ReplicaAckWaiting, @unchecked Sendable {
    struct PendingAck {
        let endOffset: Int64
        let deadlineMs: Int64
        /// Controller mode: acknowledgements needed, the master's included (0: every SyncStateSet member).
        let acks: Int
        let completion: @Sendable (PutMessageStatus) -> Void
    }

    /// A connected slave as operators see it (haStatus, runtime info).
    struct SlaveStatus: Sendable {
        let remote: String
        let ackOffset: Int64
        let lagBytes: Int64
        let transferFromWhere: Int64
        let transferredByteInSecond: Int64
    }

    let store: MessageStore
    let logger: Logger
    private let listener: HASocket
    private let connections = Mutex<[ObjectIdentifier: HAConnection]>([:])
    /// The highest offset any slave acknowledged (RocketMQ's push2SlaveMaxOffset).
    private let push2SlaveMaxOffset = Atomic<Int64>(0)
    private let pending = Mutex<[PendingAck]>([])
    private let pendingCount = Atomic<Int>(0)
    private let background = BackgroundTasks(name: "HAService")
    private let threads = NSCondition()
    private var threadsAlive = 0  // guarded by `threads`
    private let stopped = Atomic<Bool>(false)
    /// Controller mode: replicas identify themselves (HAWire.controllerHandshake) and acks follow the
    /// SyncStateSet. Fixed at start; the classic paths test it once per put.
    let controllerMode: Bool
    /// Controller mode: consumers see only what every SyncStateSet member holds (read at start).
    let allAckInSyncStateSet: Bool
    /// Controller mode while this broker is master: the SyncStateSet and what is being proposed; nil otherwise.
    let syncState = Mutex<ControllerSyncState?>(nil)
    /// Controller mode: the end of the last SYNC_MASTER put acknowledged to its producer; a replica joins the
    /// SyncStateSet only holding at least this much.
    let acknowledgedToProducers = Atomic<Int64>(0)

    /// Listens on `port` (0: any); the service runs once `start` is called.
    init(store: MessageStore, port: Int, controllerMode: Bool = false, logger: Logger) throws {
        self.store = store
        self.logger = logger
        self.controllerMode = controllerMode
        allAckInSyncStateSet = store.config.allAckInSyncStateSet
        switch HASocket.listen(port: port) {
        case .success(let s): listener = s
        case .failure(let e): throw BrokerError.badConfig("HA service: \(e)")
        }
    }

    var port: Int { listener.localPort }

    func start() {
        startThread(name: "AcceptSocketService") { [self] in acceptLoop() }
        background.spawnPeriodic(initialDelay: .milliseconds(10), every: .milliseconds(10)) { [self] in
            completeExpired(nowMs: WallClock.nowMs())
        }
        logger.info("HA service listening on port \(port)")
    }

    private func startThread(name: String, _ body: @escaping @Sendable () -> Void) {
        threads.lock()
        threadsAlive += 1
        threads.unlock()
        let t = Thread { [self] in
            Thread.current.name = String(name.prefix(15))
            body()
            threads.lock()
            threadsAlive -= 1
            threads.broadcast()
            threads.unlock()
        }
        t.start()
    }

    private func acceptLoop() {
        while !stopped.load(ordering: .acquiring), let (socket, remote) = listener.accept() {
            if stopped.load(ordering: .acquiring) {
                socket.close()
                break
            }
            if controllerMode && syncState.withLock({ $0 == nil }) {
                // Not master (any more): a replica must follow the master the controller names, not this broker.
                socket.close()
                continue
            }
            let connection = HAConnection(socket: socket, remote: remote, service: self)
            connections.withLock { $0[ObjectIdentifier(connection)] = connection }
            logger.info("HA: slave \(remote) connected")
            startThread(name: "HAConnection") { [self] in
                connection.run()
                connections.withLock { $0[ObjectIdentifier(connection)] = nil }
                connection.close()
                logger.info("HA: slave \(remote) disconnected")
            }
        }
    }

    // MARK: acknowledgements

    /// A slave acknowledged `offset`: every wait it covers completes.
    func acknowledged(_ offset: Int64) {
        var current = push2SlaveMaxOffset.load(ordering: .relaxed)
        while offset > current {
            let (exchanged, original) = push2SlaveMaxOffset.compareExchange(expected: current, desired: offset, ordering: .acquiringAndReleasing)
            if exchanged { break }
            current = original
        }
        guard controllerMode || pendingCount.load(ordering: .relaxed) > 0 else { return }
        if controllerMode {
            let quorum = ackQuorum()
            publishConfirmOffset(quorum)
            complete(status: .putOk) { quorum.satisfied($0) }
            return
        }
        let acked = push2SlaveMaxOffset.load(ordering: .acquiring)
        complete(status: .putOk) { $0.endOffset <= acked }
    }

    private func completeExpired(nowMs: Int64) {
        guard pendingCount.load(ordering: .relaxed) > 0 else { return }
        complete(status: .flushSlaveTimeout) { $0.deadlineMs <= nowMs }
    }

    func complete(status: PutMessageStatus, where predicate: (PendingAck) -> Bool) {
        let taken: [PendingAck] = pending.withLock { list in
            var take: [PendingAck] = []
            list.removeAll { p in
                guard predicate(p) else { return false }
                take.append(p)
                return true
            }
            return take
        }
        guard !taken.isEmpty else { return }
        pendingCount.subtract(taken.count, ordering: .relaxed)
        for p in taken { p.completion(status) }
    }

    /// 4.x's isSlaveOK: a slave is connected and the best one is less than `fallBehindMax` behind.
    func isSlaveOK(masterPutWhere: Int64, fallBehindMax: Int64) -> Bool {
        let connected = connections.withLock { !$0.isEmpty }
        return connected && masterPutWhere - push2SlaveMaxOffset.load(ordering: .acquiring) < fallBehindMax
    }

    func waitForReplicas(endOffset: Int64, completion: @escaping @Sendable (PutMessageStatus) -> Void) {
        if controllerMode {
            waitForSyncStateSet(endOffset: endOffset, completion: completion)
            return
        }
        let config = store.config  // one copy of the settings per put
        guard !stopped.load(ordering: .relaxed),
              isSlaveOK(masterPutWhere: endOffset, fallBehindMax: config.haSlaveFallbehindMaxBytes) else {
            completion(.slaveNotAvailable)
            return
        }
        if push2SlaveMaxOffset.load(ordering: .acquiring) >= endOffset {
            completion(.putOk)
            return
        }
        let deadline = WallClock.nowMs() + max(1, config.slaveTimeoutMs)
        enqueue(PendingAck(endOffset: endOffset, deadlineMs: deadline, acks: 2, completion: completion))
        // An ack may have landed between the check and the append.
        if push2SlaveMaxOffset.load(ordering: .acquiring) >= endOffset { acknowledged(endOffset) }
        for c in connections.withLock({ Array($0.values) }) { c.wake() }
    }

    var pendingCountPositive: Bool { pendingCount.load(ordering: .relaxed) > 0 }

    func enqueue(_ p: PendingAck) {
        pending.withLock { $0.append(p) }
        pendingCount.add(1, ordering: .relaxed)
    }

    func wakeConnections() {
        for c in connections.withLock({ Array($0.values) }) { c.wake() }
    }

    var connectionList: [HAConnection] { connections.withLock { Array($0.values) } }

    /// Closes every replica's connection (a master stepping down in controller mode).
    func closeConnections() {
        for c in connectionList { c.stop() }
    }

    // MARK: status and stop

    var slaves: [SlaveStatus] {
        let max = store.maxPhysicalOffset
        return connections.withLock { Array($0.values) }.map {
            let ack = $0.ackOffset
            return SlaveStatus(remote: $0.remote, ackOffset: ack, lagBytes: ack < 0 ? max : max - ack,
                               transferFromWhere: $0.transferFromWhere, transferredByteInSecond: $0.transferredByteInSecond)
        }.sorted { $0.remote < $1.remote }
    }

    var acknowledgedOffset: Int64 { push2SlaveMaxOffset.load(ordering: .acquiring) }

    /// Stops accepting, closes every slave connection and waits for their threads; puts still waiting
    /// complete with FLUSH_SLAVE_TIMEOUT (they are stored; the slave may have them or not).
    func shutdown() async {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        listener.shutdown()
        for c in connections.withLock({ Array($0.values) }) { c.stop() }
        await background.shutdown()
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            // Waiting on a condition blocks: done on a thread of its own, never a cooperative one.
            Thread { [self] in
                threads.lock()
                while threadsAlive > 0 { threads.wait() }
                threads.unlock()
                done.resume()
            }.start()
        }
        listener.close()
        complete(status: .flushSlaveTimeout) { _ in true }
    }
}

/// One slave's connection on the master: reads its reports, sends it CommitLog bytes (RocketMQ's
/// HAConnection with its read and write services on one thread, over poll).
final class HAConnection: Sendable {
    let socket: HASocket
    let remote: String
    unowned let service: HAService
    /// A pipe: writing a byte to `wakeWrite` ends the thread's poll on `wakeRead`.
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let ack = Atomic<Int64>(-1)
    private let stopped = Atomic<Bool>(false)
    private let nextTransfer = Atomic<Int64>(-1)
    private let bytesLastSecond = Atomic<Int64>(0)
    /// Controller mode: the replica's controller broker id from its handshake (-1 before it).
    private let slaveIdAtomic = Atomic<Int64>(-1)
    /// Controller mode: when the replica last held everything the master had (RocketMQ's lastCatchUpTimeMs).
    private let lastCaughtUp = Atomic<Int64>(0)

    init(socket: HASocket, remote: String, service: HAService) {
        self.socket = socket
        self.remote = remote
        self.service = service
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) == 0 {
            for fd in fds {
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            }
        } else {
            fds = [-1, -1]
        }
        wakeRead = fds[0]
        wakeWrite = fds[1]
    }

    /// The slave's last report (-1 before the first).
    var ackOffset: Int64 { ack.load(ordering: .relaxed) }
    /// Where the next batch starts (-1 before the slave's first report).
    var transferFromWhere: Int64 { nextTransfer.load(ordering: .relaxed) }
    /// Bytes sent in the last whole second.
    var transferredByteInSecond: Int64 { bytesLastSecond.load(ordering: .relaxed) }
    var slaveId: Int64 { slaveIdAtomic.load(ordering: .relaxed) }
    var lastCaughtUpMs: Int64 { lastCaughtUp.load(ordering: .relaxed) }

    /// New bytes to send: the thread stops waiting.
    func wake() {
        var one: UInt8 = 1
        _ = write(wakeWrite, &one, 1)
    }

    func stop() {
        stopped.store(true, ordering: .releasing)
        socket.shutdown()
        wake()
    }

    func close() {
        socket.close()
        Glibc.close(wakeRead)
        Glibc.close(wakeWrite)
    }

    func run() {
        let store = service.store
        let logger = service.logger
        let reports = UnsafeMutableRawBufferPointer.allocate(byteCount: 8 * 128, alignment: 8)
        defer { reports.deallocate() }
        var have = 0
        var requested: Int64 = -1
        var next: Int64 = -1
        var lastReadMs = WallClock.nowMs()
        var lastWriteMs: Int64 = 0
        var windowStartMs: Int64 = 0
        var windowBytes: Int64 = 0
        var secondStartMs: Int64 = 0
        var secondBytes: Int64 = 0
        var handshake = 0
        var masterMaxAtLastAck = Int64.max
        while !stopped.load(ordering: .acquiring) {
            let config = store.config
            let behind = next >= 0 && store.maxPhysicalOffset > next
            // Caught up: wait for a report, a wake-up (a SYNC_MASTER put) or at most 10 ms (ASYNC_MASTER).
            let readable = socket.waitReadable(timeoutMs: behind ? 0 : 10, wake: wakeRead)
            if readable {
                let n = socket.receive(into: UnsafeMutableRawBufferPointer(rebasing: reports[have...]))
                if n == 0 || n == -2 { break }
                if n > 0 {
                    have += n
                    let units = have / 8
                    if units > 0, let base = reports.baseAddress {
                        var offset: Int64 = -1
                        for u in 0..<units {
                            let value = HAWire.readInt64(base + u * 8)
                            if service.controllerMode && handshake < 3 {
                                // Controller mode: magic, broker id, the master epoch the replica checked against.
                                if handshake == 0 && value != HAWire.controllerHandshake {
                                    logger.warning("HA: \(remote) sent no controller-mode handshake: closing")
                                    return
                                }
                                if handshake == 1 { slaveIdAtomic.store(value, ordering: .relaxed) }
                                if handshake == 2 && !service.acceptsReplica(checkedEpoch: value) {
                                    logger.warning("HA: replica \(slaveId) at \(remote) checked its log against epoch \(value), not this master's: closing")
                                    return
                                }
                                handshake += 1
                                continue
                            }
                            offset = value
                        }
                        let rest = have - units * 8
                        if rest > 0 { base.copyMemory(from: base + units * 8, byteCount: rest) }
                        have = rest
                        if offset >= 0 {
                            ack.store(offset, ordering: .relaxed)
                            lastReadMs = WallClock.nowMs()
                            if requested < 0 { requested = offset }
                            // Caught up: it holds what the master had at its previous report (or has now).
                            let masterMax = store.maxPhysicalOffset
                            if offset >= masterMaxAtLastAck || offset >= masterMax { lastCaughtUp.store(lastReadMs, ordering: .relaxed) }
                            masterMaxAtLastAck = masterMax
                            service.acknowledged(offset)
                        }
                    }
                }
            }
            let now = WallClock.nowMs()
            if now - secondStartMs >= 1000 {
                bytesLastSecond.store(now - secondStartMs < 2000 ? secondBytes : 0, ordering: .relaxed)
                secondStartMs = now
                secondBytes = 0
            }
            if now - lastReadMs > config.haHousekeepingIntervalMs {
                logger.warning("HA: slave \(remote) silent for more than \(config.haHousekeepingIntervalMs) ms: closing")
                break
            }
            guard requested >= 0 else { continue }
            if next < 0 {
                next = requested == 0 ? store.replicationStartForNewSlave : requested
                nextTransfer.store(next, ordering: .relaxed)
                logger.info("HA: slave \(remote) requested offset \(requested): transfer starts at \(next)")
            }
            var allowance = Int(config.haTransferBatchSizeBytes)
            if config.haFlowControlEnable {
                if now - windowStartMs >= 1000 {
                    windowStartMs = now
                    windowBytes = 0
                }
                allowance = min(allowance, Int(max(0, config.maxHaTransferByteInSecond - windowBytes)))
                if allowance == 0 { continue }
            }
            if let data = store.commitLogData(from: next, maxBytes: allowance) {
                let header = HAWire.header(offset: next, size: Int32(data.size))
                let sent = header.withUnsafeBytes { socket.sendAll($0, more: true) }
                    && socket.sendFile(data.file.fd, offset: data.filePosition, count: data.size)
                guard sent else {
                    logger.warning("HA: sending to slave \(remote) failed: closing")
                    break
                }
                next += Int64(data.size)
                nextTransfer.store(next, ordering: .relaxed)
                windowBytes += Int64(data.size)
                secondBytes += Int64(data.size)
                lastWriteMs = now
            } else if now - lastWriteMs > config.haSendHeartbeatIntervalMs {
                let header = HAWire.header(offset: next, size: 0)
                guard header.withUnsafeBytes({ socket.sendAll($0) }) else { break }
                lastWriteMs = now
            }
        }
    }
}
