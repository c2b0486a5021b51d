// ServiceState: the lifecycle of a producer or consumer, RocketMQ's ServiceState. A client object is
// started once (CREATE_JUST -> RUNNING, or START_FAILED if its start threw) and shut down once (RUNNING ->
// SHUTDOWN_ALREADY); starting it in any other state is an error naming the state, as in Java.

public enum ServiceState: String, Sendable, Equatable {
    case createJust = "CREATE_JUST"
    case running = "RUNNING"
    case shutdownAlready = "SHUTDOWN_ALREADY"
    case startFailed = "START_FAILED"

    /// Java's refusal of a second start ("The producer service state not OK, maybe started once, RUNNING").
    func notOK(_ what: String) -> MQClientError {
        .illegalState("The \(what) service state not OK, maybe started once, \(rawValue)")
    }
}
