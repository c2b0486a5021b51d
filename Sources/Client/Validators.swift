// Validators: topic and group checks done before sends and at start (client.md §5.2). Pure; any task.

enum Validators {
    static let notAllowedSendTopics: Set<String> = [
        "SCHEDULE_TOPIC_XXXX", "RMQ_SYS_TRANS_HALF_TOPIC", "RMQ_SYS_TRANS_OP_HALF_TOPIC", "TRANS_CHECK_MAX_TIME_TOPIC",
        "SELF_TEST_TOPIC", "OFFSET_MOVED_EVENT",
    ]

    static func legal(_ s: String) -> Bool {
        s.utf8.allSatisfy { c in
            (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 || c == 45 || c == 37 || c == 124
        }
    }

    static func checkTopic(_ topic: String) throws(MQClientError) {
        // Legal characters are never whitespace, so the character-by-character blank check (slow: grapheme
        // breaking, on every send) is needed only for a topic that is not legal anyway.
        let isLegal = legal(topic)
        guard !topic.isEmpty, isLegal || !topic.allSatisfy(\.isWhitespace) else { throw .illegalArgument("The specified topic is blank") }
        guard topic.utf8.count <= 127 else { throw .illegalArgument("The specified topic is longer than topic max length 127.") }
        guard isLegal else { throw .illegalArgument("The specified topic[\(topic)] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$") }
        guard !notAllowedSendTopics.contains(topic) else { throw .illegalArgument("Sending message to topic[\(topic)] is forbidden.") }
    }

    static func checkGroup(_ group: String) throws(MQClientError) {
        guard !group.isEmpty else { throw .illegalArgument("the specified group is blank") }
        guard group.utf8.count <= 120 else { throw .illegalArgument("the specified group is longer than group max length 120.") }
        guard legal(group) else { throw .illegalArgument("the specified group[\(group)] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$") }
    }
}
