// SubCommand: one `mqadmin` sub-command — RocketMQ's name, one-line description, options and the body that
// runs it against an MQAdmin; CommandContext hands the body its options and admin client.
// Built in MQAdminStartup's registry; the bodies live in the *Commands.swift files.

import Admin

struct SubCommand: Sendable {
    let name: String
    let description: String
    let options: [OptionSpec]
    let run: @Sendable (CommandContext) async throws -> Void

    init(_ name: String, _ description: String, _ options: [OptionSpec],
         run: @escaping @Sendable (CommandContext) async throws -> Void) {
        self.name = name
        self.description = description
        self.options = options
        self.run = run
    }

    /// Options as parsed and printed: the command's own plus -h and -n.
    var allOptions: [OptionSpec] { options + [.help, .namesrv] }
}

struct CommandContext: Sendable {
    let command: SubCommand
    let options: ParsedOptions
    let adminClient: MQAdmin?

    /// The admin client over `-n` / NAMESRV_ADDR; throws when neither is set.
    var admin: MQAdmin {
        get throws {
            guard let adminClient, !adminClient.namesrvAddrs.isEmpty else { throw MQAdminError.noNameServer }
            return adminClient
        }
    }

    /// The admin client for requests to a controller or broker named on the command line (no NameServer needed).
    var directAdmin: MQAdmin {
        get throws {
            guard let adminClient else { throw MQAdminError.noNameServer }
            return adminClient
        }
    }

    var usage: String { Usage.text(command: command.name, specs: command.allOptions) }
}

/// Writes to stdout without a trailing newline (Java `System.out.printf`).
func out(_ s: String) { print(s, terminator: "") }
/// Writes a line to stdout.
func outln(_ s: String = "") { print(s) }
