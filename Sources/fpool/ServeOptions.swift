// Where a pool started by `fpool run` or `fpool demo` listens and keeps its repo.

import ArgumentParser
import Foundation
import LotusWire
import NIOCore
import PoolRuntime
import PoolServer
import RouteModel

struct ServeOptions: ParsableArguments {
    @Option(name: .long, help: "The multiaddr to serve clients on (default FPOOL_LISTEN, else /ip4/127.0.0.1/tcp/2245/http).")
    var listen: String?

    @Option(name: .customLong("max-request-bytes"), help: "Requests larger than this are refused (Lotus's default: 100 MiB).")
    var maxRequestBytes = 100 << 20

    @Option(
        name: .customLong("max-connections"),
        help:
            "Client connections served (default: 3/4 of the descriptor limit, at most 16384); 32 more serve only /healthz, /metrics and admin calls."
    )
    var maxConnections: Int?

    @Option(
        name: .customLong("max-calls-per-connection"),
        help: "Calls one websocket may have in flight; at the cap fpool stops reading it (default 2048).")
    var maxCallsPerConnection = 2048

    @Option(
        name: .customLong("max-channels-per-connection"),
        help: "Channels (ChainNotify, MpoolSub, …) one websocket may have open; past it a channel call is refused (default 64).")
    var maxChannelsPerConnection = 64

    @Option(
        name: .customLong("max-channels"),
        help: "Channels open across all connections; past it a channel call is refused (default 16384).")
    var maxChannels = 16_384

    @Option(
        name: .customLong("max-queued-bytes"),
        help: "Unwritten answers past which fpool stops reading a websocket client (default 16 MiB).")
    var maxQueuedBytes = 16 << 20

    @Option(
        name: .customLong("max-buffered-request-bytes"),
        help:
            "Bytes of requests held across all connections, unfinished or waiting for their answer (2 KiB more per call); past it a request is refused (default 256 MiB)."
    )
    var maxBufferedRequestBytes = 256 << 20

    @Option(
        name: .customLong("max-answer-bytes"),
        help:
            "The largest answer taken from a daemon; a larger one fails its own call with an error naming the limit, and the daemon's socket carries on (default 128 MiB, at least 1 MiB)."
    )
    var maxAnswerBytes = LotusWSClient.maxAnswerBytes

    @Option(
        name: .customLong("request-timeout"),
        help: "A request's head and body must arrive within this, plus 1 s per MiB (default 30s; 408 otherwise).")
    var requestTimeout = "30s"

    @Option(
        name: .long,
        help:
            "Event-loop threads serving clients and daemons (default FPOOL_THREADS, else one per core): fewer keeps fpool off the cores a miner seals or proves on."
    )
    var threads: Int?

    @Option(
        name: .customLong("tls-cert"),
        help: "Serve HTTPS and WSS with this PEM certificate chain, leaf first (default FPOOL_TLS_CERT); needs --tls-key.")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "The PEM private key of --tls-cert (default FPOOL_TLS_KEY).")
    var tlsKey: String?

    static let maxThreads = 256

    /// The certificate and key to serve TLS with, from the options or FPOOL_TLS_CERT and FPOOL_TLS_KEY; nil for
    /// plain HTTP.
    ///
    /// - Throws: `ValidationError` when only one is given or a file cannot be used, naming it.
    func tlsIdentity(_ environment: [String: String]) throws -> TLSServerIdentity? {
        let certificate = self.tlsCert.map { ("--tls-cert", $0) } ?? environment["FPOOL_TLS_CERT"].map { ("FPOOL_TLS_CERT", $0) }
        let key = self.tlsKey.map { ("--tls-key", $0) } ?? environment["FPOOL_TLS_KEY"].map { ("FPOOL_TLS_KEY", $0) }
        switch (certificate, key) {
        case (nil, nil): return nil
        case (let certificate?, nil): throw ValidationError("\(certificate.0) needs a private key: give --tls-key or FPOOL_TLS_KEY too")
        case (nil, let key?): throw ValidationError("\(key.0) needs a certificate: give --tls-cert or FPOOL_TLS_CERT too")
        case (let certificate?, let key?):
            do {
                return try TLSServerIdentity(
                    certificateFile: certificate.1, keyFile: key.1, certificateSource: certificate.0, keySource: key.0)
            } catch {
                throw ValidationError(error.description)
            }
        }
    }

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
        guard address.hostKind == .ip4 || address.hostKind == .ip6 else {
            throw ValidationError("--listen: fpool listens on an IP address, e.g. /ip4/127.0.0.1/tcp/2245/http; got '\(text)'")
        }
        let tls = try self.tlsIdentity(environment)
        if address.secure, tls == nil {
            throw ValidationError("--listen: '\(text)' asks for TLS: give --tls-cert and --tls-key (or FPOOL_TLS_CERT and FPOOL_TLS_KEY)")
        }
        guard self.maxRequestBytes >= 1024 else { throw ValidationError("--max-request-bytes must be at least 1024") }
        var configuration = ServerConfiguration(host: address.host, port: address.port, maxRequestBytes: self.maxRequestBytes)
        configuration.tls = tls
        if let maxConnections = self.maxConnections {
            guard maxConnections >= 1 else { throw ValidationError("--max-connections: expected at least 1, got \(maxConnections)") }
            configuration.maxConnections = maxConnections
        }
        guard self.maxCallsPerConnection >= 1 else {
            throw ValidationError("--max-calls-per-connection: expected at least 1, got \(self.maxCallsPerConnection)")
        }
        configuration.maxCallsInFlight = self.maxCallsPerConnection
        guard self.maxChannelsPerConnection >= 1 else {
            throw ValidationError("--max-channels-per-connection: expected at least 1, got \(self.maxChannelsPerConnection)")
        }
        configuration.maxChannelsPerConnection = self.maxChannelsPerConnection
        guard self.maxChannels >= 1 else { throw ValidationError("--max-channels: expected at least 1, got \(self.maxChannels)") }
        configuration.maxChannels = self.maxChannels
        guard self.maxQueuedBytes >= 64 << 10 else {
            throw ValidationError("--max-queued-bytes: expected at least 65536 bytes, got \(self.maxQueuedBytes)")
        }
        configuration.maxQueuedBytes = self.maxQueuedBytes
        guard self.maxBufferedRequestBytes >= self.maxRequestBytes else {
            throw ValidationError(
                "--max-buffered-request-bytes: expected at least --max-request-bytes (\(self.maxRequestBytes)), got \(self.maxBufferedRequestBytes)"
            )
        }
        configuration.maxBufferedRequestBytes = self.maxBufferedRequestBytes
        guard self.maxAnswerBytes >= 1 << 20 else {
            throw ValidationError("--max-answer-bytes: expected at least 1048576 bytes (1 MiB), got \(self.maxAnswerBytes)")
        }
        configuration.maxAnswerBytes = self.maxAnswerBytes
        let timeout: GoDuration
        do {
            timeout = try GoDuration(parsing: self.requestTimeout)
        } catch {
            throw ValidationError("--request-timeout: expected a duration such as 30s or 1m, got '\(self.requestTimeout)'")
        }
        guard timeout.milliseconds >= 100 else {
            throw ValidationError("--request-timeout: expected at least 100ms, got \(timeout)")
        }
        configuration.requestTimeout = .milliseconds(Int64(timeout.milliseconds))
        return configuration
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
