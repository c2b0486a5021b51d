// SQLFilterExpression: RocketMQ's SQL92 message selector (spec broker.md §4.2; the grammar of RocketMQ's
// filter/SelectorParser.jj and the semantics of its ComparisonExpression/UnaryExpression): compiled once per
// subscription, evaluated against a message's properties. Three-valued logic: a missing property is null,
// any comparison with null is null, and only an expression that evaluates to true matches. Pure values; any
// thread.

import Synchronization

/// A compiled selector.
struct SQLFilterExpression: Sendable {
    let source: String
    private let root: Node

    enum CompileError: Error, CustomStringConvertible, Equatable {
        case syntax(String)
        var description: String { if case .syntax(let s) = self { return s } else { return "" } }
    }

    /// Parses `text`; throws a readable error for anything RocketMQ's parser refuses.
    init(_ text: String) throws(CompileError) {
        var p = Parser(tokens: try Lexer.tokens(text))
        let node = try p.orExpr()
        guard p.atEnd else { throw .syntax("unexpected \(p.peekText) in selector: \(text)") }
        guard node.isBoolean else { throw .syntax("selector is not a boolean expression: \(text)") }
        source = text
        root = node
    }

    /// True only if the expression evaluates to true for these properties (null, false and errors do not match).
    func matches(_ properties: [String: String]) -> Bool {
        guard case .bool(true)? = try? root.evaluate(properties) else { return false }
        return true
    }
}

/// Compiled selectors by text, so a pull does not parse its subscription again (bounded: cleared past 1024).
final class SQLFilterCache: Sendable {
    private let table = Mutex<[String: Result<SQLFilterExpression, SQLFilterExpression.CompileError>]>([:])

    func compile(_ text: String) -> Result<SQLFilterExpression, SQLFilterExpression.CompileError> {
        if let hit = table.withLock({ $0[text] }) { return hit }
        let r = Result { () throws(SQLFilterExpression.CompileError) in try SQLFilterExpression(text) }
        table.withLock { t in
            if t.count >= 1024 { t = [:] }
            t[text] = r
        }
        return r
    }
}

// MARK: values and nodes

private enum Value: Equatable, Sendable {
    case null
    case bool(Bool)
    case long(Int64)
    case double(Double)
    case string(String)
}

private struct EvaluationError: Error {}

private indirect enum Node: Sendable {
    case constant(Value)
    case property(String)
    case and(Node, Node)
    case or(Node, Node)
    case not(Node)
    case negate(Node)
    case compare(Node, ComparisonOp, Node)
    case isNull(Node, negated: Bool)
    case between(Node, Node, Node, negated: Bool)
    case inList(Node, [String], negated: Bool)
    case stringTest(Node, StringOp, String, negated: Bool)

    var isBoolean: Bool {
        switch self {
        case .constant(.bool): return true
        case .constant, .property, .negate: return false
        default: return true
        }
    }

    func evaluate(_ props: [String: String]) throws -> Value {
        switch self {
        case .constant(let c): return c
        case .property(let name): return props[name].map { .string($0) } ?? .null
        case .and(let l, let r):
            let a = try l.evaluate(props).truth, b = try r.evaluate(props).truth
            if a == false || b == false { return .bool(false) }
            if a == nil || b == nil { return .null }
            return .bool(true)
        case .or(let l, let r):
            let a = try l.evaluate(props).truth, b = try r.evaluate(props).truth
            if a == true || b == true { return .bool(true) }
            if a == nil || b == nil { return .null }
            return .bool(false)
        case .not(let e):
            guard let t = try e.evaluate(props).truth else { return .null }
            return .bool(!t)
        case .negate(let e):
            switch try e.evaluate(props) {
            case .null: return .null
            case .long(let v): return v == .min ? .double(-Double(v)) : .long(-v)
            case .double(let v): return .double(-v)
            case .string(let s):
                if let v = Int64(s) { return .long(-v) }
                if let v = Double(s) { return .double(-v) }
                throw EvaluationError()
            case .bool: throw EvaluationError()
            }
        case .compare(let l, let op, let r):
            return try Self.compare(try l.evaluate(props), op, try r.evaluate(props))
        case .isNull(let e, let negated):
            let isNull = try e.evaluate(props) == .null
            return .bool(isNull != negated)
        case .between(let e, let lo, let hi, let negated):
            let v = try e.evaluate(props)
            let r = try Node.and(.constant(try Self.compare(v, .ge, try lo.evaluate(props))),
                                 .constant(try Self.compare(v, .le, try hi.evaluate(props)))).evaluate(props)
            guard let t = try r.truth else { return .null }
            return .bool(t != negated)
        case .inList(let e, let list, let negated):
            guard case .string(let s) = try e.evaluate(props) else { return .null }
            return .bool(list.contains(s) != negated)
        case .stringTest(let e, let op, let arg, let negated):
            guard case .string(let s) = try e.evaluate(props) else { return .null }
            let r: Bool
            switch op {
            case .contains: r = s.contains(arg)
            case .startsWith: r = s.hasPrefix(arg)
            case .endsWith: r = s.hasSuffix(arg)
            }
            return .bool(r != negated)
        }
    }

    /// Null with any null operand; a string beside a number or boolean is read as that type; two strings
    /// compare exactly for = and <>, as numbers for ordering; anything else that does not convert is an error.
    static func compare(_ a: Value, _ op: ComparisonOp, _ b: Value) throws -> Value {
        if a == .null || b == .null { return .null }
        let order: Int
        switch (a, b) {
        case (.string(let x), .string(let y)):
            if op == .eq || op == .ne { return .bool((x == y) == (op == .eq)) }
            guard let dx = Double(x), let dy = Double(y) else { throw EvaluationError() }
            order = dx < dy ? -1 : (dx > dy ? 1 : 0)
        case (.bool, _), (_, .bool):
            guard op == .eq || op == .ne else { throw EvaluationError() }
            let x: Bool, other: Value
            if case .bool(let v) = a { (x, other) = (v, b) } else if case .bool(let v) = b { (x, other) = (v, a) } else { throw EvaluationError() }
            let y: Bool
            switch other {
            case .bool(let v): y = v
            case .string(let s):
                switch s.lowercased() {
                case "true": y = true
                case "false": y = false
                default: throw EvaluationError()
                }
            default: throw EvaluationError()
            }
            return .bool((x == y) == (op == .eq))
        default:
            guard let x = a.number(beside: b), let y = b.number(beside: a) else { throw EvaluationError() }
            order = x.compare(y)
        }
        switch op {
        case .eq: return .bool(order == 0)
        case .ne: return .bool(order != 0)
        case .lt: return .bool(order < 0)
        case .le: return .bool(order <= 0)
        case .gt: return .bool(order > 0)
        case .ge: return .bool(order >= 0)
        }
    }
}

private enum ComparisonOp: Sendable { case eq, ne, lt, le, gt, ge }
private enum StringOp: Sendable { case contains, startsWith, endsWith }

private enum Number {
    case long(Int64)
    case double(Double)

    func compare(_ o: Number) -> Int {
        switch (self, o) {
        case (.long(let a), .long(let b)): return a < b ? -1 : (a > b ? 1 : 0)
        default:
            let a = asDouble, b = o.asDouble
            return a < b ? -1 : (a > b ? 1 : 0)
        }
    }

    var asDouble: Double {
        switch self {
        case .long(let v): return Double(v)
        case .double(let v): return v
        }
    }
}

extension Value {
    fileprivate var truth: Bool? {
        get throws {
            switch self {
            case .null: return nil
            case .bool(let b): return b
            default: throw EvaluationError()
            }
        }
    }

    /// This value as a number, a string converted to the other operand's kind.
    fileprivate func number(beside other: Value) -> Number? {
        switch self {
        case .long(let v): return .long(v)
        case .double(let v): return .double(v)
        case .string(let s):
            if case .long = other, let v = Int64(s) { return .long(v) }
            return Double(s).map { .double($0) }
        default: return nil
        }
    }
}

// MARK: lexer

private enum Token: Equatable {
    case identifier(String)
    case keyword(String) // upper-cased
    case string(String)
    case long(Int64)
    case double(Double)
    case symbol(String)
}

private enum Lexer {
    static let keywords: Set<String> = ["AND", "OR", "NOT", "BETWEEN", "IN", "TRUE", "FALSE", "NULL", "IS",
                                        "CONTAINS", "STARTSWITH", "ENDSWITH"]

    static func tokens(_ text: String) throws(SQLFilterExpression.CompileError) -> [Token] {
        let c = Array(text.unicodeScalars)
        var out: [Token] = []
        var i = 0
        func isIdentStart(_ u: Unicode.Scalar) -> Bool { u.properties.isAlphabetic || u == "_" || u == "$" }
        func isIdentPart(_ u: Unicode.Scalar) -> Bool { isIdentStart(u) || ("0"..."9").contains(u) }
        while i < c.count {
            let u = c[i]
            if u == " " || u == "\t" || u == "\n" || u == "\r" || u == "\u{C}" { i += 1; continue }
            if u == "-", i + 1 < c.count, c[i + 1] == "-" {
                while i < c.count && c[i] != "\n" && c[i] != "\r" { i += 1 }
                continue
            }
            if u == "/", i + 1 < c.count, c[i + 1] == "*" {
                i += 2
                while i + 1 < c.count && !(c[i] == "*" && c[i + 1] == "/") { i += 1 }
                guard i + 1 < c.count else { throw .syntax("unterminated comment") }
                i += 2
                continue
            }
            if u == "'" {
                var s = String.UnicodeScalarView()
                i += 1
                while true {
                    guard i < c.count else { throw .syntax("unterminated string literal") }
                    if c[i] == "'" {
                        if i + 1 < c.count && c[i + 1] == "'" { s.append("'"); i += 2; continue }
                        i += 1
                        break
                    }
                    s.append(c[i]); i += 1
                }
                out.append(.string(String(s)))
                continue
            }
            if ("0"..."9").contains(u) || (u == "." && i + 1 < c.count && ("0"..."9").contains(c[i + 1])) {
                var j = i
                var isFloat = false
                while j < c.count && ("0"..."9").contains(c[j]) { j += 1 }
                if j < c.count && c[j] == "." { isFloat = true; j += 1; while j < c.count && ("0"..."9").contains(c[j]) { j += 1 } }
                if j < c.count && (c[j] == "e" || c[j] == "E") {
                    var k = j + 1
                    if k < c.count && (c[k] == "+" || c[k] == "-") { k += 1 }
                    if k < c.count && ("0"..."9").contains(c[k]) {
                        isFloat = true
                        j = k
                        while j < c.count && ("0"..."9").contains(c[j]) { j += 1 }
                    }
                }
                let literal = String(String.UnicodeScalarView(c[i..<j]))
                if isFloat {
                    guard let d = Double(literal) else { throw .syntax("bad number \(literal)") }
                    out.append(.double(d))
                } else {
                    if literal.count > 1 && literal.hasPrefix("0") { throw .syntax("bad number \(literal)") }
                    if j < c.count && (c[j] == "l" || c[j] == "L") { j += 1 }
                    guard let v = Int64(literal) else { throw .syntax("number out of range \(literal)") }
                    out.append(.long(v))
                }
                i = j
                continue
            }
            if isIdentStart(u) {
                var j = i
                while j < c.count && isIdentPart(c[j]) { j += 1 }
                let word = String(String.UnicodeScalarView(c[i..<j]))
                let upper = word.uppercased()
                out.append(keywords.contains(upper) ? .keyword(upper) : .identifier(word))
                i = j
                continue
            }
            let two = i + 1 < c.count ? String(String.UnicodeScalarView([u, c[i + 1]])) : ""
            if ["<>", "<=", ">="].contains(two) { out.append(.symbol(two)); i += 2; continue }
            if "=<>(),+-".unicodeScalars.contains(u) { out.append(.symbol(String(u))); i += 1; continue }
            throw .syntax("unexpected character '\(u)'")
        }
        return out
    }
}

// MARK: parser (precedence low → high: OR; AND; = <> IS; > >= < <= BETWEEN IN CONTAINS…; unary + - NOT)

private struct Parser {
    let tokens: [Token]
    var i = 0

    var atEnd: Bool { i >= tokens.count }
    var peekText: String { atEnd ? "end" : "\(tokens[i])" }

    mutating func accept(_ t: Token) -> Bool {
        if !atEnd && tokens[i] == t { i += 1; return true }
        return false
    }
    mutating func keyword(_ k: String) -> Bool { accept(.keyword(k)) }
    mutating func expect(_ t: Token) throws(SQLFilterExpression.CompileError) {
        guard accept(t) else { throw .syntax("expected \(t), found \(peekText)") }
    }

    mutating func orExpr() throws(SQLFilterExpression.CompileError) -> Node {
        var n = try andExpr()
        while keyword("OR") { n = .or(n, try andExpr()) }
        return n
    }

    mutating func andExpr() throws(SQLFilterExpression.CompileError) -> Node {
        var n = try equalityExpr()
        while keyword("AND") { n = .and(n, try equalityExpr()) }
        return n
    }

    mutating func equalityExpr() throws(SQLFilterExpression.CompileError) -> Node {
        var n = try comparisonExpr()
        while true {
            if accept(.symbol("=")) { n = .compare(n, .eq, try comparisonExpr()) }
            else if accept(.symbol("<>")) { n = .compare(n, .ne, try comparisonExpr()) }
            else if keyword("IS") {
                let negated = keyword("NOT")
                try expect(.keyword("NULL"))
                n = .isNull(n, negated: negated)
            } else { return n }
        }
    }

    mutating func comparisonExpr() throws(SQLFilterExpression.CompileError) -> Node {
        var n = try unaryExpr()
        while true {
            if accept(.symbol(">")) { n = .compare(n, .gt, try unaryExpr()); continue }
            if accept(.symbol(">=")) { n = .compare(n, .ge, try unaryExpr()); continue }
            if accept(.symbol("<")) { n = .compare(n, .lt, try unaryExpr()); continue }
            if accept(.symbol("<=")) { n = .compare(n, .le, try unaryExpr()); continue }
            let save = i
            let negated = keyword("NOT")
            if keyword("BETWEEN") {
                let lo = try unaryExpr()
                try expect(.keyword("AND"))
                let hi = try unaryExpr()
                if case .constant(let a) = lo, case .constant(let b) = hi,
                   case .bool(true)? = try? Node.compare(a, .gt, b) {
                    throw .syntax("Illegal values of between, values should be in ascending order")
                }
                n = .between(n, lo, hi, negated: negated)
                continue
            }
            if keyword("IN") {
                try expect(.symbol("("))
                var list: [String] = []
                repeat {
                    guard !atEnd, case .string(let s) = tokens[i] else { throw .syntax("IN takes string literals, found \(peekText)") }
                    list.append(s); i += 1
                } while accept(.symbol(","))
                try expect(.symbol(")"))
                n = .inList(n, list, negated: negated)
                continue
            }
            let op: StringOp? = keyword("CONTAINS") ? .contains : keyword("STARTSWITH") ? .startsWith
                : keyword("ENDSWITH") ? .endsWith : nil
            if let op {
                guard !atEnd, case .string(let s) = tokens[i] else { throw .syntax("\(op) takes a string literal, found \(peekText)") }
                i += 1
                n = .stringTest(n, op, s, negated: negated)
                continue
            }
            i = save
            return n
        }
    }

    mutating func unaryExpr() throws(SQLFilterExpression.CompileError) -> Node {
        if accept(.symbol("+")) { return try unaryExpr() }
        if accept(.symbol("-")) {
            let e = try unaryExpr()
            switch e {
            case .constant(.long(let v)): return .constant(v == .min ? .double(-Double(v)) : .long(-v))
            case .constant(.double(let v)): return .constant(.double(-v))
            default: return .negate(e)
            }
        }
        if keyword("NOT") { return .not(try unaryExpr()) }
        return try primary()
    }

    mutating func primary() throws(SQLFilterExpression.CompileError) -> Node {
        guard !atEnd else { throw .syntax("unexpected end of selector") }
        let t = tokens[i]
        i += 1
        switch t {
        case .string(let s): return .constant(.string(s))
        case .long(let v): return .constant(.long(v))
        case .double(let v): return .constant(.double(v))
        case .identifier(let name): return .property(name)
        case .keyword("TRUE"): return .constant(.bool(true))
        case .keyword("FALSE"): return .constant(.bool(false))
        case .keyword("NULL"): return .constant(.null)
        case .symbol("("):
            let n = try orExpr()
            try expect(.symbol(")"))
            return n
        default: throw .syntax("unexpected \(t)")
        }
    }
}
