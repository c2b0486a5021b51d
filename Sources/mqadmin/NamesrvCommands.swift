// Name-server sub-commands: updateKvConfig, deleteKvConfig, wipeWritePerm, addWritePerm (admin.md §11).
// Registered by MQAdminStartup.

import Admin

enum NamesrvCommands {
    static let all = [updateKvConfig, deleteKvConfig, wipeWritePerm, addWritePerm]

    static let updateKvConfig = SubCommand("updateKvConfig", "Create or update KV config.", [
        OptionSpec("s", "namespace", true, "set the namespace", required: true),
        OptionSpec("k", "key", true, "set the key name", required: true),
        OptionSpec("v", "value", true, "set the key value", required: true),
    ]) { ctx in
        let o = ctx.options
        try await ctx.admin.putKVConfig(namespace: try o.required("s"), key: try o.required("k"), value: try o.required("v"))
        outln("create or update kv config to namespace success.")
    }

    static let deleteKvConfig = SubCommand("deleteKvConfig", "Delete KV config.", [
        OptionSpec("s", "namespace", true, "set the namespace", required: true),
        OptionSpec("k", "key", true, "set the key name", required: true),
    ]) { ctx in
        try await ctx.admin.deleteKVConfig(namespace: try ctx.options.required("s"), key: try ctx.options.required("k"))
        outln("delete kv config from namespace success.")
    }

    static let wipeWritePerm = SubCommand("wipeWritePerm", "Wipe write perm of broker in all name server you defined in the -n param", [
        OptionSpec("b", "brokerName", true, "broker name", required: true),
    ]) { ctx in
        try await changeWritePerm(ctx, verb: "wipe") { admin, ns, name in
            try await admin.wipeWritePermOfBroker(namesrvAddr: ns, brokerName: name)
        }
    }

    static let addWritePerm = SubCommand("addWritePerm", "Add write perm of broker in all name server you defined in the -n param", [
        OptionSpec("b", "brokerName", true, "broker name", required: true),
    ]) { ctx in
        try await changeWritePerm(ctx, verb: "add") { admin, ns, name in
            try await admin.addWritePermOfBroker(namesrvAddr: ns, brokerName: name)
        }
    }

    /// Applies a write-permission change on every name server of -n, printing RocketMQ's line for each;
    /// fails (after trying them all) if any name server failed.
    private static func changeWritePerm<Count>(
        _ ctx: CommandContext, verb: String,
        _ change: (MQAdmin, String, String) async throws -> Count
    ) async throws {
        let admin = try ctx.admin
        let name = try ctx.options.required("b")
        var failed: (any Error)?
        for ns in admin.namesrvAddrs {
            do {
                let count = try await change(admin, ns, name)
                outln("\(verb) write perm of broker[\(name)] in name server[\(ns)] OK, \(count)")
            } catch {
                outln("\(verb) write perm of broker[\(name)] in name server[\(ns)] Failed")
                failed = error
            }
        }
        if let failed { throw failed }
    }
}
