// fpool's listener: Lotus JSON-RPC on /rpc/v0 and /rpc/v1 over HTTP POST and WebSocket,
// plus /metrics and /healthz; graceful stop that answers the calls in flight first.

import Foundation
import Logging
import LotusWire
import NIOCore
import NIOHTTP1
import NIOPosix
import PoolRuntime
import RouteModel
import Synchronization

/// Serves clients through a `Pool`.
///
/// Concurrency: all methods may be called from any task.
public final class PoolRPCServer: Sendable {
    /// The pool every client call is routed through.
    public let pool: Pool
    /// Checks client tokens and signs the admin token the repo's `token` file holds.
    public let auth: ClientAuth
    /// The listen address and client limits, fixed for the server's life.
    public let configuration: ServerConfiguration
    /// The figures `/metrics` serves; pass the same instance the pool's `PoolTelemetry` writes to.
    public let metrics: PoolMetrics
    let logger: Logger
    let runner: ClientCallRunner
    let inflight = InflightCalls()
    let budget: ClientConnectionBudget
    let bodyBudget: SharedBudget
    /// Channels open across every connection (`maxChannels`).
    let channelBudget: SharedBudget
    /// Websocket answers waiting, unframed, for clients over their write bound (a count).
    let answersWaiting = SharedBudget(limit: .max)
    let listener = Mutex<ConnectionListener<any Channel>?>(nil)
    private let boundPort = BoundPort()

    /// A server for `pool`; nothing listens until `start`.
    ///
    /// - Parameters:
    ///   - logLevels: the table the admin API's `log set-level` changes.
    ///   - usePool: false when the pool passes through to a single daemon (`FULLNODE_API_USE_POOL=false`), as the
    ///     admin API's AuthPoolInfo reports it.
    ///   - logger: the `rpc` system's logger, for connection and shutdown events.
    public init(
        pool: Pool, auth: ClientAuth, configuration: ServerConfiguration, metrics: PoolMetrics, logLevels: LogLevels, usePool: Bool = true,
        logger: Logger
    ) {
        self.pool = pool
        self.auth = auth
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        self.budget = ClientConnectionBudget(cap: configuration.maxConnections, reserve: configuration.connectionReserve)
        // One request of the largest size, with its call's own part, always fits.
        self.bodyBudget = SharedBudget(
            limit: max(configuration.maxBufferedRequestBytes, HeldRequestCharge.of(requestBytes: configuration.maxRequestBytes)))
        self.channelBudget = SharedBudget(limit: configuration.maxChannels)
        let address = ClientAddress(host: configuration.host, secure: configuration.tls != nil)
        let boundPort = self.boundPort
        let admin = AdminAPI(
            pool: pool, auth: auth,
            remoteAddress: { override throws(RPCError) in
                try address.remote(port: boundPort.value.load(ordering: .relaxed), override: override)
            },
            logLevels: logLevels, usePool: usePool, metrics: metrics)
        self.runner = ClientCallRunner(pool: pool, admin: admin, metrics: metrics)
    }

    /// The bound port (after `start`).
    public var port: Int? { self.listener.withLock { $0 }?.port }

    /// The port, readable by the admin API without the server's lock.
    final class BoundPort: Sendable {
        let value = Atomic<Int>(0)
    }

    /// The multiaddr clients on this host use: `/ip4/127.0.0.1/tcp/2245/http` (loopback when listening on a
    /// wildcard address).
    public var listenAddress: String { self.clientAddress.local(port: self.port ?? self.configuration.port) }

    var clientAddress: ClientAddress { ClientAddress(host: self.configuration.host, secure: self.configuration.tls != nil) }

    /// Binds the listener.
    ///
    /// - Throws: the bind error (address in use, …).
    public func start() async throws {
        let listener = try await ConnectionListener<any Channel>(
            host: self.configuration.host, port: self.configuration.port, backlog: 1024, configure: { try self.configure($0) })
        // Stored before the first connection is served: an upgrade marks its connection a
        // websocket on it, and reads from it whether the server is stopping.
        self.listener.withLock { $0 = listener }
        listener.serve({ await self.serve($0) }, ended: { self.logger.debug("listener ended: \($0)") })
        let port = listener.port
        self.boundPort.value.store(port, ordering: .relaxed)
        self.logger.debug("listening on \(self.listenAddress)")
    }

    /// Stops accepting, waits (up to the configured grace) for calls in flight to be answered,
    /// says goodbye to every websocket once its answers are written, then closes every connection.
    public func stop() async {
        let deadline = ContinuousClock.now + self.configuration.shutdownGrace
        let listener = self.listener.withLock { $0 }
        await listener?.stopAccepting()
        let waiting = self.inflight.count
        if waiting > 0 { self.logger.notice("waiting for \(waiting) call(s) in flight before stopping") }
        let inflight = self.inflight
        let drained = await Self.finished(by: deadline) { await inflight.waitUntilIdle() }
        if !drained {
            self.logger.warning("\(self.inflight.count) call(s) still in flight after \(self.configuration.shutdownGrace); closing")
        }
        // An answer counts as given once queued: a large one to a slow reader may still be on
        // its way. Each websocket stops reading, answers what it started since, and closes
        // after a close frame (1001, going away) that follows all of it.
        let sockets = listener?.openConnections(websocket: true) ?? []
        for socket in sockets { socket.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent()) }
        let closed = await Self.finished(by: deadline) {
            for socket in sockets { try? await socket.closeFuture.get() }
            // HTTP requests started meanwhile on keep-alive connections: answered and written.
            await inflight.waitUntilIdle()
        }
        if drained, !closed {
            self.logger.warning(
                "client connections still answering calls or writing answers after \(self.configuration.shutdownGrace); closing")
        }
        await listener?.closeAll()
    }

    /// Runs `body` until it returns or `deadline` passes; true when it returned in time. At the
    /// deadline, or when the stop is cancelled, it returns at once, even if `body` ignores
    /// cancellation (a channel's close future does).
    private static func finished(by deadline: ContinuousClock.Instant, _ body: @escaping @Sendable () async -> Void) async -> Bool {
        let race = DeadlineRace<Bool>()
        return await withTaskCancellationHandler {
            await race.run {
                await body()
                return true
            } timer: {
                try? await Task.sleep(until: deadline)
                return Task.isCancelled ? nil : false
            }
        } onCancel: {
            race.settle(false)
        }
    }

    /// Open client connections.
    public var connectionCount: Int { self.listener.withLock { $0 }?.connectionCount ?? 0 }

    var clientFigures: PoolMetrics.ClientFigures {
        .init(connections: self.connectionCount, requestBytesHeld: self.bodyBudget.held, answersWaiting: self.answersWaiting.held)
    }

    /// Every connection starts as HTTP/1.1; a WebSocket upgrade, on its first request or a
    /// later one, is made by its `ClientHTTPHandler` (NIO's upgrade handler serves only a first
    /// request, and drops the head of a request that asks for a protocol it has no upgrader for).
    private func configure(_ channel: any Channel) throws -> EventLoopFuture<any Channel> {
        let (admission, evicted) = self.budget.admit()
        if let evicted {
            self.metrics.clientConnectionEvicted()
            evicted.close(promise: nil)
        }
        guard admission != .refused else {
            // Closed before anything is read: a flood of connections costs a descriptor for a
            // moment each, never the daemons' heartbeats.
            self.metrics.clientConnectionRefused()
            channel.close(promise: nil)
            return channel.eventLoop.makeSucceededFuture(channel)
        }
        let budget = self.budget
        channel.closeFuture.whenComplete { _ in budget.release(channel) }
        let configuration = self.configuration
        var limits = ClientHTTPLimits(
            idleTimeout: TimeAmount(configuration.idleTimeout), requestTimeout: TimeAmount(configuration.requestTimeout),
            minBytesPerSecond: configuration.minRequestBytesPerSecond, maxRequestBytes: configuration.maxRequestBytes)
        // A reserve connection is for a quick look (a health check sends its request at once):
        // one that sends nothing for 2 s makes room for the next.
        if admission == .reserve {
            limits.idleTimeout = min(limits.idleTimeout, .seconds(2))
            limits.maxSilence = min(limits.maxSilence, .seconds(2))
        }
        let metrics = self.metrics
        // A reserve connection is never closed to make room: it is an operator's quick look.
        let evictable = admission != .reserve
        let logger = self.logger
        let connection = ClientHTTPConnectionHandler(
            limits: limits, timedOut: { metrics.clientRequestTimedOut() },
            slowReader: { logger.notice("closing an HTTP connection whose client did not read its answer in time") },
            idle: { waiting in if evictable { budget.setIdle(channel, waiting: waiting) } })
        let pipeline = channel.pipeline.syncOperations
        // TLS first: the slow-client and idle guards behind it count what the client really sent.
        try self.configuration.tls?.secure(channel)
        try pipeline.addHandler(connection)
        try pipeline.addHandler(HTTPResponseEncoder())
        // Bytes after an upgrade request (a client's first frames) go on to the websocket handler.
        try pipeline.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)))
        try pipeline.addHandler(HTTPServerPipelineHandler())
        try pipeline.addHandler(NIOHTTPResponseHeadersValidator())
        try pipeline.addHandler(HTTPServerProtocolErrorHandler())
        try pipeline.addHandler(ClientHTTPHandler(server: self, connection: connection, reserve: admission == .reserve, channel: channel))
        return channel.eventLoop.makeSucceededFuture(channel)
    }

    /// Makes an upgraded connection a client websocket (on its event loop, the HTTP handlers
    /// gone): its write bound, its own lifecycle instead of the HTTP pipeline's, and the session
    /// that serves its calls.
    func serveWebSocket(_ channel: any Channel, version: APIVersion, grant: ClientGrant) throws {
        // Past this much unwritten, writability drops and the handler stops reading the client.
        let limit = max(2, self.configuration.maxQueuedBytes)
        guard let options = channel.syncOptions else { throw ChannelError.operationUnsupported }
        try options.setOption(
            ChannelOptions.writeBufferWaterMark, value: ChannelOptions.Types.WriteBufferWaterMark(low: limit / 2, high: limit))
        let session = ClientWebSocketSession(
            router: ClientRequestRouter(version: version, grant: grant, channelsSupported: true),
            runner: self.runner, inflightCalls: self.inflight, logger: self.logger, connection: channel,
            channelLimits: ChannelLimits(perConnection: self.configuration.maxChannelsPerConnection, shared: self.channelBudget),
            requestBudget: self.bodyBudget)
        // A request over the limit closes the socket (1009), whether it comes as one frame or as
        // continuation frames (clients split requests over 4096 bytes).
        try channel.pipeline.syncOperations.addHandler(
            ClientWebSocketHandler(
                requests: session,
                limits: ClientWebSocketLimits(
                    maxRequestBytes: self.configuration.maxRequestBytes, maxCallsInFlight: self.configuration.maxCallsInFlight,
                    idleTimeout: self.configuration.idleTimeout, slowClientGrace: self.configuration.slowClientGrace,
                    requestTimeout: self.configuration.requestTimeout,
                    minRequestBytesPerSecond: self.configuration.minRequestBytesPerSecond),
                bodyBudget: self.bodyBudget, answersWaiting: self.answersWaiting))
    }

    static func route(_ head: HTTPRequestHead) -> APIVersion? {
        switch head.uri.split(separator: "?").first ?? "" {
        case "/rpc/v0": .v0
        case "/rpc/v1": .v1
        default: nil
        }
    }

    /// The request's grant, from `Authorization: Bearer …` or, as Lotus also accepts, a
    /// `?token=…` query parameter.
    func grant(_ head: HTTPRequestHead) -> ClientGrant? {
        if let header = head.headers.first(name: "Authorization") { return self.auth.grant(authorization: header) }
        let query = head.uri.split(separator: "?", maxSplits: 1).dropFirst().first ?? ""
        for pair in query.split(separator: "&") where pair.hasPrefix("token=") {
            let token = String(pair.dropFirst("token=".count)).removingPercentEncoding ?? ""
            return self.auth.grant(authorization: "Bearer " + token)
        }
        return self.auth.grant(authorization: nil)
    }

    private func serve(_ accepted: EventLoopFuture<any Channel>) async {
        do {
            // Each connection is served by its handlers; this only keeps it registered until it
            // closes (a websocket once upgraded: see `ConnectionListener.upgraded`).
            let channel = try await accepted.get()
            try await self.tracking(channel, websocket: false) { try await channel.closeFuture.get() }
        } catch {
            self.logger.debug("connection ended: \(error)")
        }
    }

    private func tracking(_ channel: any Channel, websocket: Bool, _ body: () async throws -> Void) async throws {
        guard let listener = self.listener.withLock({ $0 }) else { return }
        try await listener.track(channel, websocket: websocket, body)
    }
}
