// SerializeType and LanguageCode: the two small enumerations carried by every frame header.
// Pure values; used by the header codecs on the event loop.

/// Header serialisation, the top byte of the header word (spec remoting.md §1.1).
public enum SerializeType: UInt8, Sendable, Hashable {
    case json = 0
    case rocketmq = 1

    /// Name written in `serializeTypeCurrentRPC` (§3.1).
    public var name: String { self == .json ? "JSON" : "ROCKETMQ" }
}

/// Language of the sender (spec remoting.md §2.3). Unknown values are kept, not dropped.
public struct LanguageCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let java = LanguageCode(rawValue: 0)
    public static let cpp = LanguageCode(rawValue: 1)
    public static let dotnet = LanguageCode(rawValue: 2)
    public static let python = LanguageCode(rawValue: 3)
    public static let delphi = LanguageCode(rawValue: 4)
    public static let erlang = LanguageCode(rawValue: 5)
    public static let ruby = LanguageCode(rawValue: 6)
    public static let other = LanguageCode(rawValue: 7)
    public static let http = LanguageCode(rawValue: 8)
    public static let go = LanguageCode(rawValue: 9)
    public static let php = LanguageCode(rawValue: 10)
    public static let oms = LanguageCode(rawValue: 11)
    public static let rust = LanguageCode(rawValue: 12)
    public static let nodeJS = LanguageCode(rawValue: 13)

    static let names: [String] = [
        "JAVA", "CPP", "DOTNET", "PYTHON", "DELPHI", "ERLANG", "RUBY", "OTHER", "HTTP", "GO", "PHP", "OMS", "RUST",
        "NODE_JS",
    ]

    /// The Java enum name; unknown ordinals are written as OTHER (a name every Java version knows).
    public var name: String { Int(rawValue) < Self.names.count ? Self.names[Int(rawValue)] : "OTHER" }
    public var description: String { name }

    /// Case-insensitive lookup as fastjson does; nil for an unknown name (§2.3).
    public init?(name: String) {
        let upper = name.uppercased()
        guard let index = Self.names.firstIndex(of: upper) else { return nil }
        self.rawValue = UInt8(index)
    }
}
