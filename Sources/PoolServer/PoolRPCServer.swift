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

    private struct State {
        var listener: (any Channel)?
        var acceptTask: Task<Void, Never>?
        var port: Int?
        var draining = false
        var connections: [ObjectIdentifier: any Channel] = [:]
        /// Why an upgrade was refused, by connection, for the HTTP answer that follows.
        var refusals: [ObjectIdentifier: (HTTPResponseStatus, String)] = [:]
    }

    public let pool: Pool
    public let auth: ClientAuth
    public let configuration: ServerConfiguration
    public let metrics: PoolMetrics
    let logger: Logger
    let runner: ClientCallRunner
    let inflight = InflightCalls()
    private let state = Mutex(State())
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
    public var port: Int? { self.state.withLock { $0.port } }

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
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: self.configuration.host, port: self.configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture { try self.configure(channel) }
            }
        let port = listener.channel.localAddress?.port ?? self.configuration.port
        let task = Task {
            await withDiscardingTaskGroup { group in
                do {
                    try await listener.executeThenClose { inbound in
                        for try await upgrade in inbound {
                            group.addTask { await self.serve(upgrade) }
                        }
                    }
                } catch {
                    self.logger.debug("listener ended: \(error)")
                }
            }
        }
        self.state.withLock { state in
            state.listener = listener.channel
            state.acceptTask = task
            state.port = port
        }
        self.boundPort.value.store(port, ordering: .relaxed)
        self.logger.debug("listening on \(self.listenAddress)")
    }

    /// Stops accepting, waits (up to the configured grace) for calls in flight to be answered,
    /// then closes every connection.
    public func stop() async {
        let listener = self.state.withLock { state in
            state.draining = true
            return state.listener
        }
        try? await listener?.close()
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
        let (task, connections) = self.state.withLock { state in
            defer {
                state.connections = [:]
                state.listener = nil
                state.acceptTask = nil
            }
            return (state.acceptTask, Array(state.connections.values))
        }
        for connection in connections { try? await connection.close() }
        task?.cancel()
    }

    /// Open client connections.
    public var connectionCount: Int { self.state.withLock { $0.connections.count } }

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
                let refusal: (HTTPResponseStatus, String)? =
                    Self.route(head) == nil
                    ? (.notFound, "404 page not found\n")
                    : self.permissions(head) == nil ? (.unauthorized, "JWT Verification failed\n") : nil
                if let refusal {
                    self.state.withLock { $0.refusals[ObjectIdentifier(channel)] = refusal }
                    return channel.eventLoop.makeSucceededFuture(nil)
                }
                return channel.eventLoop.makeSucceededFuture(HTTPHeaders())
            },
            upgradePipelineHandler: { channel, head in
                channel.eventLoop.makeCompletedFuture {
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
                try await self.tracking(channel) { try await channel.closeFuture.get() }
            case .http(let http, let activity):
                // The connection's requests are read, routed and answered on its event loop, with
                // that loop's upstream sockets: no thread hop inside fpool.
                try await withTaskExecutorPreference(EventLoopTaskExecutor(eventLoop: http.channel.eventLoop)) {
                    try await self.tracking(http.channel) { try await self.serveHTTP(http, activity: activity) }
                }
            }
        } catch {
            self.logger.debug("connection ended: \(error)")
        }
    }

    private func tracking(_ channel: any Channel, _ body: () async throws -> Void) async throws {
        let key = ObjectIdentifier(channel)
        let accepted = self.state.withLock { state -> Bool in
            guard !state.draining else { return false }
            state.connections[key] = channel
            return true
        }
        guard accepted else {
            try? await channel.close()
            return
        }
        defer {
            self.state.withLock { state in
                state.connections.removeValue(forKey: key)
                state.refusals.removeValue(forKey: key)
            }
        }
        try await body()
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
                        let refusal = self.state.withLock { $0.refusals.removeValue(forKey: ObjectIdentifier(http.channel)) }
                        response = HTTPAnswer(status: refusal?.0 ?? .badRequest, text: refusal?.1 ?? "bad request\n", close: true)
                    }
                    var headers = HTTPHeaders([("Content-Length", String(response.body.count)), ("Content-Type", response.contentType)])
                    let keepAlive = !response.close && (head?.isKeepAlive ?? false) && !self.state.withLock({ $0.draining })
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
        // go-jsonrpc answers protocol errors (bad JSON, unknown method, …) with HTTP 500.
        if tooBig {
            return HTTPAnswer(
                status: .internalServerError,
                json: RawRPCFrames.error(id: "0".utf8, RPCError.tooBig(limit: self.configuration.maxRequestBytes)))
        }
        let router = ClientRequestRouter(version: version, permissions: permissions, channelsSupported: false)
        let frame: [UInt8]
        switch router.read(body) {
        case .reply(let reply): frame = reply
        case .call(let id, _, let call): frame = await self.inflight.tracking { await self.runner.answer(call, id: id) }
        case .admin(let id, _, let method, let params):
            frame = await self.inflight.tracking { await self.runner.answerAdmin(method: method, params: params, id: id) }
        case .channel(let id, _, let call):
            frame = RawRPCFrames.error(id: id, RPCError.noChannelSupport(call.method))
        case .cancel, .ignore:
            // Over HTTP every body gets a JSON answer: a client decodes it whatever it sent.
            frame = RawRPCFrames.error(
                id: "0".utf8, RPCError(code: -32600, message: "invalid request: expected a call with a method and an id"))
        }
        return HTTPAnswer(status: Self.isProtocolError(frame) ? .internalServerError : .ok, json: frame)
    }

    /// Whether an answer carries a JSON-RPC protocol error code (−32768…−32000).
    static func isProtocolError(_ frame: [UInt8]) -> Bool {
        guard let parsed = try? RawRPCFrame(frame), let error = parsed.decodedError else { return false }
        return (-32768)...(-32000) ~= error.code
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
