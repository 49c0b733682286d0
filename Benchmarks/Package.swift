// swift-tools-version: 6.1
// fpool's benchmarks, kept out of the root package so that `swift build` and `swift test`
// there never fetch or build the benchmark harness. Run from the repository root with
//   cd Benchmarks && swift package --scratch-path ../.build-bench benchmark   (micro-benchmarks)
//   bash Benchmarks/proxy/run.sh                                              (proxy: fpool vs nginx)
//   bash Benchmarks/hostile/run.sh                                            (hostile clients: fpool vs nginx)
// (see README.md in this folder).
import PackageDescription

let package = Package(
    name: "fpool-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "fpool", path: ".."),
        // 1.38.1 needs the MallocInterposer trait named here for its malloc metrics.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        // ProxyLoad: its own load client (WebSocket and HTTP/1.1 keep-alive) and latency histograms.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // Generated route-table lookup against a String-keyed Dictionary.
        .executableTarget(
            name: "RouteLookup",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "GeneratedRoutes", package: "fpool"),
                .product(name: "RouteModel", package: "fpool"),
            ],
            path: "Benchmarks/RouteLookup",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // One routing decision (lookup + policy + node pick) with 3 and 30 nodes.
        .executableTarget(
            name: "RoutingDecision",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "GeneratedRoutes", package: "fpool"),
                .product(name: "PoolRuntime", package: "fpool"),
            ],
            path: "Benchmarks/RoutingDecision",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // What the load generators share: endpoints and calls, connecting (WebSocket, HTTP), a small
        // JSON-RPC WebSocket client, /proc readings and formatting.
        .target(
            name: "LoadKit",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "LoadKit"
        ),
        // End-to-end proxy benchmark (calls/s, latency, a miner's read mix, memory, failover, channel
        // gap): direct to a simulated daemon vs through fpool vs through nginx. A plain executable driven by
        // proxy/run.sh, which starts the daemons, fpool and nginx; not a package-benchmark target
        // (its folder is not under Benchmarks/Benchmarks, so the benchmark plugin ignores it).
        .executableTarget(
            name: "ProxyLoad",
            dependencies: [
                "LoadKit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "proxy/ProxyLoad"
        ),
        // Hostile-client benchmark: one abusive pattern at a time (non-reading websocket floods,
        // unfinished bodies, trickled headers, a connection flood, deep pipelining) against fpool
        // or nginx, with the proxy's memory and a well-behaved client's latency during it. Driven
        // by hostile/run.sh.
        .executableTarget(
            name: "HostileLoad",
            dependencies: [
                "LoadKit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "hostile/HostileLoad"
        ),
        // A reference target for the proxy benchmark: a SwiftNIO byte tunnel, one upstream
        // connection per client, nothing parsed (the least a SwiftNIO proxy can do per call).
        .executableTarget(
            name: "NIOTunnel",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "proxy/NIOTunnel"
        ),
    ],
    swiftLanguageModes: [.v6]
)
