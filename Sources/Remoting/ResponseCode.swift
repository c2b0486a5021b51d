// ResponseCode: the `code` of a response frame (spec remoting.md §6.1, §6.2).
// A RawRepresentable struct so an unknown code still reaches the caller.

public struct ResponseCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public init(_ rawValue: Int32) { self.rawValue = rawValue }
    public var description: String { String(rawValue) }

    public static let success = ResponseCode(0)
    public static let systemError = ResponseCode(1)
    public static let systemBusy = ResponseCode(2)
    public static let requestCodeNotSupported = ResponseCode(3)
    public static let transactionFailed = ResponseCode(4)
    public static let flushDiskTimeout = ResponseCode(10)
    public static let slaveNotAvailable = ResponseCode(11)
    public static let flushSlaveTimeout = ResponseCode(12)
    public static let messageIllegal = ResponseCode(13)
    public static let serviceNotAvailable = ResponseCode(14)
    public static let versionNotSupported = ResponseCode(15)
    public static let noPermission = ResponseCode(16)
    public static let topicNotExist = ResponseCode(17)
    public static let topicExistAlready = ResponseCode(18)
    public static let pullNotFound = ResponseCode(19)
    public static let pullRetryImmediately = ResponseCode(20)
    public static let pullOffsetMoved = ResponseCode(21)
    public static let queryNotFound = ResponseCode(22)
    public static let subscriptionParseFailed = ResponseCode(23)
    public static let subscriptionNotExist = ResponseCode(24)
    public static let subscriptionNotLatest = ResponseCode(25)
    public static let subscriptionGroupNotExist = ResponseCode(26)
    public static let filterDataNotExist = ResponseCode(27)
    public static let filterDataNotLatest = ResponseCode(28)
    public static let invalidParameter = ResponseCode(29)
    public static let transactionShouldCommit = ResponseCode(200)
    public static let transactionShouldRollback = ResponseCode(201)
    public static let transactionStateUnknow = ResponseCode(202)
    public static let transactionStateGroupWrong = ResponseCode(203)
    public static let noBuyerId = ResponseCode(204)
    public static let notInCurrentUnit = ResponseCode(205)
    public static let consumerNotOnline = ResponseCode(206)
    public static let consumeMsgTimeout = ResponseCode(207)
    public static let noMessage = ResponseCode(208)
    public static let pollingFull = ResponseCode(209)
    public static let pollingTimeout = ResponseCode(210)
    public static let brokerNotExist = ResponseCode(211)
    public static let brokerDispatchNotComplete = ResponseCode(212)
    public static let broadcastConsumption = ResponseCode(213)
    public static let flowControl = ResponseCode(215)
    public static let notLeaderForQueue = ResponseCode(501)
    public static let illegalOperation = ResponseCode(604)
    public static let goAway = ResponseCode(1500)
}
