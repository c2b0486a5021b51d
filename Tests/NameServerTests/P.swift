import XCTest
final class PT2: XCTestCase { func testX() {} }
