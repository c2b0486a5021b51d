// JavaProperties: the text of a Java `.properties` file as RocketMQ's tools and servers read it (broker.conf,
// namesrv and controller configs, updateBrokerConfig bodies): `key=value` or `key: value` lines, `#` and `!`
// comments, blank lines skipped, spaces around key and value trimmed; no continuation lines.

import Foundation

public enum JavaProperties {
    /// The entries in file order (a repeated key appears twice; later wins where a map is made).
    public static func entries(_ text: String) -> [(key: String, value: String)] {
        var out: [(key: String, value: String)] = []
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("!") { continue }
            guard let sep = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                out.append((line, ""))
                continue
            }
            out.append((line[..<sep].trimmingCharacters(in: .whitespaces),
                        line[line.index(after: sep)...].trimmingCharacters(in: .whitespaces)))
        }
        return out
    }

    /// The entries as a map, the last of a repeated key winning (java.util.Properties.load).
    public static func map(_ text: String) -> [String: String] {
        Dictionary(entries(text).map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }
}
