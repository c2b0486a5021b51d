// StoreError: turns the C core's negative errno returns into typed Swift errors with a clear message.
// EBADF/EFAULT from our own calls can only mean a bug and stop the process (as NIO's System.swift does).
import Glibc

public struct StoreError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: Sendable, Equatable {
        case diskFull
        case fileSizeMismatch
        case missingSegment
        case corruptFile
        case lockHeld
        case io
        case invalidConfig
        case notFound
    }
    public let code: Code
    public let errno: Int32
    public let message: String

    public init(_ code: Code, errno: Int32 = 0, _ message: String) {
        self.code = code
        self.errno = errno
        self.message = message
    }

    /// Wraps a negative errno returned by CStore/CUring for the operation described by `what`.
    public static func fromErrno(_ rc: Int32, _ what: String) -> StoreError {
        let e = -rc
        precondition(e != EBADF && e != EFAULT, "apus: \(what) failed with errno \(e): a bug, not an operating error")
        let reason = String(cString: strerror(e))
        if e == ENOSPC || e == EDQUOT { return StoreError(.diskFull, errno: e, "\(what): disk full (\(reason))") }
        if e == ENOENT { return StoreError(.notFound, errno: e, "\(what): \(reason)") }
        return StoreError(.io, errno: e, "\(what): \(reason) (errno \(e))")
    }

    public var description: String { message }
}
