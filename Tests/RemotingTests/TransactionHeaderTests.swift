// Transaction headers (remoting.md §9.7, §10): END_TRANSACTION and CHECK_TRANSACTION_STATE round-trip
// their keys (`bname` for the broker name), Java's defaults apply to absent keys, and the sysFlag helpers
// touch only the transaction bits.

import XCTest

@testable import Remoting

final class TransactionHeaderTests: XCTestCase {
    func testEndTransactionHeaderRoundTripsAndDefaultsFromTransactionCheckToFalse() throws {
        let h = EndTransactionRequestHeader(topic: "T", producerGroup: "pg", tranStateTableOffset: 7, commitLogOffset: 1234,
                                            commitOrRollback: 8, fromTransactionCheck: true, msgId: "ID", transactionId: "TX",
                                            brokerName: "broker-a")
        let fields = h.toExtFields()
        XCTAssertEqual(fields["bname"], "broker-a")
        XCTAssertEqual(fields["fromTransactionCheck"], "true")
        XCTAssertEqual(try EndTransactionRequestHeader(extFields: fields), h)

        var cpp = fields
        cpp.removeValue(forKey: "fromTransactionCheck")
        cpp["commitOrRollback"] = " 12 "
        let decoded = try EndTransactionRequestHeader(extFields: cpp)
        XCTAssertFalse(decoded.fromTransactionCheck)
        XCTAssertEqual(decoded.commitOrRollback, 12)

        for key in ["producerGroup", "tranStateTableOffset", "commitLogOffset", "commitOrRollback", "msgId"] {
            var missing = fields
            missing.removeValue(forKey: key)
            XCTAssertThrowsError(try EndTransactionRequestHeader(extFields: missing), key)
        }
    }

    func testCheckTransactionStateHeaderRoundTrips() throws {
        let h = CheckTransactionStateRequestHeader(topic: "RMQ_SYS_TRANS_HALF_TOPIC", tranStateTableOffset: 3, commitLogOffset: 99,
                                                   msgId: "U", transactionId: "U", offsetMsgId: "7F000001000027DB0000000000000063",
                                                   brokerName: "b")
        XCTAssertEqual(try CheckTransactionStateRequestHeader(extFields: h.toExtFields()), h)
        XCTAssertThrowsError(try CheckTransactionStateRequestHeader(extFields: ["commitLogOffset": "1"]))
    }

    func testResetTransactionValueKeepsTheOtherBits() {
        let compressedPrepared: Int32 = 0x201 | 0x4
        XCTAssertEqual(MessageSysFlag.resetTransactionValue(compressedPrepared, MessageSysFlag.transactionNotType), 0x201)
        XCTAssertEqual(MessageSysFlag.resetTransactionValue(compressedPrepared, MessageSysFlag.transactionCommitType), 0x209)
        XCTAssertEqual(MessageSysFlag.transactionValue(0x20D), MessageSysFlag.transactionRollbackType)
    }
}
