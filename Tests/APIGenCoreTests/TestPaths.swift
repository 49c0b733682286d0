// Where the tests find fixtures, the shipped specs and the Lotus API documents.

import Foundation

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

    /// A product built next to the running test bundle (`apigen`, `fpool`).
    static func builtProduct(_ name: String) -> URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: name)
    }
}

/// Runs a process to completion and returns its exit code and both outputs.
func runProcess(_ executable: URL, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Drain both pipes before waiting so a large output cannot block the child.
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}
