// swift-tools-version: 6.1
// fpool's micro-benchmarks, kept out of the root package so that `swift build` and `swift test`
// there never fetch or build the benchmark harness. Run from the repository root with
//   cd Benchmarks && swift package --scratch-path ../.build-bench benchmark
// (see README.md in this folder).
import PackageDescription

let package = Package(
    name: "fpool-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "fpool", path: ".."),
        // 1.38.1 needs the MallocInterposer trait named here for its malloc metrics.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
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
    ],
    swiftLanguageModes: [.v6]
)
