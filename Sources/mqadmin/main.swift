// MQAdminStartup: the `mqadmin` entry point — the sub-command registry in RocketMQ's order, the command
// list, `help <cmd>`, option parsing and exit status (0 success, 1 parse error or failed command; unlike
// RocketMQ, failures are not exit 0) (admin.md §2, §5).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Admin

enum MQAdminStartup {
    /// Registration order of RocketMQ's MQAdminStartup, restricted to what Apus implements.
    static let commands: [SubCommand] =
        TopicCommands.updateAndDelete + GroupCommands.all + [BrokerCommands.updateBrokerConfig]
        + TopicCommands.routeAndStatus + [BrokerCommands.brokerStatus, BrokerCommands.haStatus] + MessageCommands.queries
        + ConnectionCommands.all + [ConsumerCommands.consumerProgress, ClusterCommands.clusterList, TopicCommands.topicList]
        + NamesrvCommands.all + [ConsumerCommands.resetOffsetByTime, BrokerCommands.getBrokerConfig]
        + MessageCommands.sendAndConsume + ControllerCommands.all

    static func find(_ name: String) -> SubCommand? {
        commands.first { $0.name.lowercased() == name.lowercased() }
    }

    static func printCommandList() {
        outln("The most commonly used mqadmin commands are:")
        for c in commands { outln("   " + l(c.name, 35) + " " + c.description) }
        outln()
        outln("See 'mqadmin help <command>' for more information on a specific command.")
    }

    static func main(_ args: [String]) async -> Int32 {
        guard let first = args.first else {
            printCommandList()
            return 0
        }
        if first == "help" {
            guard args.count > 1 else { printCommandList(); return 0 }
            guard let c = find(args[1]) else {
                outln("The sub command \(args[1]) not exist.")
                printCommandList()
                return 1
            }
            out(Usage.text(command: c.name, specs: c.allOptions))
            return 0
        }
        guard let command = find(first) else {
            outln("The sub command \(first) not exist.")
            printCommandList()
            return 1
        }
        let options: ParsedOptions
        do {
            options = try ParsedOptions.parse(Array(args.dropFirst()), specs: command.allOptions)
        } catch {
            outln(error.description)
            out(Usage.text(command: command.name, specs: command.allOptions))
            return 1
        }
        if options.has("h") {
            out(Usage.text(command: command.name, specs: command.allOptions))
            return 0
        }
        let env = getenv("NAMESRV_ADDR").map { String(cString: $0) }
        let addr = options.value("n") ?? env
        let admin: MQAdmin
        do { admin = try MQAdmin(namesrvAddr: addr ?? "", requireNameServer: false) } catch {
            printFailure(command, error)
            return 1
        }
        let context = CommandContext(command: command, options: options, adminClient: admin)
        var status: Int32 = 0
        do {
            try await command.run(context)
        } catch let e as ParseError {
            outln(e.description)
            out(context.usage)
            status = 1
        } catch {
            printFailure(command, error)
            status = 1
        }
        await admin.shutdown()
        return status
    }

    static func printFailure(_ command: SubCommand, _ error: any Error) {
        fflush(nil)
        let text = "\(command.name) command failed: \(error)\n"
        _ = text.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    }
}

let status = await MQAdminStartup.main(Array(CommandLine.arguments.dropFirst()))
fflush(nil)
exit(status)
