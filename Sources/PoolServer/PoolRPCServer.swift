// fpool's listener: Lotus JSON-RPC on /rpc/v0 and /rpc/v1 over HTTP POST and WebSocket,
// plus /metrics and /healthz; graceful stop that answers the calls in flight first.

import Foundation
import Logging
import LotusWire
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import PoolRuntime
import RouteModel
import Synchronization

/// Serves clients through a `Pool`.
///
/// Concurrency: all methods may be called from any task.
public final class PoolRPCServer: Sendable {
    enum Upgrade: Sendable {
        /// Served by its `ClientWebSocketHandler` from the moment of the upgrade.
        case websocket(any Channel)
        case http(NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, ConnectionActivity)
    }

    public let pool: Pool
    public let auth: ClientAuth
    public let configuration: ServerConfiguration
    public let metrics: PoolMetrics
    let logger: Logger
    let runner: ClientCallRunner
    let inflight = InflightCalls()
    private let listener = Mutex<ConnectionListener<Upgrade>?>(nil)
    private let boundPort = BoundPort()

    public init(
        pool: Pool, auth: ClientAuth, configuration: ServerConfiguration, metrics: PoolMetrics, logLevels: LogLevels, usePool: Bool = true,
        logger: Logger
    ) {
        self.pool = pool
        self.auth = auth
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        let host = configuration.host
        let boundPort = self.boundPort
        let admin = AdminAPI(
            pool: pool, auth: auth, listenAddress: { Self.multiaddr(host: host, port: boundPort.value.load(ordering: .relaxed)) },
            logLevels: logLevels, usePool: usePool)
        self.runner = ClientCallRunner(pool: pool, admin: admin, metrics: metrics)
    }

    /// The bound port (after `start`).
    public var port: Int? { self.listener.withLock { $0 }?.port }

    /// The port, readable by the admin API without the server's lock.
    final class BoundPort: Sendable {
        let value = Atomic<Int>(0)
    }

    /// The multiaddr clients use: `/ip4/127.0.0.1/tcp/2245/http`.
    public var listenAddress: String { Self.multiaddr(host: self.configuration.host, port: self.port ?? self.configuration.port) }

    static func multiaddr(host: String, port: Int) -> String {
        "/\(host.contains(":") ? "ip6" : "ip4")/\(host)/tcp/\(port)/http"
    }

    /// Binds the listener.
    ///
    /// - Throws: the bind error (address in use, …).
    public func start() async throws {
        let listener = try await ConnectionListener<Upgrade>(
            host: self.configuration.host, port: self.configuration.port, backlog: 1024, configure: { try self.configure($0) })
        // Stored before the first connection is served: upgrades record refusals on it.
        self.listener.withLock { $0 = listener }
        listener.serve({ await self.serve($0) }, ended: { self.logger.debug("listener ended: \($0)") })
        let port = listener.port
        self.boundPort.value.store(port, ordering: .relaxed)
        self.logger.debug("listening on \(self.listenAddress)")
    }

    /// Stops accepting, waits (up to the configured grace) for calls in flight to be answered,
    /// then closes every connection.
    public func stop() async {
        let listener = self.listener.withLock { $0 }
        await listener?.stopAccepting()
        let waiting = self.inflight.count
        if waiting > 0 { self.logger.notice("waiting for \(waiting) call(s) in flight before stopping") }
        let inflight = self.inflight
        let drained = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await inflight.waitUntilIdle()
                return true
            }
            group.addTask {
                try? await Task.sleep(for: self.configuration.shutdownGrace)
                return false
            }
            defer { group.cancelAll() }
            return await group.next() ?? false
        }
        if !drained {
            self.logger.warning("\(self.inflight.count) call(s) still in flight after \(self.configuration.shutdownGrace); closing")
        }
        await listener?.closeAll()
    }

    /// Open client connections.
    public var connectionCount: Int { self.listener.withLock { $0 }?.connectionCount ?? 0 }

    private func configure(_ channel: any Channel) throws -> EventLoopFuture<Upgrade> {
        let idle = TimeAmount.nanoseconds(
            Int64(self.configuration.idleTimeout.components.seconds) * 1_000_000_000
                + Int64(self.configuration.idleTimeout.components.attoseconds / 1_000_000_000))
        // A connection waiting for an answer or holding a channel is busy, not idle.
        let activity = ConnectionActivity()
        try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idle))
        try channel.pipeline.syncOperations.addHandler(IdleCloser(activity: activity))
        let upgrader = NIOTypedWebSocketServerUpgrader<Upgrade>(
            // A single frame over the request limit closes the socket (1009); fragmented
            // messages are bounded by the aggregator below.
            maxFrameSize: min(self.configuration.maxRequestBytes, 1 << 24),
            shouldUpgrade: { channel, head in
                // A refused upgrade falls through to the HTTP handler, which answers 401/404.
                guard let listener = self.listener.withLock({ $0 }) else { return channel.eventLoop.makeSucceededFuture(nil) }
                return listener.upgradeAnswer(channel, pathKnown: Self.route(head) != nil, authorized: self.permissions(head) != nil)
            },
            upgradePipelineHandler: { channel, head in
                channel.eventLoop.makeCompletedFuture {
                    // Writability drops past this: the session's handler then closes the client.
                    let limit = max(2, self.configuration.maxQueuedBytes)
                    try channel.syncOptions?.setOption(
                        ChannelOptions.writeBufferWaterMark, value: ChannelOptions.Types.WriteBufferWaterMark(low: limit / 2, high: limit))
                    // Clients split requests over 4096 bytes into continuation frames.
                    try channel.pipeline.syncOperations.addHandler(
                        NIOWebSocketFrameAggregator(
                            minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 1 << 20,
                            maxAccumulatedFrameSize: self.configuration.maxRequestBytes))
                    let session = ClientWebSocketSession(
                        router: ClientRequestRouter(
                            version: Self.route(head) ?? .v1, permissions: self.permissions(head) ?? [.read], channelsSupported: true),
                        runner: self.runner, inflightCalls: self.inflight, activity: activity, logger: self.logger, connection: channel)
                    try channel.pipeline.syncOperations.addHandler(ClientWebSocketHandler(session: session))
                    return Upgrade.websocket(channel)
                }
            })
        let configuration = NIOTypedHTTPServerUpgradeConfiguration<Upgrade>(
            upgraders: [upgrader],
            notUpgradingCompletionHandler: { channel in
                channel.eventLoop.makeCompletedFuture {
                    Upgrade.http(
                        try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel), activity)
                }
            })
        return try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(
            configuration: .init(upgradeConfiguration: configuration))
    }

    static func route(_ head: HTTPRequestHead) -> APIVersion? {
        switch head.uri.split(separator: "?").first ?? "" {
        case "/rpc/v0": .v0
        case "/rpc/v1": .v1
        default: nil
        }
    }

    /// The request's permissions, from `Authorization: Bearer …` or, as Lotus also accepts,
    /// a `?token=…` query parameter.
    private func permissions(_ head: HTTPRequestHead) -> Set<Perm>? {
        if let header = head.headers.first(name: "Authorization") { return self.auth.permissions(authorization: header) }
        let query = head.uri.split(separator: "?", maxSplits: 1).dropFirst().first ?? ""
        for pair in query.split(separator: "&") where pair.hasPrefix("token=") {
            let token = String(pair.dropFirst("token=".count)).removingPercentEncoding ?? ""
            return self.auth.permissions(authorization: "Bearer " + token)
        }
        return self.auth.permissions(authorization: nil)
    }

    private func serve(_ upgrade: EventLoopFuture<Upgrade>) async {
        do {
            switch try await upgrade.get() {
            case .websocket(let channel):
                try await self.tracking(channel, websocket: true) { try await channel.closeFuture.get() }
            case .http(let http, let activity):
                // The connection's requests are read, routed and answered on its event loop, with
                // that loop's upstream sockets: no thread hop inside fpool.
                try await withTaskExecutorPreference(EventLoopTaskExecutor(eventLoop: http.channel.eventLoop)) {
                    try await self.tracking(http.channel, websocket: false) { try await self.serveHTTP(http, activity: activity) }
                }
            }
        } catch {
            self.logger.debug("connection ended: \(error)")
        }
    }

    private func tracking(_ channel: any Channel, websocket: Bool, _ body: () async throws -> Void) async throws {
        guard let listener = self.listener.withLock({ $0 }) else { return }
        try await listener.track(channel, websocket: websocket, body)
    }

    private func serveHTTP(
        _ http: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, activity: ConnectionActivity
    ) async throws {
        try await http.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body: [UInt8] = []
            var tooBig = false
            // A request refused by its head (path, token, verb) is answered without buffering its body.
            var refusedEarly: HTTPAnswer?
            for try await part in inbound {
                switch part {
                case .head(let requestHead):
                    head = requestHead
                    body = []
                    tooBig = false
                    refusedEarly = self.refusal(requestHead)
                    activity.enter()
                case .body(let buffer):
                    if refusedEarly != nil || tooBig { continue }
                    if body.count + buffer.readableBytes > self.configuration.maxRequestBytes {
                        tooBig = true
                        body = []
                    } else {
                        body += buffer.readableBytesView
                    }
                case .end:
                    let response: HTTPAnswer
                    if let refusedEarly {
                        response = refusedEarly
                    } else if let requestHead = head {
                        response = await self.answerHTTP(requestHead, body: body, tooBig: tooBig)
                    } else {
                        // NIO keeps the head of a refused WebSocket upgrade; answer as Lotus would.
                        let refusal = self.listener.withLock { $0 }?.takeRefusal(http.channel)
                        response = HTTPAnswer(status: refusal?.0 ?? .badRequest, text: refusal?.1 ?? "bad request\n", close: true)
                    }
                    var headers = HTTPHeaders([("Content-Length", String(response.body.count)), ("Content-Type", response.contentType)])
                    let keepAlive = !response.close && (head?.isKeepAlive ?? false) && self.listener.withLock({ $0 })?.isAccepting == true
                    if !keepAlive { headers.add(name: "Connection", value: "close") }
                    // One flush for the whole response.
                    try await outbound.write(contentsOf: [
                        .head(HTTPResponseHead(version: head?.version ?? .http1_1, status: response.status, headers: headers)),
                        .body(.byteBuffer(ByteBuffer(bytes: response.body))), .end(nil),
                    ])
                    if head != nil { activity.leave() }
                    if !keepAlive { return }
                    head = nil
                }
            }
        }
    }

    struct HTTPAnswer {
        var status: HTTPResponseStatus
        var body: [UInt8]
        var contentType = "application/json"
        var close = false

        init(status: HTTPResponseStatus, json: [UInt8]) {
            self.status = status
            self.body = json
        }

        init(status: HTTPResponseStatus, text: String, contentType: String = "text/plain; charset=utf-8", close: Bool = false) {
            self.status = status
            self.body = Array(text.utf8)
            self.contentType = contentType
            self.close = close
        }
    }

    /// The answer to a request its head already disqualifies, or nil.
    private func refusal(_ head: HTTPRequestHead) -> HTTPAnswer? {
        let path = head.uri.split(separator: "?").first ?? ""
        if head.method == .GET, path == "/healthz" || path == "/metrics" { return nil }
        guard Self.route(head) != nil else { return HTTPAnswer(status: .notFound, text: "404 page not found\n") }
        guard self.permissions(head) != nil else { return HTTPAnswer(status: .unauthorized, text: "JWT Verification failed\n") }
        guard head.method == .POST else { return HTTPAnswer(status: .methodNotAllowed, text: "method not allowed\n") }
        return nil
    }

    private func answerHTTP(_ head: HTTPRequestHead, body: [UInt8], tooBig: Bool) async -> HTTPAnswer {
        let path = head.uri.split(separator: "?").first ?? ""
        if head.method == .GET, path == "/healthz" { return self.health() }
        if head.method == .GET, path == "/metrics" {
            var answer = HTTPAnswer(status: .ok, json: self.metrics.scrape(self.pool, clientConnections: self.connectionCount))
            answer.contentType = "text/plain; version=0.0.4; charset=utf-8"
            return answer
        }
        guard let version = Self.route(head), let permissions = self.permissions(head) else {
            return self.refusal(head) ?? HTTPAnswer(status: .badRequest, text: "bad request\n")
        }
        if tooBig {
            return HTTPAnswer(
                status: .internalServerError,
                json: RawRPCFrames.error(id: "0".utf8, RPCError.tooBig(limit: self.configuration.maxRequestBytes)))
        }
        let router = ClientRequestRouter(version: version, permissions: permissions, channelsSupported: false)
        let answer: ClientAnswer
        switch router.read(body) {
        case .refused(let id, let error):
            answer = ClientAnswer(frame: RawRPCFrames.error(id: id, error), isProtocolError: error.isProtocolError)
        case .call(let id, _, let call): answer = await self.inflight.tracking { await self.runner.answer(call, id: id) }
        case .admin(let id, _, let method, let params):
            answer = await self.inflight.tracking { await self.runner.answerAdmin(method: method, params: params, id: id) }
        case .channel(let id, _, let call):
            answer = ClientAnswer(frame: RawRPCFrames.error(id: id, RPCError.noChannelSupport(call.method)), isProtocolError: true)
        case .cancel, .ignore:
            // Over HTTP every body gets a JSON answer: a client decodes it whatever it sent.
            let error = RPCError(code: -32600, message: "invalid request: expected a call with a method and an id")
            answer = ClientAnswer(frame: RawRPCFrames.error(id: "0".utf8, error), isProtocolError: true)
        }
        // go-jsonrpc answers protocol errors (bad JSON, unknown method, …) with HTTP 500.
        return HTTPAnswer(status: answer.isProtocolError ? .internalServerError : .ok, json: answer.frame)
    }

    private func health() -> HTTPAnswer {
        let nodes = self.pool.nodes
        let available = nodes.filter { $0.state.isAvailable }.count
        let body: JSON = [
            "status": .string(available > 0 ? "ok" : "unavailable"), "available": .int(Int64(available)), "nodes": .int(Int64(nodes.count)),
        ]
        return HTTPAnswer(status: available > 0 ? .ok : .serviceUnavailable, json: body.encoded())
    }
}
