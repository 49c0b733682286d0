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
        let child = try ChildProcess(executable, arguments, environment: environment)
        // Drain both pipes before waiting so a large output cannot block the child.
        let stderrData = Mutex(Data())
        let drained = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let data = child.errors?.readDataToEndOfFile() ?? Data()
            stderrData.withLock { $0 = data }
            drained.signal()
        }
        let stdout = child.output.readDataToEndOfFile()
        drained.wait()
        let status = child.waitForExit()
        return ProcessOutcome(
            status: status, stdout: String(decoding: stdout, as: UTF8.self),
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
