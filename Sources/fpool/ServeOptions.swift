// Where a pool started by `fpool run` or `fpool demo` listens and keeps its repo.

import ArgumentParser
import Foundation
import NIOCore
import PoolRuntime
import PoolServer

struct ServeOptions: ParsableArguments {
    @Option(name: .long, help: "The multiaddr to serve clients on (default FPOOL_LISTEN, else /ip4/127.0.0.1/tcp/2245/http).")
    var listen: String?

    @Option(name: .customLong("max-request-bytes"), help: "Requests larger than this are refused (Lotus's default: 100 MiB).")
    var maxRequestBytes = 100 << 20

    @Option(
        name: .long,
        help:
            "Event-loop threads serving clients and daemons (default FPOOL_THREADS, else one per core): fewer keeps fpool off the cores a miner seals or proves on."
    )
    var threads: Int?

    static let maxThreads = 256

    /// Sizes NIO's shared event loops, before anything uses them (they are made once, on first use).
    ///
    /// - Throws: `ValidationError` for a count out of 1…256, or an FPOOL_THREADS that is no number.
    func applyThreads(_ environment: [String: String]) throws {
        let count: Int
        if let threads = self.threads {
            count = threads
        } else if let text = environment["FPOOL_THREADS"] {
            guard let parsed = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("FPOOL_THREADS: expected a number of threads (1…\(Self.maxThreads)), got '\(text)'")
            }
            count = parsed
        } else {
            return
        }
        guard (1...Self.maxThreads).contains(count) else {
            throw ValidationError("--threads / FPOOL_THREADS: expected 1…\(Self.maxThreads) event-loop threads, got \(count)")
        }
        NIOSingletons.groupLoopCountSuggestion = count
    }

    /// The server configuration.
    ///
    /// - Throws: `ValidationError` naming the bad multiaddr.
    func configuration(_ environment: [String: String]) throws -> ServerConfiguration {
        let text = self.listen ?? environment["FPOOL_LISTEN"] ?? "/ip4/127.0.0.1/tcp/2245/http"
        let address: Multiaddr
        do {
            address = try Multiaddr(parsing: text, listening: true)
        } catch {
            throw ValidationError("--listen: \(error)")
        }
        guard address.hostKind == .ip4 || address.hostKind == .ip6, !address.secure else {
            throw ValidationError(
                "--listen: fpool listens on an IP address over plain http/ws, e.g. /ip4/127.0.0.1/tcp/2245/http; got '\(text)'")
        }
        guard self.maxRequestBytes >= 1024 else { throw ValidationError("--max-request-bytes must be at least 1024") }
        return ServerConfiguration(host: address.host, port: address.port, maxRequestBytes: self.maxRequestBytes)
    }

    /// Log lines go to standard error, unbuffered, so they reach a pipe or journal at once —
    /// from a queue of their own: lines are logged on event loops, which a slow pipe must not stall.
    static let logSink: @Sendable (String) -> Void = { line in
        logQueue.async { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }
    static let logQueue = DispatchQueue(label: "fpool.log")

    /// Waits until every line logged so far is written: called before the process prints its
    /// last line or exits, so the final log lines ("shutting down", an error) are never lost.
    static func flushLogs() {
        logQueue.sync {}
    }
}
