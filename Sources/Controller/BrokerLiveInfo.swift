// BrokerLiveInfo: what a broker's last BROKER_HEARTBEAT told the controllers (RocketMQ's BrokerLiveInfo),
// stored at `<prefix>alive/<brokerName>/<brokerId>` attached to an etcd lease of the heartbeat timeout: the
// key exists exactly while the broker is alive, whichever controller it heartbeats to. Plain value.

import Remoting

public struct BrokerLiveInfo: Sendable, Equatable, RemotingJSONBody {
    public var clusterName: String
    public var brokerName: String
    public var brokerAddr: String
    public var brokerId: Int64
    public var heartbeatTimeoutMillis: Int64
    public var epoch: Int32
    public var maxOffset: Int64
    public var confirmOffset: Int64
    public var electionPriority: Int32

    public init(clusterName: String, brokerName: String, brokerAddr: String, brokerId: Int64,
                heartbeatTimeoutMillis: Int64, epoch: Int32, maxOffset: Int64, confirmOffset: Int64,
                electionPriority: Int32) {
        self.clusterName = clusterName
        self.brokerName = brokerName
        self.brokerAddr = brokerAddr
        self.brokerId = brokerId
        self.heartbeatTimeoutMillis = heartbeatTimeoutMillis
        self.epoch = epoch
        self.maxOffset = maxOffset
        self.confirmOffset = confirmOffset
        self.electionPriority = electionPriority
    }

    public init(json: JSONValue) throws(RemotingError) {
        guard let o = json.objectValue else { throw .malformedBody("BrokerLiveInfo is not an object") }
        clusterName = o["clusterName"]?.stringValue ?? ""
        brokerName = o["brokerName"]?.stringValue ?? ""
        brokerAddr = o["brokerAddr"]?.stringValue ?? ""
        brokerId = o["brokerId"]?.int64Value ?? 0
        heartbeatTimeoutMillis = o["heartbeatTimeoutMillis"]?.int64Value ?? 0
        epoch = o["epoch"]?.int32Value ?? 0
        maxOffset = o["maxOffset"]?.int64Value ?? 0
        confirmOffset = o["confirmOffset"]?.int64Value ?? 0
        electionPriority = o["electionPriority"]?.int32Value ?? 0
    }

    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.field("brokerAddr", brokerAddr)
        w.field("brokerId", brokerId)
        w.field("brokerName", brokerName)
        w.field("clusterName", clusterName)
        w.field("confirmOffset", confirmOffset)
        w.field("electionPriority", electionPriority)
        w.field("epoch", epoch)
        w.field("heartbeatTimeoutMillis", heartbeatTimeoutMillis)
        w.field("maxOffset", maxOffset)
        w.endObject()
    }

    /// Java DefaultElectPolicy's order: higher epoch, then higher max offset, then lower priority value first.
    public static func electionOrder(_ a: BrokerLiveInfo, _ b: BrokerLiveInfo) -> Bool {
        if a.epoch != b.epoch { return a.epoch > b.epoch }
        if a.maxOffset != b.maxOffset { return a.maxOffset > b.maxOffset }
        if a.electionPriority != b.electionPriority { return a.electionPriority < b.electionPriority }
        return a.brokerId < b.brokerId
    }
}
