// The SQL92 selector (broker.md §4.2) as RocketMQ users write it: which property sets each expression
// matches (null, type conversion, three-valued logic, IN/BETWEEN/CONTAINS…), and which texts are refused at
// compile time with a readable error. Pure; no processes.

import XCTest

@testable import Broker

final class SQLFilterExpressionTests: XCTestCase {
    func check(_ sql: String, _ props: [String: String], _ expected: Bool, line: UInt = #line) {
        do {
            let e = try SQLFilterExpression(sql)
            XCTAssertEqual(e.matches(props), expected, "\(sql) with \(props)", line: line)
        } catch {
            XCTFail("\(sql) did not compile: \(error)", line: line)
        }
    }

    func testComparisonsConvertPropertyStringsToTheOtherOperandsType() {
        check("a > 5", ["a": "10"], true)
        check("a > 5", ["a": "3"], false)
        check("a >= 5 AND a <= 5", ["a": "5"], true)
        check("a = 10.5", ["a": "10.5"], true)
        check("a < 1e3", ["a": "999"], true)
        check("a > -2", ["a": "-1"], true)
        check("a > 5", ["a": "x"], false) // not a number: evaluation error, no match
        check("a = 'abc'", ["a": "abc"], true)
        check("a = 'abc'", ["a": "ABC"], false)
        check("a > 'b'", ["a": "c"], false) // two strings are ordered as numbers: error
        check("a > '2'", ["a": "10"], true)
        check("flag = TRUE", ["flag": "true"], true)
        check("flag = FALSE", ["flag": "true"], false)
        check("name = 'O''Brien'", ["name": "O'Brien"], true)
    }

    func testMissingPropertiesAreNullAndNeverMatchAComparison() {
        check("a > 5", [:], false)
        check("a <> 'x'", [:], false)
        check("NOT (a = 'x')", [:], false)
        check("a IS NULL", [:], true)
        check("a IS NOT NULL", [:], false)
        check("a IS NOT NULL", ["a": ""], true)
        check("a > 5 OR b = 'y'", ["b": "y"], true) // null OR true
        check("a > 5 AND b = 'y'", ["b": "y"], false) // null AND true
        check("a > 5 OR b = 'y'", [:], false)
    }

    func testBetweenInAndStringTests() {
        check("a BETWEEN 1 AND 10", ["a": "10"], true)
        check("a NOT BETWEEN 1 AND 10", ["a": "11"], true)
        check("a NOT BETWEEN 1 AND 10", [:], false)
        check("TAGS IN ('A', 'B')", ["TAGS": "B"], true)
        check("TAGS NOT IN ('A', 'B')", ["TAGS": "C"], true)
        check("TAGS NOT IN ('A')", [:], false)
        check("s CONTAINS 'bc'", ["s": "abcd"], true)
        check("s STARTSWITH 'ab'", ["s": "abcd"], true)
        check("s ENDSWITH 'ab'", ["s": "abcd"], false)
        check("s NOT CONTAINS 'z'", ["s": "abcd"], true)
    }

    func testKeywordsCasePrecedenceParenthesesAndComments() {
        check("a between 1 and 3 and b is null", ["a": "2"], true)
        check("a = 1 OR a = 2 AND b = 3", ["a": "1"], true) // AND binds tighter
        check("(a = 1 OR a = 2) AND b = 3", ["a": "1"], false)
        check("-- a comment\na = 1 /* another */", ["a": "1"], true)
        check("TRUE", [:], true)
        check("NOT FALSE", [:], true)
        check("$x_1 = 'v'", ["$x_1": "v"], true)
    }

    func testRefusedSelectors() {
        for bad in ["", "a >", "a = 'x", "a", "a + 1", "a BETWEEN 5 AND 1", "a IN (1, 2)", "007 = a", "a @ b",
                    "a = 1 b = 2", "(a = 1", "a IS 5", "/* open"] {
            XCTAssertThrowsError(try SQLFilterExpression(bad), bad) { error in
                XCTAssertFalse("\(error)".isEmpty)
            }
        }
    }
}
