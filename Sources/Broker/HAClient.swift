// HAClient: the slave's side of classic replication (broker.md §12.1, RocketMQ 4.x's HAClient). Connects to
// the master's HA address (haMasterAddress, or the one its NameServer registration returned), reports its
// CommitLog max offset when connected, after each applied batch and every haSendHeartbeatInterval, and
// appends the master's bytes at the same offsets (the store's dispatcher then builds ConsumeQueues and
// the index from them). An offset that does not continue its log closes the connection; it reconnects
// every 5 s. In controller mode a check runs before each connection (the broker's: compare epochs with the
// master, truncate past the last shared offset) and the replica opens with a handshake naming its broker id
// and the master epoch it checked against (HAWire.controllerHandshake). One thread (blocking socket);
// thread-safe setters.

import Common
import Foundation
import Logging
import Store
import Synchronization

final class HAClient: @unchecked Sendable {
    let store: MessageStore
    let logger: Logger
    private let masterAddress = Mutex<String?>(nil)
    private let current = Mutex<HASocket?>(nil)
    private let stopped = Atomic<Bool>(false)
    private let reported = Atomic<Int64>(-1)
    private let lastRead = Atomic<Int64>(0)
    private let lastWrite = Atomic<Int64>(0)
    private let bytesLastSecond = Atomic<Int64>(0)
    /// Controller mode: this broker's controller id (sent in the handshake); nil in classic replication.
    private let controllerBrokerId: Int64?
    /// Controller mode: run on this thread before each connection; the master epoch checked, or nil to
    /// wait and try again. Set once, before `start`.
    private let connectCheck = Mutex<(@Sendable (String) -> Int32?)?>(nil)
    /// Set while the check runs: the store must not change role under it.
    private let checking = Atomic<Bool>(false)
    private let done = NSCondition()
    private var running = false  // guarded by `done`
    private var wakeups = 0  // guarded by `done`
    /// The largest body a master may send in one batch (Apache's default is 32 KiB; 64 MiB is far beyond any).
    static let bodyBytesMax = 64 << 20

    init(store: MessageStore, controllerBrokerId: Int64? = nil, logger: Logger) {
        self.store = store
        self.controllerBrokerId = controllerBrokerId
        self.logger = logger
    }

    func setConnectCheck(_ check: @escaping @Sendable (String) -> Int32?) { connectCheck.withLock { $0 = check } }

    /// The master's HA address; a change closes the current connection so the next one goes there.
    func updateMasterAddress(_ address: String?) {
        let changed = masterAddress.withLock { a -> Bool in
            guard a != address else { return false }
            a = address
            return true
        }
        if changed {
            logger.info("HA: master HA address is now \(address ?? "none")")
            current.withLock { $0 }?.shutdown()
            wakePause()  // connect now, not after the 5 s pause
        }
    }

    var master: String? { masterAddress.withLock { $0 } }

    /// Closes the current connection; the next one checks again (controller mode: a new master epoch).
    func reconnect() {
        current.withLock { $0 }?.shutdown()
        wakePause()
    }
    /// The offset last reported to the master (-1 before the first connection).
    var reportedOffset: Int64 { reported.load(ordering: .relaxed) }
    /// Connected, or checking its log before connecting (controller mode).
    var isConnected: Bool { checking.load(ordering: .acquiring) || current.withLock { $0 != nil } }
    var lastReadMs: Int64 { lastRead.load(ordering: .relaxed) }
    var lastWriteMs: Int64 { lastWrite.load(ordering: .relaxed) }
    /// Bytes applied in the last whole second.
    var transferredByteInSecond: Int64 { bytesLastSecond.load(ordering: .relaxed) }

    func start() {
        done.lock()
        running = true
        done.unlock()
        let t = Thread { [self] in
            Thread.current.name = "HAClient"
            run()
            done.lock()
            running = false
            done.broadcast()
            done.unlock()
        }
        t.start()
    }

    private func run() {
        let capacity = Self.bodyBytesMax + 12
        var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4 << 20, alignment: 8)
        defer { buffer.deallocate() }
        while !stopped.load(ordering: .acquiring) {
            guard let address = master else {
                pause(ms: 5_000)
                continue
            }
            var checkedEpoch: Int32?
            if let check = connectCheck.withLock({ $0 }) {
                checking.store(true, ordering: .releasing)
                // The store may have been promoted since the address was read: a master checks nothing.
                checkedEpoch = store.isSlave && master == address ? check(address) : nil
                if checkedEpoch == nil {
                    checking.store(false, ordering: .releasing)
                    pause(ms: 500)
                    continue
                }
            }
            guard let socket = HASocket.connect(to: address, timeoutMs: 3_000) else {
                checking.store(false, ordering: .releasing)
                pause(ms: controllerBrokerId == nil ? 5_000 : 500)
                continue
            }
            current.withLock { $0 = socket }
            checking.store(false, ordering: .releasing)
            logger.info("HA: connected to master \(address)")
            if let id = controllerBrokerId, let epoch = checkedEpoch {
                let hello = HAWire.report(HAWire.controllerHandshake) + HAWire.report(id) + HAWire.report(Int64(epoch))
                guard hello.withUnsafeBytes({ socket.sendAll($0) }) else {
                    current.withLock { $0 = nil }
                    socket.close()
                    pause(ms: 500)
                    continue
                }
            }
            var have = 0
            var lastReportMs: Int64 = 0
            var lastReadMs = WallClock.nowMs()
            var secondStartMs: Int64 = 0
            var secondBytes: Int64 = 0
            var ok = report(socket, &lastReportMs)
            while ok && !stopped.load(ordering: .acquiring) && (controllerBrokerId == nil || master == address) {
                let config = store.config
                if socket.waitReadable(timeoutMs: 1_000, wake: -1) {
                    if have == buffer.count {
                        // A body larger than the buffer: grow it, up to the protocol's sane maximum.
                        guard buffer.count < capacity else {
                            logger.error("HA: master \(address) sent a batch larger than \(Self.bodyBytesMax) bytes: closing")
                            break
                        }
                        let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: min(capacity, buffer.count * 2), alignment: 8)
                        bigger.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[..<have]))
                        buffer.deallocate()
                        buffer = bigger
                    }
                    let n = socket.receive(into: UnsafeMutableRawBufferPointer(rebasing: buffer[have...]))
                    if n == 0 || n == -2 { break }
                    if n > 0 {
                        have += n
                        secondBytes += Int64(n)
                        lastReadMs = WallClock.nowMs()
                        lastRead.store(lastReadMs, ordering: .relaxed)
                        let before = store.maxPhysicalOffset
                        guard let used = apply(UnsafeRawBufferPointer(rebasing: buffer[..<have]), from: address) else { break }
                        if used > 0 {
                            let rest = have - used
                            if rest > 0, let base = buffer.baseAddress { base.copyMemory(from: base + used, byteCount: rest) }
                            have = rest
                        }
                        if store.maxPhysicalOffset > before { ok = report(socket, &lastReportMs) }
                    }
                }
                let now = WallClock.nowMs()
                if now - secondStartMs >= 1000 {
                    bytesLastSecond.store(now - secondStartMs < 2000 ? secondBytes : 0, ordering: .relaxed)
                    secondStartMs = now
                    secondBytes = 0
                }
                if now - lastReportMs >= config.haSendHeartbeatIntervalMs { ok = ok && report(socket, &lastReportMs) }
                if now - lastReadMs > config.haHousekeepingIntervalMs {
                    logger.warning("HA: master \(address) silent for more than \(config.haHousekeepingIntervalMs) ms: reconnecting")
                    break
                }
            }
            current.withLock { $0 = nil }
            socket.close()
            logger.info("HA: disconnected from master \(address)")
            // Controller mode: a new master is usually a moment away; classic replication waits 5 s as 4.x.
            if !stopped.load(ordering: .acquiring) { pause(ms: controllerBrokerId == nil ? 5_000 : 500) }
        }
    }

    /// Applies every whole transfer in `bytes`; returns the bytes used, or nil when the connection must close.
    private func apply(_ bytes: UnsafeRawBufferPointer, from address: String) -> Int? {
        var at = 0
        while bytes.count - at >= 12, let base = bytes.baseAddress {
            let offset = HAWire.readInt64(base + at)
            let size = Int(HAWire.readInt32(base + at + 8))
            guard size >= 0, size <= Self.bodyBytesMax else {
                logger.error("HA: master \(address) sent a bad header (size \(size)): closing")
                return nil
            }
            guard bytes.count - at - 12 >= size else { break }
            let mine = store.maxPhysicalOffset
            if mine != 0 && mine != offset {
                logger.error("HA: master \(address) sent offset \(offset), this CommitLog ends at \(mine): closing")
                return nil
            }
            if size > 0 {
                let body = UnsafeRawBufferPointer(start: base + at + 12, count: size)
                if case .failure(let e) = store.appendToCommitLog(startOffset: offset, data: body) {
                    logger.error("HA: appending the master's bytes at \(offset) failed: \(e)")
                    return nil
                }
            }
            at += 12 + size
        }
        return at
    }

    private func report(_ socket: HASocket, _ last: inout Int64) -> Bool {
        let offset = store.maxPhysicalOffset
        last = WallClock.nowMs()
        lastWrite.store(last, ordering: .relaxed)
        reported.store(offset, ordering: .relaxed)
        return HAWire.report(offset).withUnsafeBytes { socket.sendAll($0) }
    }

    /// Waits `ms`, or less when stopped or when the master's address changed.
    private func pause(ms: Int) {
        done.lock()
        let deadline = Date(timeIntervalSinceNow: Double(ms) / 1000)
        let seen = wakeups
        while !stopped.load(ordering: .acquiring) && wakeups == seen && done.wait(until: deadline) {}
        done.unlock()
    }

    private func wakePause() {
        done.lock()
        wakeups += 1
        done.broadcast()
        done.unlock()
    }

    /// Stops and waits for the thread to end.
    func shutdown() async {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        current.withLock { $0 }?.shutdown()
        wakePause()
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            Thread { [self] in
                done.lock()
                while running { done.wait() }
                done.unlock()
                c.resume()
            }.start()
        }
    }
}
