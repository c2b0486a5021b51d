// HARuntimeInfo: GET_BROKER_HA_STATUS (907)'s body, RocketMQ 5's names — a master's CommitLog end, its slaves
// (address, acknowledged offset, lag, in sync) and, on a slave, its HA client (master, offset, activity).
// Built by the broker, read by `mqadmin haStatus`; plain values.

public struct HARuntimeInfo: RemotingJSONBody, Equatable {
    public struct Connection: Sendable, Equatable {
        public var addr: String
        public var slaveAckOffset: Int64
        public var diff: Int64
        public var inSync: Bool
        public var transferredByteInSecond: Int64
        public var transferFromWhere: Int64
        public init(addr: String, slaveAckOffset: Int64, diff: Int64, inSync: Bool, transferredByteInSecond: Int64 = 0,
                    transferFromWhere: Int64 = 0) {
            self.addr = addr
            self.slaveAckOffset = slaveAckOffset
            self.diff = diff
            self.inSync = inSync
            self.transferredByteInSecond = transferredByteInSecond
            self.transferFromWhere = transferFromWhere
        }
    }

    public struct Client: Sendable, Equatable {
        public var masterAddr: String = ""
        public var transferredByteInSecond: Int64 = 0
        public var maxOffset: Int64 = 0
        public var lastReadTimestamp: Int64 = 0
        public var lastWriteTimestamp: Int64 = 0
        public var masterFlushOffset: Int64 = 0
        public var isActivated = false
        public init() {}
    }

    public var master: Bool
    public var masterCommitLogMaxOffset: Int64
    public var inSyncSlaveNums: Int32
    public var haConnectionInfo: [Connection]
    public var haClientRuntimeInfo: Client

    public init(master: Bool, masterCommitLogMaxOffset: Int64, inSyncSlaveNums: Int32, haConnectionInfo: [Connection] = [],
                haClientRuntimeInfo: Client = Client()) {
        self.master = master
        self.masterCommitLogMaxOffset = masterCommitLogMaxOffset
        self.inSyncSlaveNums = inSyncSlaveNums
        self.haConnectionInfo = haConnectionInfo
        self.haClientRuntimeInfo = haClientRuntimeInfo
    }

    public init(json: JSONValue) throws(RemotingError) {
        let o = try json.requireObject("HARuntimeInfo")
        master = o["master"]?.boolValue ?? false
        masterCommitLogMaxOffset = o["masterCommitLogMaxOffset"]?.int64Value ?? 0
        inSyncSlaveNums = Int32(truncatingIfNeeded: o["inSyncSlaveNums"]?.int64Value ?? 0)
        haConnectionInfo = (o["haConnectionInfo"]?.arrayValue ?? []).compactMap { v in
            guard let c = v.objectValue else { return nil }
            return Connection(addr: c["addr"]?.stringValue ?? "", slaveAckOffset: c["slaveAckOffset"]?.int64Value ?? 0,
                              diff: c["diff"]?.int64Value ?? 0, inSync: c["inSync"]?.boolValue ?? false,
                              transferredByteInSecond: c["transferredByteInSecond"]?.int64Value ?? 0,
                              transferFromWhere: c["transferFromWhere"]?.int64Value ?? 0)
        }
        var client = Client()
        if let c = o["haClientRuntimeInfo"]?.objectValue {
            client.masterAddr = c["masterAddr"]?.stringValue ?? ""
            client.transferredByteInSecond = c["transferredByteInSecond"]?.int64Value ?? 0
            client.maxOffset = c["maxOffset"]?.int64Value ?? 0
            client.lastReadTimestamp = c["lastReadTimestamp"]?.int64Value ?? 0
            client.lastWriteTimestamp = c["lastWriteTimestamp"]?.int64Value ?? 0
            client.masterFlushOffset = c["masterFlushOffset"]?.int64Value ?? 0
            client.isActivated = c["activated"]?.boolValue ?? c["isActivated"]?.boolValue ?? false
        }
        haClientRuntimeInfo = client
    }

    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.key("haClientRuntimeInfo")
        w.beginObject()
        let c = haClientRuntimeInfo
        w.field("activated", c.isActivated)
        w.field("lastReadTimestamp", c.lastReadTimestamp)
        w.field("lastWriteTimestamp", c.lastWriteTimestamp)
        w.field("masterAddr", c.masterAddr)
        w.field("masterFlushOffset", c.masterFlushOffset)
        w.field("maxOffset", c.maxOffset)
        w.field("transferredByteInSecond", c.transferredByteInSecond)
        w.endObject()
        w.key("haConnectionInfo")
        w.beginArray()
        for h in haConnectionInfo {
            w.beginObject()
            w.field("addr", h.addr)
            w.field("diff", h.diff)
            w.field("inSync", h.inSync)
            w.field("slaveAckOffset", h.slaveAckOffset)
            w.field("transferFromWhere", h.transferFromWhere)
            w.field("transferredByteInSecond", h.transferredByteInSecond)
            w.endObject()
        }
        w.endArray()
        w.field("inSyncSlaveNums", inSyncSlaveNums)
        w.field("master", master)
        w.field("masterCommitLogMaxOffset", masterCommitLogMaxOffset)
        w.endObject()
    }
}
