// FilterAPITests: Java `String.hashCode` (values computed by Java's definition over UTF-16 units), tag
// expressions split and trimmed as Java does, and the SubscriptionData built from them.

import Common
import Testing

@Suite struct FilterAPITests {
    @Test func hashCodeMatchesJavaForAscii() {
        #expect(FilterAPI.javaHashCode("TagA") == 2_598_919)
        #expect(FilterAPI.javaHashCode("") == 0)
        #expect(FilterAPI.javaHashCode("hello") == 99_162_322)
        #expect(FilterAPI.javaHashCode("The quick brown fox jumps over the lazy dog") == -609_428_141)
    }

    @Test func hashCodeCountsNonBMPCharactersAsTwoSurrogates() {
        #expect(FilterAPI.javaHashCode("😀") == 1_772_899) // U+1F600 = D83D DE00
        #expect(FilterAPI.javaHashCode("标签") == 857_175)
    }

    @Test func tagExpressionsSplitOnDoubleBarAndTrim() {
        #expect(FilterAPI.tags(ofExpression: " TagA || TagB ||\tTagC ") == ["TagA", "TagB", "TagC"])
        #expect(FilterAPI.tags(ofExpression: "*") == nil)
        #expect(FilterAPI.tags(ofExpression: "  ") == nil)
        #expect(FilterAPI.tags(ofExpression: nil) == nil)
        #expect(FilterAPI.tags(ofExpression: "||") == nil)
        #expect(FilterAPI.tagsCodes(ofExpression: "TagA || TagA") == [2_598_919])
    }

    @Test func subscriptionDataCarriesTagsAndTheirCodes() {
        let sub = FilterAPI.buildSubscriptionData(topic: "T", expression: " TagA || TagB ", subVersion: 5)
        #expect(sub == SubscriptionData(topic: "T", subString: "TagA || TagB", tagsSet: ["TagA", "TagB"],
                                        codeSet: [2_598_919, FilterAPI.javaHashCode("TagB")], subVersion: 5))
        #expect(FilterAPI.buildSubscriptionData(topic: "T", expression: nil, subVersion: 1).subString == "*")
        #expect(FilterAPI.tagsCodes(of: sub) == [2_598_919, FilterAPI.javaHashCode("TagB")])
        #expect(FilterAPI.tagsCodes(of: SubscriptionData(topic: "T", subString: "TagA")) == [2_598_919])
    }

    @Test func exactTagCheckAfterTheHashFilter() {
        let sub = FilterAPI.buildSubscriptionData(topic: "T", expression: "TagA", subVersion: 1)
        #expect(FilterAPI.matches(sub, tags: "TagA"))
        #expect(!FilterAPI.matches(sub, tags: "TagB"))
        #expect(!FilterAPI.matches(sub, tags: nil))
        #expect(FilterAPI.matches(FilterAPI.buildSubscriptionData(topic: "T", expression: "*"), tags: nil))
    }
}
