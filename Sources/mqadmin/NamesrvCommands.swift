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
        let admin = try ctx.admin
        let name = try ctx.options.required("b")
        var failed: (any Error)?
        for ns in admin.namesrvAddrs {
            do {
                let count = try await admin.wipeWritePermOfBroker(namesrvAddr: ns, brokerName: name)
                outln("wipe write perm of broker[\(name)] in name server[\(ns)] OK, \(count)")
            } catch {
                outln("wipe write perm of broker[\(name)] in name server[\(ns)] Failed")
                failed = error
            }
        }
        if let failed { throw failed }
    }

    static let addWritePerm = SubCommand("addWritePerm", "Add write perm of broker in all name server you defined in the -n param", [
        OptionSpec("b", "brokerName", true, "broker name", required: true),
    ]) { ctx in
        let admin = try ctx.admin
        let name = try ctx.options.required("b")
        var failed: (any Error)?
        for ns in admin.namesrvAddrs {
            do {
                let count = try await admin.addWritePermOfBroker(namesrvAddr: ns, brokerName: name)
                outln("add write perm of broker[\(name)] in name server[\(ns)] OK, \(count)")
            } catch {
                outln("add write perm of broker[\(name)] in name server[\(ns)] Failed")
                failed = error
            }
        }
        if let failed { throw failed }
    }
}
