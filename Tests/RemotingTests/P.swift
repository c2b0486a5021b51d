import XCTest
final class PT: XCTestCase { func testX() {} }
