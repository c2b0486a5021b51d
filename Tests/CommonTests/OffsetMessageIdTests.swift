// OffsetMessageIdTests: the broker's offset msgId (store.md §3.10) — 32 hex characters for IPv4, 56 for
// IPv6 — made and parsed back, and text that is not one refused.

import Common
import Testing

@Suite struct OffsetMessageIdTests {
    @Test func ipv4IdIsThirtyTwoUppercaseHexAndParsesBack() throws {
        let host = MessageHost(.v4(0xC0A8_0014), port: 10911)
        let id = OffsetMessageId.make(host: host, physicalOffset: 0x1_0000_0ABC)
        #expect(id == "C0A8001400002A9F0000000100000ABC")
        let parsed = try #require(OffsetMessageId.parse(id))
        #expect(parsed.host == host)
        #expect(parsed.physicalOffset == 0x1_0000_0ABC)
        #expect(OffsetMessageId.parse(id.lowercased())?.physicalOffset == 0x1_0000_0ABC)
    }

    @Test func ipv6IdIsFiftySixHexAndParsesBack() throws {
        let host = MessageHost(.v6(0xFE80_0000_0000_0000, 2), port: 10911)
        let id = OffsetMessageId.make(host: host, physicalOffset: 7)
        #expect(id.utf8.count == 56)
        #expect(try #require(OffsetMessageId.parse(id)).host == host)
    }

    @Test func textThatIsNotAnIdIsRefused() {
        #expect(OffsetMessageId.parse("") == nil)
        #expect(OffsetMessageId.parse("C0A8001400002A9F000000010000") == nil)
        #expect(OffsetMessageId.parse("G0A8001400002A9F0000000100000ABC") == nil)
        #expect(OffsetMessageId.parse("7F0000010C8B0001A8C2F6E1D5A40000") != nil) // a UNIQ_KEY parses too: the caller decides
    }
}
