// swift-tools-version: 6.1
// fpool: a Lotus daemon cluster. The layout follows docs/PRODUCT.md §1: the route-table
// vocabulary and generator depend on nothing but Swift; networking and CLI use the ecosystem.
import PackageDescription

let package = Package(
    name: "fpool",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fpool", targets: ["fpool"]),
        .executable(name: "apigen", targets: ["apigen"]),
        .library(name: "RouteModel", targets: ["RouteModel"]),
        .library(name: "GeneratedRoutes", targets: ["GeneratedRoutes"]),
        .library(name: "PoolRuntime", targets: ["PoolRuntime"]),
        // For proxies that embed the pool: the WebSocket transport to Lotus daemons
        // (`Pool.lotus`), and simulated daemons to test against (Examples/EmbeddedProxy).
        .library(name: "PoolServer", targets: ["PoolServer"]),
        .library(name: "LotusSim", targets: ["LotusSim"]),
        .plugin(name: "RouteTablePlugin", targets: ["RouteTablePlugin"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // TLS to daemons and for clients (BoringSSL); certificates for the simulator's --tls.
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // `swift package generate-documentation` for the DocC catalogs of the library products.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // The shared vocabulary the generator parses and the runtime switches on.
        .target(name: "RouteModel"),
        // Generator logic as a library: parse, validate, import Lotus docs, diff, render Swift.
        .target(name: "APIGenCore", dependencies: ["RouteModel"]),
        // Named like its product (SwiftPM issue 8831): the plugin finds it as `apigen`.
        .executableTarget(name: "apigen", dependencies: ["APIGenCore"], path: "Sources/APIGen"),
        .plugin(
            name: "RouteTablePlugin",
            capability: .buildTool(),
            dependencies: ["apigen"]
        ),
        // The route tables compiled from api-spec/ (reached through the api-spec symlink).
        .target(
            name: "GeneratedRoutes",
            dependencies: ["RouteModel"],
            exclude: ["api-spec/README.md"],
            plugins: ["RouteTablePlugin"]
        ),
        // The pool's decisions: nodes, health, policies, binding, retry, channels, settings.
        // No third-party dependency: other proxies embed it.
        .target(name: "PoolRuntime", dependencies: ["GeneratedRoutes", "RouteModel"]),
        // Lotus's wire protocol: JSON, JSON-RPC frames, error texts, JWTs, an RPC client.
        .target(
            name: "LotusWire",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Simulated Lotus daemons with fault injection, for the demo, tests and benchmarks.
        .target(
            name: "LotusSim",
            dependencies: [
                "LotusWire", "GeneratedRoutes",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Networking: the Lotus-compatible server clients use, upstream connections to
        // daemons, the admin API, metrics, graceful shutdown.
        .target(
            name: "PoolServer",
            dependencies: [
                "PoolRuntime", "LotusWire", "GeneratedRoutes",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "fpool",
            dependencies: [
                "GeneratedRoutes", "LotusSim", "PoolServer", "PoolRuntime", "LotusWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Helpers several test targets share: fpool served in front of simulated daemons,
        // and running the built executables.
        .target(
            name: "FPoolTestSupport",
            dependencies: [
                "PoolServer", "PoolRuntime", "LotusSim", "LotusWire", "RouteModel", .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/FPoolTestSupport"
        ),
        .testTarget(name: "RouteModelTests", dependencies: ["RouteModel"]),
        .testTarget(
            name: "APIGenCoreTests",
            // apigen is here so the tests can run the built tool as the plugin does.
            dependencies: ["APIGenCore", "apigen", "FPoolTestSupport"],
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "GeneratedRoutesTests", dependencies: ["GeneratedRoutes", "APIGenCore"]),
        .testTarget(
            name: "fpoolTests",
            dependencies: ["fpool", "GeneratedRoutes", "LotusWire", "LotusSim", "PoolServer", "PoolRuntime", "FPoolTestSupport"]
        ),
        .testTarget(
            name: "LotusWireTests",
            dependencies: [
                // NIO's own frame codec, to check fpool's frame reader and writer against.
                "LotusWire", .product(name: "NIOWebSocket", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
            ]),
        .testTarget(
            name: "PoolServerTests",
            dependencies: [
                "PoolServer", "PoolRuntime", "LotusSim", "LotusWire", "GeneratedRoutes", "RouteModel", "FPoolTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                // Virtual time for the timer wheel's tests.
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "PoolRuntimeTests", dependencies: ["PoolRuntime", "GeneratedRoutes", "LotusWire", "LotusSim", "FPoolTestSupport"]),
        // Seeded mutational fuzzing of the wire readers and the spec parser, in plain Swift
        // (libFuzzer needs a sanitizer build of its own); FPOOL_FUZZ_SECONDS runs it longer.
        .testTarget(name: "FuzzTests", dependencies: ["LotusWire", "APIGenCore", .product(name: "NIOCore", package: "swift-nio")]),
        .testTarget(name: "LotusSimTests", dependencies: ["LotusSim", "LotusWire", "FPoolTestSupport"], exclude: ["sim_http_check.py"]),
    ],
    swiftLanguageModes: [.v6]
)
