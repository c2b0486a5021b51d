// swift-tools-version:6.1
// Apus: a RocketMQ-compatible message broker. One package; targets follow docs/ARCHITECTURE.md.
import PackageDescription

// The message model every layer shares (RocketMQ's common/message): records decoded into MessageExt,
// property names and codec, message ids, tag hashes and subscriptions. Depends on nothing of ours.
let commonProducts: [Product] = [
    .library(name: "Common", targets: ["Common"]),
]
let commonTargets: [Target] = [
    .target(name: "Common"),
    .testTarget(name: "CommonTests", dependencies: ["Common", "ApusTestSupport"]),
]

// Store targets: the C core, the io_uring ring and the Swift MessageStore.
let storeProducts: [Product] = [
    .library(name: "Store", targets: ["Store"]),
]
let storeTargets: [Target] = [
    // C core of the store: segments, record codec, ConsumeQueue, IndexFile, checkpoint, recovery scan.
    .target(
        name: "CStore",
        cSettings: [.unsafeFlags(["-std=c11", "-O2"])],
        linkerSettings: [.linkedLibrary("z")]
    ),
    // io_uring ring for flush, preallocation and cold reads, with a plain-syscall fallback.
    .target(
        name: "CUring",
        cSettings: [.unsafeFlags(["-std=c11", "-O2"])],
        linkerSettings: [.linkedLibrary("uring")]
    ),
    // The message store in Swift over CStore and CUring.
    .target(
        name: "Store",
        dependencies: [
            "Common", "CStore", "CUring",
            .product(name: "Logging", package: "swift-log"),
        ]
    ),
    // Child process used by crash-safety tests: appends under SYNC_FLUSH and reports acknowledgements.
    .executableTarget(name: "apus-store-crasher", dependencies: ["Common", "Store", "ApusTestSupport"], path: "Tests/Helpers/StoreCrasher"),
    // Helpers shared by test targets and test helper processes (raw sockets, crash-test bodies).
    .target(name: "ApusTestSupport", dependencies: [.product(name: "NIOCore", package: "swift-nio")], path: "Tests/Support"),
    // `make bench` driver for the store, printing the machine's own bounds beside each figure.
    .executableTarget(name: "StoreBench", dependencies: ["Common", "Store", "CStore", "CUring"], path: "Benchmarks/StoreBench"),
    .testTarget(name: "StoreTests", dependencies: ["Common", "Store", "CStore", "CUring", "ApusTestSupport"]),
]

// Remoting protocol and NameServer targets.
let remotingProducts: [Product] = [
    .library(name: "Remoting", targets: ["Remoting"]),
    .library(name: "NameServer", targets: ["NameServer"]),
    .executable(name: "mqnamesrv", targets: ["mqnamesrv"]),
]
let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
]
let remotingTargets: [Target] = [
    // zlib shim for RegisterBrokerBody (java.util.zip Deflater/Inflater format).
    .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
    // RocketMQ remoting wire protocol: frames, both header serialisations, typed headers, bodies, server, client.
    .target(
        name: "Remoting",
        dependencies: nio + ["Common", "CZlib", .product(name: "Logging", package: "swift-log"),
                             .product(name: "DequeModule", package: "swift-collections")]
    ),
    // Route registry and request processors of the NameServer.
    .target(
        name: "NameServer",
        dependencies: nio + ["Common", "Remoting", .product(name: "Logging", package: "swift-log")]
    ),
    // What the commands share: the RocketMQ-style log handler (stdout + ~/logs/rocketmqlogs/*.log), stop
    // signals as a stream, line-at-a-time output for pipes.
    .target(name: "ServerSupport", dependencies: [.product(name: "Logging", package: "swift-log")]),
    // The `mqnamesrv` command.
    .executableTarget(
        name: "mqnamesrv",
        dependencies: [
            "NameServer", "Controller", "Remoting", "ServerSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]
    ),
    // `make bench` driver for remoting: header codec ns/op and NameServer route-query rate beside loopback bounds.
    .executableTarget(
        name: "RemotingBench",
        dependencies: nio + ["Remoting", "NameServer", .product(name: "Logging", package: "swift-log")],
        path: "Benchmarks/RemotingBench"
    ),
    .testTarget(
        name: "RemotingTests",
        dependencies: nio + ["Remoting", "ApusTestSupport", .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "Logging", package: "swift-log")]
    ),
    .testTarget(
        name: "NameServerTests",
        dependencies: nio + ["Remoting", "NameServer", "ApusTestSupport", .product(name: "Logging", package: "swift-log")]
    ),
]

// Controller targets (issue 11): RocketMQ's controller mode with its state in etcd (v3 JSON gateway over
// NIOHTTP1, no HTTP client dependency), the `mqcontroller` command and its real-process tests (need
// /usr/bin/etcd from Debian's etcd-server).
let controllerProducts: [Product] = [
    .library(name: "Controller", targets: ["Controller"]),
    .executable(name: "mqcontroller", targets: ["mqcontroller"]),
]
let controllerTargets: [Target] = [
    .target(
        name: "Controller",
        dependencies: nio + ["Common", "Remoting", .product(name: "NIOHTTP1", package: "swift-nio"),
                             .product(name: "Logging", package: "swift-log")]
    ),
    .executableTarget(
        name: "mqcontroller",
        dependencies: nio + [
            "Controller", "ServerSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]
    ),
    .testTarget(
        name: "ControllerTests",
        dependencies: nio + ["Controller", "Client", "Remoting", "ApusTestSupport", .product(name: "Logging", package: "swift-log")]
    ),
]

// Broker targets (issue 4): the broker library, the `mqbroker` command, its tests and the end-to-end bench.
let brokerProducts: [Product] = [
    .library(name: "Broker", targets: ["Broker"]),
    .executable(name: "mqbroker", targets: ["mqbroker"]),
]
let brokerTargets: [Target] = [
    // Processors, managers and services of the broker over Store and Remoting (never imports NameServer).
    .target(
        name: "Broker",
        dependencies: nio + ["Common", "Remoting", "Store", .product(name: "Logging", package: "swift-log")]
    ),
    // The `mqbroker` command.
    .executableTarget(
        name: "mqbroker",
        dependencies: nio + [
            "Broker", "BrokerGrpc", "Common", "Remoting", "Store", "ServerSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]
    ),
    // `make bench` end-to-end loopback driver and the quick-start producer/consumer `make run` points to.
    .executableTarget(
        name: "BrokerBench",
        dependencies: nio + ["Broker", "Common", "Remoting", "Store", .product(name: "Logging", package: "swift-log")],
        path: "Benchmarks/BrokerBench"
    ),
    .testTarget(
        name: "BrokerTests",
        dependencies: nio + ["ApusTestSupport", "Common", "Remoting", "Store", "Broker", "NameServer", .product(name: "Logging", package: "swift-log")]
    ),
]

// Client targets (issue 5): the Swift client library, its compression shims, quickstart programs, mqbench.
let clientProducts: [Product] = [
    .library(name: "Client", targets: ["Client"]),
    .executable(name: "quickstart-producer", targets: ["quickstart-producer"]),
    .executable(name: "quickstart-consumer", targets: ["quickstart-consumer"]),
    .executable(name: "mqbench", targets: ["mqbench"]),
]
let clientTargets: [Target] = [
    // zstd and lz4 (frame) for message bodies (sysFlag compression types).
    .systemLibrary(name: "CZstd", path: "Sources/CZstd"),
    .systemLibrary(name: "CLz4", path: "Sources/CLz4"),
    // Producer, PushConsumer, LitePullConsumer over one MQClientInstance (never imports Broker or Store).
    .target(
        name: "Client",
        dependencies: nio + ["Common", "Remoting", "CZlib", "CZstd", "CLz4", .product(name: "Logging", package: "swift-log")]
    ),
    // RocketMQ's quickstart programs and the benchmark tool, over Client only.
    .executableTarget(name: "quickstart-producer", dependencies: ["Client", "ServerSupport"]),
    .executableTarget(name: "quickstart-consumer", dependencies: ["Client", "ServerSupport"]),
    .executableTarget(name: "mqbench", dependencies: [
        "Client", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Histogram", package: "hdrhistogram-swift"),
    ]),
    // Real-process tests against mqnamesrv and mqbroker (process launcher from ApusTestSupport).
    .testTarget(
        name: "ClientTests",
        dependencies: nio + ["Client", "Common", "ApusTestSupport", "Remoting", .product(name: "Logging", package: "swift-log")]
    ),
]

// Admin targets (issue 5): the admin library (MQAdminExt-like operations over Remoting), the `mqadmin`
// command and its tests, which run `mqadmin` against real `mqnamesrv` and `mqbroker` processes.
let adminProducts: [Product] = [
    .library(name: "Admin", targets: ["Admin"]),
    .executable(name: "mqadmin", targets: ["mqadmin"]),
]
let adminTargets: [Target] = [
    // Admin operations shared by `mqadmin` and any future console: routes, clusters, stats, connections, messages.
    .target(
        name: "Admin",
        dependencies: nio + ["Client", "Common", "Remoting", .product(name: "Logging", package: "swift-log")]
    ),
    // The `mqadmin` command: RocketMQ's sub-command names, flags and output columns.
    .executableTarget(
        name: "mqadmin",
        dependencies: ["Admin", "Common", "Remoting"]
    ),
    .testTarget(
        name: "AdminTests",
        dependencies: nio + ["Admin", "Common", "ApusTestSupport", "Remoting", .product(name: "Logging", package: "swift-log")]
    ),
]

// gRPC targets (issue 13): RocketMQ 5.x's MessagingService inside the broker process (the proxy's "local"
// mode). GrpcAPI holds the Swift code generated from Sources/GrpcAPI/Protos (committed; generate.sh makes it
// again), BrokerGrpc the service over the Broker library; `mqbroker` starts it on grpcServerPort.
let grpcProducts: [Product] = [
    .library(name: "BrokerGrpc", targets: ["BrokerGrpc"]),
]
let grpcTargets: [Target] = [
    .target(
        name: "GrpcAPI",
        dependencies: [
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            .product(name: "GRPCCore", package: "grpc-swift-2"),
            .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
        ],
        exclude: ["Protos", "generate.sh"]
    ),
    .target(
        name: "BrokerGrpc",
        dependencies: nio + [
            "Broker", "Common", "CZlib", "Store", "Remoting", "GrpcAPI",
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            .product(name: "GRPCCore", package: "grpc-swift-2"),
            .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
            .product(name: "Logging", package: "swift-log"),
        ]
    ),
    .testTarget(
        name: "BrokerGrpcTests",
        dependencies: nio + [
            "ApusTestSupport", "Broker", "BrokerGrpc", "Common", "GrpcAPI", "Remoting", "Store",
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            .product(name: "GRPCCore", package: "grpc-swift-2"),
            .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
            .product(name: "Logging", package: "swift-log"),
        ]
    ),
]

let package = Package(
    name: "Apus",
    products: commonProducts + storeProducts + remotingProducts + controllerProducts + brokerProducts + clientProducts
        + adminProducts + grpcProducts,
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
    ],
    targets: commonTargets + storeTargets + remotingTargets + controllerTargets + brokerTargets + clientTargets
        + adminTargets + grpcTargets,
    swiftLanguageModes: [.v6]
)

// Release builds leave out the run-time exclusivity checks (a thread-local access set consulted on every
// class property and global touched: about 2% of the broker's send path). Debug and test builds keep
// them, so a violation still traps wherever the tests reach.
let cTargets: Set<String> = ["CStore", "CUring", "CZlib", "CZstd", "CLz4"]
for target in package.targets where !cTargets.contains(target.name) {
    target.swiftSettings = (target.swiftSettings ?? []) + [
        .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
    ]
}
