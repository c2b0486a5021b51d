// StopSignals: SIGINT and SIGTERM as an async stream, so main can end the program in order (shutdown of
// the client, then exit 0) instead of dying with the default action mid-write. Used by the quickstart
// programs.

import Dispatch
import Foundation

public final class StopSignals: @unchecked Sendable {
    // Sendable because: every field is set in init and never changed; the sources are only kept alive.
    private let signals: AsyncStream<Int32>
    private let continuation: AsyncStream<Int32>.Continuation
    /// Kept so the handlers stay installed for the life of the program.
    private let sources: [any DispatchSourceSignal]

    /// Ignores the default actions and delivers each signal to the stream.
    public init() {
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        signals = stream
        self.continuation = continuation
        sources = [SIGTERM, SIGINT].map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { continuation.yield(sig) }
            source.resume()
            return source
        }
    }

    /// The first signal received (one that came before this call counts).
    public func first() async -> Int32 {
        for await sig in signals { return sig }
        return SIGTERM
    }
}
