// MessageClientIDSetterTests: UNIQ_KEY layout (client.md §5.5) — 32 uppercase hex characters: IPv4, pid,
// per-process random, ms since the month began, counter — and uniqueness under concurrent callers.

#if canImport(Glibc)
import Glibc
#endif
import Common
import Synchronization
import Testing

@Suite struct MessageClientIDSetterTests {
    @Test func idCarriesAddressPidAndIncreasingCounter() throws {
        let maker = MessageClientIDSetter(ipv4: "10.1.2.3")
        let a = maker.createUniqID(), b = maker.createUniqID()
        #expect(a.utf8.count == 32 && b.utf8.count == 32)
        #expect(a.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x41...0x46).contains($0) })
        #expect(a.hasPrefix("0A010203"))
        let pid = UInt16(truncatingIfNeeded: getpid())
        let pidHex = String(pid, radix: 16, uppercase: true)
        #expect(a.dropFirst(8).prefix(4) == Substring(String(repeating: "0", count: 4 - pidHex.count) + pidHex))
        #expect(a.prefix(20) == b.prefix(20))
        let counterA = try #require(UInt16(a.suffix(4), radix: 16)), counterB = try #require(UInt16(b.suffix(4), radix: 16))
        #expect(counterB == counterA &+ 1)
    }

    @Test func monthOffsetIsBelowThirtyOneDays() throws {
        let id = MessageClientIDSetter(ipv4: "10.1.2.3").createUniqID()
        let sinceMonthMs = try #require(UInt32(id.dropFirst(20).prefix(8), radix: 16))
        #expect(sinceMonthMs < 31 * 86_400_000)
    }

    @Test func badAddressTextFallsBackToLoopback() {
        #expect(MessageClientIDSetter(ipv4: "not-an-ip").createUniqID().hasPrefix("7F000001"))
    }

    @Test func concurrentCallersGetDistinctIds() async {
        let maker = MessageClientIDSetter(ipv4: "10.1.2.3")
        let ids = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<4 { group.addTask { (0..<1000).map { _ in maker.createUniqID() } } }
            var all: [String] = []
            for await part in group { all += part }
            return all
        }
        #expect(Set(ids).count == 4000)
    }

    @Test func setUniqIDKeepsAnExistingKey() {
        var m = Message(topic: "T", body: [])
        MessageClientIDSetter.setUniqID(&m)
        let first = m.uniqueKey
        #expect(first?.utf8.count == 32)
        MessageClientIDSetter.setUniqID(&m)
        #expect(m.uniqueKey == first)
    }
}
