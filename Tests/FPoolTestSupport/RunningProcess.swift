// A long-running command (`fpool run`, `fpool demo`, `fpool sim`) started by a test: its
// output read line by line on a plain thread, awaited by content, interrupted like Ctrl-C.

import Foundation
import Synchronization

public final class RunningProcess: Sendable {
    private struct Lines {
        var text = ""
        var ended = false
        var waiters: [(needle: String, continuation: CheckedContinuation<String, Never>)] = []
    }

    private let process: ChildProcess
    private let output = Mutex(Lines())

    /// Starts `executable`; standard output and standard error are read together.
    public init(_ executable: URL, _ arguments: [String], environment: [String: String]) throws {
        self.process = try ChildProcess(executable, arguments, environment: environment, mergingErrors: true)
        let handle = self.process.output
        // Blocking reads stay off the Swift concurrency pool.
        Thread.detachNewThread { self.read(handle) }
    }

    private func read(_ handle: FileHandle) {
        while true {
            let chunk = handle.availableData
            let ready = self.output.withLock { lines -> [(CheckedContinuation<String, Never>, String)] in
                if chunk.isEmpty { lines.ended = true } else { lines.text += String(decoding: chunk, as: UTF8.self) }
                let text = lines.text
                let ended = lines.ended
                let ready = lines.waiters.filter { ended || text.contains($0.needle) }
                lines.waiters.removeAll { ended || text.contains($0.needle) }
                return ready.map { ($0.continuation, text) }
            }
            for (continuation, text) in ready { continuation.resume(returning: text) }
            if chunk.isEmpty { return }
        }
    }

    /// Everything printed so far once `needle` appears (or the output ends without it).
    /// Returns what was printed so far when the test is cancelled (its time limit passed).
    public func output(containing needle: String) async -> String {
        await untilCancelled(
            {
                await withCheckedContinuation { continuation in
                    let ready = self.output.withLock { lines -> String? in
                        if lines.ended || lines.text.contains(needle) { return lines.text }
                        lines.waiters.append((needle, continuation))
                        return nil
                    }
                    if let ready { continuation.resume(returning: ready) }
                }
            }, cancelled: { self.output.withLock { $0.text } })
    }

    /// Sends SIGINT, as Ctrl-C does.
    public func interrupt() { self.process.send(SIGINT) }

    /// Waits for the process to end (on a plain thread) and returns its exit status; -1 when
    /// the test is cancelled first (its time limit passed).
    public func exitStatus() async -> Int32 {
        await untilCancelled(
            {
                await withCheckedContinuation { continuation in
                    Thread.detachNewThread { [process = self.process] in continuation.resume(returning: process.waitForExit()) }
                }
            }, cancelled: { -1 })
    }

    /// Stops the process if it still runs (for cleanup after a failed test), and reaps it.
    public func terminate() {
        guard !self.process.hasExited else { return }
        self.process.send(SIGTERM)
        Thread.detachNewThread { [process = self.process] in _ = process.waitForExit() }
    }
}
