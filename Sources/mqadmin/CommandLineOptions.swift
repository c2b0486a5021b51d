// Option specs, the commons-cli-like parser and the `usage:` text of one `mqadmin` sub-command
// (admin.md §2). Used by MQAdminStartup before a sub-command runs.

struct OptionSpec: Sendable {
    let short: String
    let long: String
    let hasArg: Bool
    let required: Bool
    let description: String

    init(_ short: String, _ long: String, _ hasArg: Bool, _ description: String, required: Bool = false) {
        self.short = short
        self.long = long
        self.hasArg = hasArg
        self.required = required
        self.description = description
    }

    static let help = OptionSpec("h", "help", false, "Print help")
    static let namesrv = OptionSpec("n", "namesrvAddr", true,
                                    "Name server address list, eg: '192.168.0.1:9876;192.168.0.2:9876'")
}

struct ParseError: Error, CustomStringConvertible {
    let description: String
}

/// Parsed options of one invocation, looked up by short name.
struct ParsedOptions: Sendable {
    var values: [String: String] = [:]
    var flags: Set<String> = []

    func has(_ short: String) -> Bool { values[short] != nil || flags.contains(short) }
    /// The trimmed value, or nil.
    func value(_ short: String) -> String? {
        values[short].map { String($0.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed()) }
    }
    func required(_ short: String) throws -> String {
        guard let v = value(short) else { throw ParseError(description: "Missing required option: \(short)") }
        return v
    }
    func int32(_ short: String, default d: Int32) throws -> Int32 {
        guard let v = value(short) else { return d }
        guard let n = Int32(v) else { throw ParseError(description: "option -\(short): \(v) is not a number") }
        return n
    }
    func int64(_ short: String, default d: Int64) throws -> Int64 {
        guard let v = value(short) else { return d }
        guard let n = Int64(v) else { throw ParseError(description: "option -\(short): \(v) is not a number") }
        return n
    }
    /// Java `Boolean.parseBoolean`: true only for "true" (any case).
    func bool(_ short: String, default d: Bool) -> Bool {
        guard let v = value(short) else { return d }
        return v.lowercased() == "true"
    }

    static func parse(_ args: [String], specs: [OptionSpec]) throws(ParseError) -> ParsedOptions {
        var out = ParsedOptions()
        var i = 0
        while i < args.count {
            let arg = args[i]
            i += 1
            var name: String
            var inline: String?
            if arg.hasPrefix("--") {
                name = String(arg.dropFirst(2))
                if let eq = name.firstIndex(of: "=") {
                    inline = String(name[name.index(after: eq)...])
                    name = String(name[..<eq])
                }
                guard let spec = specs.first(where: { $0.long == name }) else {
                    throw ParseError(description: "Unrecognized option: \(arg)")
                }
                name = spec.short
            } else if arg.hasPrefix("-") && arg.count > 1 {
                let body = String(arg.dropFirst())
                if specs.contains(where: { $0.short == body }) {
                    name = body
                } else if let spec = specs.first(where: { $0.hasArg && body.hasPrefix($0.short) }) {
                    name = spec.short
                    inline = String(body.dropFirst(spec.short.count))
                } else {
                    throw ParseError(description: "Unrecognized option: \(arg)")
                }
            } else {
                continue  // commons-cli keeps stray arguments; sub-commands ignore them
            }
            guard let spec = specs.first(where: { $0.short == name }) else { continue }
            if spec.hasArg {
                if let inline {
                    out.values[name] = inline
                } else {
                    guard i < args.count else { throw ParseError(description: "Missing argument for option: \(name)") }
                    out.values[name] = args[i]
                    i += 1
                }
            } else {
                out.flags.insert(name)
            }
        }
        if !out.flags.contains("h"), let missing = specs.first(where: { $0.required && !out.has($0.short) }) {
            throw ParseError(description: "Missing required option: \(missing.short)")
        }
        return out
    }
}

enum Usage {
    /// commons-cli `HelpFormatter` layout (width 110): a usage line, then one line per option sorted by name.
    static func text(command: String, specs: [OptionSpec]) -> String {
        let sorted = specs.sorted { $0.short.lowercased() < $1.short.lowercased() }
        var line = "usage: mqadmin \(command)"
        for s in sorted {
            let item = s.hasArg ? "-\(s.short) <arg>" : "-\(s.short)"
            line += s.required ? " \(item)" : " [\(item)]"
        }
        let lefts = sorted.map { " -\($0.short),--\($0.long)\($0.hasArg ? " <arg>" : "")" }
        let width = (lefts.map(\.count).max() ?? 0) + 3
        var out = wrap(line, width: 110, indent: "       ") + "\n"
        for (left, s) in zip(lefts, sorted) {
            out += left + String(repeating: " ", count: width - left.count) + s.description + "\n"
        }
        return out
    }

    static func wrap(_ text: String, width: Int, indent: String) -> String {
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            if !current.isEmpty && current.count + 1 + word.count > width {
                lines.append(current)
                current = indent + word
            } else {
                current = current.isEmpty ? String(word) : current + " " + word
            }
        }
        lines.append(current)
        return lines.joined(separator: "\n")
    }
}
