// swift-tools-version:6.1
// Apus: a RocketMQ-compatible message broker. One package; targets follow docs/ARCHITECTURE.md.
import PackageDescription

let package = Package(
    name: "Apus",
    products: [
        .library(name: "Store", targets: ["Store"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
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
                "CStore", "CUring",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Child process used by crash-safety tests: appends under SYNC_FLUSH and reports acknowledgements.
        .executableTarget(name: "apus-store-crasher", dependencies: ["Store"], path: "Tests/Helpers/StoreCrasher"),
        // `make bench` driver for the store, printing the machine's own bounds beside each figure.
        .executableTarget(name: "StoreBench", dependencies: ["Store", "CStore", "CUring"], path: "Benchmarks/StoreBench"),
        .testTarget(name: "StoreTests", dependencies: ["Store", "CStore", "CUring"]),
    ],
    swiftLanguageModes: [.v6]
)
