// GrpcStatus: the v2 `Status` every answer carries, and the remoting send codes mapped to the v2 `Code`
// values the 5.x clients expect (as the proxy's ResponseCode → Code conversion).

import GrpcAPI
import Remoting

typealias V2Code = Apache_Rocketmq_V2_Code
typealias V2Status = Apache_Rocketmq_V2_Status

extension Apache_Rocketmq_V2_Status {
    static func of(_ code: V2Code, _ message: String = "") -> V2Status {
        var s = V2Status()
        s.code = code
        s.message = message.isEmpty ? "\(code)" : message
        return s
    }

    static var ok: V2Status { of(.ok, "OK") }
}

enum GrpcStatusMapping {
    /// A remoting send's response code as the v2 code of its SendResultEntry.
    static func code(forSend code: ResponseCode) -> V2Code {
        switch code {
        case .success: return .ok
        case .flushDiskTimeout: return .masterPersistenceTimeout
        case .flushSlaveTimeout: return .slavePersistenceTimeout
        case .slaveNotAvailable: return .haNotAvailable
        case .topicNotExist: return .topicNotFound
        case .noPermission: return .forbidden
        case .messageIllegal: return .badRequest
        case .invalidParameter: return .badRequest
        case .systemBusy: return .tooManyRequests
        default: return .internalServerError
        }
    }
}
