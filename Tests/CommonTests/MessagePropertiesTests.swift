// MessagePropertiesTests: the properties codec (store.md §3.4): name \u{1} value \u{2} pairs, Java's
// parsing rules (short, separator-less, empty-named or empty-valued segments skipped; last duplicate wins).

import Common
import Testing

@Suite struct MessagePropertiesTests {
    @Test func pairsEncodeInTheOrderGiven() {
        #expect(MessageProperties.encode([("WAIT", "true"), ("KEYS", "a b")]) == "WAIT\u{1}true\u{2}KEYS\u{1}a b\u{2}")
        #expect(MessageProperties.encode([(String, String)]()) == "")
    }

    @Test func dictionariesEncodeWithNamesInByteOrder() {
        #expect(MessageProperties.encode(["b": "2", "a": "1", "UNIQ_KEY": "X"]) == "UNIQ_KEY\u{1}X\u{2}a\u{1}1\u{2}b\u{1}2\u{2}")
        #expect(MessageProperties.encode([String: String]()) == "")
    }

    @Test func decodeRoundTripsUnicode() {
        let props = ["TAGS": "标签", "KEYS": "k😀 2"]
        #expect(MessageProperties.decode(MessageProperties.encode(props)) == props)
    }

    @Test func decodeFollowsJavaRules() {
        let text = "A\u{1}1\u{2}\u{1}x\u{2}B\u{1}\u{2}nosep\u{2}x\u{2}A\u{1}2\u{2}C\u{1}3"
        #expect(MessageProperties.decode(text) == ["A": "2", "C": "3"])
        #expect(MessageProperties.value(of: "A", in: text) == "2")
        #expect(MessageProperties.value(of: "B", in: text) == nil)
        #expect(MessageProperties.decode("") == [:])
    }

    @Test func decodeReadsRecordBytesInPlace() {
        let raw: [UInt8] = Array("TAGS\u{1}A\u{2}".utf8)
        #expect(raw.withUnsafeBytes { MessageProperties.decode($0) } == ["TAGS": "A"])
    }
}
