// TopicValidator: topic and group name rules and the system topics (spec broker.md §1, §2.1).
// Pure functions; called by the send, pull and admin processors on any task.

public enum TopicValidator {
    public static let autoCreateTopicKeyTopic = "TBW102"
    public static let scheduleTopic = "SCHEDULE_TOPIC_XXXX"
    public static let transHalfTopic = "RMQ_SYS_TRANS_HALF_TOPIC"
    public static let transOpHalfTopic = "RMQ_SYS_TRANS_OP_HALF_TOPIC"
    public static let transCheckMaxTimeTopic = "TRANS_CHECK_MAX_TIME_TOPIC"
    public static let selfTestTopic = "SELF_TEST_TOPIC"
    public static let offsetMovedEvent = "OFFSET_MOVED_EVENT"
    public static let benchmarkTopic = "BenchmarkTest"
    public static let traceTopic = "RMQ_SYS_TRACE_TOPIC"
    public static let retryGroupTopicPrefix = "%RETRY%"
    public static let dlqGroupTopicPrefix = "%DLQ%"
    public static let topicNameBytesMax = 127
    public static let retryTopicNameBytesMax = 255
    public static let groupNameBytesMax = 120

    /// Producers may not send to these.
    public static let notAllowedSendTopics: Set<String> = [
        scheduleTopic, transHalfTopic, transOpHalfTopic, transCheckMaxTimeTopic, selfTestTopic, offsetMovedEvent,
    ]

    static func legalCharacters(_ s: String) -> Bool {
        s.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || c == UInt8(ascii: "%") || c == UInt8(ascii: "|") || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
        }
    }

    /// nil when the name is valid, else the reason (answered as INVALID_PARAMETER).
    public static func validateTopic(_ topic: String) -> String? {
        if topic.isEmpty { return "The specified topic is blank." }
        if !legalCharacters(topic) { return "The specified topic[\(topic)] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$" }
        let isRetryOrDLQ = topic.hasPrefix(retryGroupTopicPrefix) || topic.hasPrefix(dlqGroupTopicPrefix)
        let max = isRetryOrDLQ ? retryTopicNameBytesMax : topicNameBytesMax
        if topic.utf8.count > max { return "The specified topic is longer than topic max length \(max)." }
        return nil
    }

    public static func validateGroup(_ group: String) -> String? {
        if group.isEmpty { return "the specified group is blank" }
        if !legalCharacters(group) { return "the specified group[\(group)] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$" }
        if group.utf8.count > groupNameBytesMax { return "the specified group is longer than group max length \(groupNameBytesMax)." }
        return nil
    }

    public static func retryTopic(group: String) -> String { retryGroupTopicPrefix + group }
}

/// PermName bits.
public enum PermName {
    public static let priority: Int32 = 8
    public static let read: Int32 = 4
    public static let write: Int32 = 2
    public static let inherit: Int32 = 1
    public static func isReadable(_ p: Int32) -> Bool { p & read != 0 }
    public static func isWriteable(_ p: Int32) -> Bool { p & write != 0 }
    public static func isInherited(_ p: Int32) -> Bool { p & inherit != 0 }
}
