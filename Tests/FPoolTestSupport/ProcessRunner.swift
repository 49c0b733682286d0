// Runs built executables (`fpool`, `apigen`) as an operator or the build would, for the
// test targets that check whole programs.

import Foundation
import Synchronization

/// What a finished process printed and returned.
public struct ProcessOutcome: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

public enum ProcessRunner {
    /// A product built next to the running test bundle (`apigen`, `fpool`).
    public static func builtProduct(_ name: String) -> URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: name)
    }

    /// Runs a process to completion, blocking the calling thread; for synchronous tests.
    public static func runBlocking(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil) throws -> ProcessOutcome
    {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Drain both pipes before waiting so a large output cannot block the child.
        let stderrData = Mutex(Data())
        let drained = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            stderrData.withLock { $0 = err.fileHandleForReading.readDataToEndOfFile() }
            drained.signal()
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        drained.wait()
        process.waitUntilExit()
        return ProcessOutcome(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderrData.withLock { $0 }, as: UTF8.self))
    }

    /// Runs a process on a plain thread, so that its blocking reads never occupy the Swift
    /// concurrency pool (an in-process server the process talks to keeps running).
    public static func run(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil) async throws -> ProcessOutcome {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try Self.runBlocking(executable, arguments, environment: environment) })
            }
        }
    }
}
