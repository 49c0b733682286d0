// swift-tools-version: 6.1
// A small JSON-RPC proxy built with Hummingbird that embeds fpool's route table and pool: it
// shows what a proxy needs from fpool, and CI builds and tests it against fpool as it is.
import Foundation
import PackageDescription

// fpool is this repository, two folders up. SwiftPM names a package found by path after its
// folder, so the name products are taken from is read here (a clone need not be `fpool`).
let fpoolPath = "../.."
let fpool = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(fpoolPath).standardized
    .lastPathComponent.lowercased()

let package = Package(
    name: "EmbeddedProxy",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: fpoolPath),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    ],
    targets: [
        .target(
            name: "EmbeddedProxy",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PoolRuntime", package: fpool),
                .product(name: "PoolServer", package: fpool),
                .product(name: "GeneratedRoutes", package: fpool),
                .product(name: "RouteModel", package: fpool),
            ]
        ),
        .executableTarget(name: "embedded-proxy", dependencies: ["EmbeddedProxy"]),
        .testTarget(
            name: "EmbeddedProxyTests",
            dependencies: [
                "EmbeddedProxy",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "LotusSim", package: fpool),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
