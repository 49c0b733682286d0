// Where the tests find fixtures, the shipped specs and the Lotus API documents.

import Foundation
import FPoolTestSupport

enum TestPaths {
    /// The package root, found from this file's path.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = packageRoot.appending(path: "Tests/APIGenCoreTests/Fixtures")
    static let apiSpec = packageRoot.appending(path: "api-spec")
    /// `../shared/lotus-api`, beside the checkout (as on developer machines and in CI).
    static let lotusAPI = packageRoot.deletingLastPathComponent().appending(path: "shared/lotus-api")

    static func text(_ url: URL) throws -> String {
        try String(contentsOf: url, encoding: .utf8)
    }

    static func lotus(_ release: String, _ file: String) -> URL {
        lotusAPI.appending(path: release).appending(path: file)
    }
}

/// Runs a built tool to completion (the shared runner).
func runProcess(_ executable: URL, _ arguments: [String]) throws -> ProcessOutcome {
    try ProcessRunner.runBlocking(executable, arguments)
}
