// One running fpool: the pool built from its environment, the server clients use, the repo
// files the CLI reads, and the heartbeats — as a swift-service-lifecycle service.

import Logging
import LotusWire
import NIOPosix
import PoolRuntime
import ServiceLifecycle

/// Everything `fpool run` and `fpool demo` start.
///
/// Concurrency: `start`, `run` and `stop` may be called from any task.
public final class PoolInstance: Service, Sendable {
    /// The pool routing the calls, built from the environment with the Lotus transport and this instance's telemetry.
    public let pool: Pool
    /// The client-facing server; it listens only after `start` (or `run`).
    public let server: PoolRPCServer
    /// The repo holding the JWT secret, and the `api` and `token` files `start` writes.
    public let repo: FPoolRepo
    /// The per-system log levels its loggers follow, which the admin API's `log set-level` changes.
    public let logLevels: LogLevels
    let logger: Logger

    /// Builds the pool and server; nothing listens yet.
    ///
    /// - Throws: `RepoError` when the repo's secret cannot be read or created; `TLSSetupError` when
    ///   `FPOOL_DAEMON_CA` names no usable CA file.
    public init(
        environment: PoolEnvironment, repo: FPoolRepo, configuration: ServerConfiguration, logLevels: LogLevels,
        logSink: @escaping @Sendable (String) -> Void
    ) throws {
        let secret = try repo.loadOrCreateSecret()
        let daemonTLS = try TLSDialer(caFile: environment.daemonCAFile, source: "FPOOL_DAEMON_CA")
        let metrics = PoolMetrics()
        self.logLevels = logLevels
        self.logger = logLevels.logger("rpc", sink: logSink)
        let pool = Pool.lotus(
            environment, observer: PoolTelemetry(logger: logLevels.logger("fullpool", sink: logSink), metrics: metrics),
            daemonTLS: daemonTLS, maxAnswerBytes: configuration.maxAnswerBytes)
        self.pool = pool
        self.repo = repo
        self.server = PoolRPCServer(
            pool: pool, auth: ClientAuth(secret: secret), configuration: configuration, metrics: metrics, logLevels: logLevels,
            usePool: environment.usePool, logger: self.logger)
    }

    /// Checks every node once, binds the listener and writes the repo's `api` and `token`.
    ///
    /// - Throws: the bind error, or `RepoError`.
    public func start() async throws {
        await self.pool.heartbeat()
        try await self.server.start()
        try self.repo.writeEndpoint(
            api: self.server.listenAddress, token: self.server.auth.token(upTo: .admin),
            certificatePEM: self.server.configuration.tls?.certificatePEM)
        for node in self.pool.nodes {
            self.logger.info("node \(node.name) [\(node.address)]: \(node.state)")
        }
        // Last, so that whoever waits for this line finds the repo files written.
        let threads = Array(MultiThreadedEventLoopGroup.singleton.makeIterator()).count
        self.logger.notice(
            "serving the Lotus API on \(self.server.listenAddress) (/rpc/v0, /rpc/v1; /metrics, /healthz) with \(threads) event-loop thread\(threads == 1 ? "" : "s"); repo \(self.repo.path)"
        )
    }

    /// Serves until a graceful shutdown (SIGINT/SIGTERM through a ServiceGroup) or
    /// cancellation, then answers the calls in flight and stops.
    public func run() async throws {
        if self.server.port == nil { try await self.start() }
        let heartbeats = Task { await self.pool.runHeartbeats() }
        // Memory freed after a burst (a flood from a client since closed) goes back to the system.
        let logger = self.logger
        let trims = Task {
            await HeapTrimmer().run(every: .seconds(10)) { before, after in
                logger.notice(
                    "gave \((before - after) >> 20) MiB of freed memory back to the system (resident \(before >> 20) → \(after >> 20) MiB)")
            }
        }
        try? await gracefulShutdown()
        self.logger.notice("shutting down")
        await self.server.stop()
        heartbeats.cancel()
        trims.cancel()
        await heartbeats.value
        await trims.value
        await self.pool.closeConnections()
    }
}
