// One simulated daemon's listener: Lotus JSON-RPC over HTTP POST and WebSocket on 127.0.0.1.

import Logging
import LotusWire
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import RouteModel
import Synchronization

/// Serves `/rpc/v0` and `/rpc/v1` for one daemon of the world, and can be killed, restarted
/// and cut off. Concurrency: all methods may be called from any task.
final class SimDaemonServer: Sendable {
    enum Upgrade: Sendable {
        case websocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, APIVersion, Set<String>)
        case http(NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>)
    }

    let world: SimWorld
    let index: Int
    let logger: Logger
    static let maxRequestBytes = 100 << 20
    /// The running listener; nil while the daemon is killed.
    private let listener = Mutex<ConnectionListener<Upgrade>?>(nil)

    /// Served in front of every connection when the daemon speaks TLS.
    let tls: TLSServerIdentity?

    init(world: SimWorld, index: Int, logger: Logger, tls: TLSServerIdentity?) {
        self.world = world
        self.index = index
        self.logger = logger
        self.tls = tls
    }

    var port: Int { self.world.state.withLock { $0.daemons[self.index].port } }

    /// Binds the daemon's port (0 picks a free one below the kernel's ephemeral range, see
    /// `SimQuietPorts`, and records it).
    func start() async throws {
        let listener = try await self.bind()
        self.world.state.withLock { $0.daemons[self.index].port = listener.port }
        // Stored before the first connection is served: upgrades record refusals on it.
        self.listener.withLock { $0 = listener }
        listener.serve({ await self.serve($0) }, ended: { self.logger.debug("listener ended: \($0)") })
    }

    /// A first start on port 0 takes a port below the kernel's ephemeral range (`SimQuietPorts`),
    /// which, while the daemon is killed, only a program naming that port can take. A known port
    /// found in use (such a program holds it, or it came from the kernel after all) is waited
    /// for, at most `rebindAttempts` tries 20 ms apart (3 s), as a daemon's supervisor would.
    private func bind() async throws -> ConnectionListener<Upgrade> {
        let port = self.port
        if port == 0, let quiet = SimQuietPorts.range() {
            for _ in 0..<SimQuietPorts.attempts {
                let candidate = Int.random(in: quiet)
                do {
                    return try await self.listen(on: candidate)
                } catch let error as IOError where error.errnoCode == EADDRINUSE {
                    continue
                }
            }
            self.logger.notice(
                "no free port found below the ephemeral range in \(SimQuietPorts.attempts) tries; taking one from the kernel")
        }
        var attempt = 1
        while true {
            do {
                return try await self.listen(on: port)
            } catch let error as IOError where port != 0 && error.errnoCode == EADDRINUSE && attempt < Self.rebindAttempts {
                attempt += 1
                self.logger.debug("port \(port) still in use, binding again in 20 ms")
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    private func listen(on port: Int) async throws -> ConnectionListener<Upgrade> {
        try await ConnectionListener<Upgrade>(host: "127.0.0.1", port: port, configure: { try self.configure($0) })
    }

    static let rebindAttempts = 150

    var isListening: Bool { self.listener.withLock { $0 != nil } }

    /// Closes the listener and every connection; black-holed and long-polling HTTP requests
    /// end with them.
    func stop() async {
        let listener = self.listener.withLock { listener in
            defer { listener = nil }
            return listener
        }
        await listener?.closeAll()
    }

    /// Closes every WebSocket connection; the listener stays.
    func dropWebSockets() async {
        await self.listener.withLock { $0 }?.closeWebSockets()
    }

    private func configure(_ channel: any Channel) throws -> EventLoopFuture<Upgrade> {
        try self.tls?.secure(channel)
        let upgrader = NIOTypedWebSocketServerUpgrader<Upgrade>(
            maxFrameSize: 1 << 24,
            shouldUpgrade: { channel, head in
                // A refused upgrade falls through to the HTTP handler, which answers 401/404.
                guard let listener = self.listener.withLock({ $0 }) else { return channel.eventLoop.makeSucceededFuture(nil) }
                return listener.upgradeAnswer(channel, pathKnown: self.route(head) != nil, authorized: self.permissions(head) != nil)
            },
            upgradePipelineHandler: { channel, head in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOWebSocketFrameAggregator(
                            minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 100_000, maxAccumulatedFrameSize: Self.maxRequestBytes))
                    let websocket = try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(wrappingChannelSynchronously: channel)
                    return Upgrade.websocket(websocket, self.route(head) ?? .v1, self.permissions(head) ?? ["read"])
                }
            })
        let configuration = NIOTypedHTTPServerUpgradeConfiguration<Upgrade>(
            upgraders: [upgrader],
            notUpgradingCompletionHandler: { channel in
                channel.eventLoop.makeCompletedFuture {
                    Upgrade.http(try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel))
                }
            })
        return try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(
            configuration: .init(upgradeConfiguration: configuration))
    }

    private func route(_ head: HTTPRequestHead) -> APIVersion? {
        let path = head.uri.split(separator: "?").first.map(String.init) ?? head.uri
        switch path {
        case "/rpc/v0": return .v0
        case "/rpc/v1": return .v1
        default: return nil
        }
    }

    /// The token's permissions; `read` without a token; nil for a token this daemon did not sign.
    private func permissions(_ head: HTTPRequestHead) -> Set<String>? {
        guard let header = head.headers.first(name: "Authorization") else { return ["read"] }
        guard let token = LotusJWT.bearerToken(header) else { return nil }
        let secret = self.world.state.withLock { $0.daemons[self.index].secret }
        return (try? LotusJWT.verify(token, secret: secret)).map(Set.init)
    }

    private func serve(_ upgrade: EventLoopFuture<Upgrade>) async {
        do {
            switch try await upgrade.get() {
            case .websocket(let websocket, let version, let permissions):
                try await self.tracking(websocket.channel, websocket: true) {
                    try await SimWebSocketSession(
                        processor: SimRequestProcessor(
                            world: self.world, daemon: self.index, version: version, permissions: permissions, channelsSupported: true),
                        world: self.world, daemon: self.index
                    ).run(websocket)
                }
            case .http(let http):
                try await self.tracking(http.channel, websocket: false) { try await self.serveHTTP(http) }
            }
        } catch {
            self.logger.debug("connection ended: \(error)")
        }
    }

    private func tracking(_ channel: any Channel, websocket: Bool, _ body: () async throws -> Void) async throws {
        guard let listener = self.listener.withLock({ $0 }) else {
            try? await channel.close()
            return
        }
        try await listener.track(channel, websocket: websocket, body)
    }

    private func serveHTTP(_ http: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async throws {
        try await http.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body: [UInt8] = []
            var tooBig = false
            for try await part in inbound {
                switch part {
                case .head(let requestHead):
                    head = requestHead
                    body = []
                    tooBig = false
                case .body(let buffer):
                    if body.count + buffer.readableBytes > Self.maxRequestBytes { tooBig = true } else { body += buffer.readableBytesView }
                case .end:
                    guard let requestHead = head else {
                        // NIO keeps the head of a refused WebSocket upgrade; answer as Lotus would.
                        let refusal = self.listener.withLock { $0 }?.takeRefusal(http.channel)
                        let (status, text) = refusal ?? (.badRequest, "bad request\n")
                        let headers = HTTPHeaders([
                            ("Content-Length", String(text.utf8.count)), ("Content-Type", "text/plain; charset=utf-8"),
                            ("Connection", "close"),
                        ])
                        try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)))
                        try await outbound.write(.body(.byteBuffer(ByteBuffer(string: text))))
                        try await outbound.write(.end(nil))
                        return
                    }
                    let (status, reply) = await self.answerHTTP(requestHead, body: body, tooBig: tooBig)
                    guard let reply else { continue }
                    var headers = HTTPHeaders([("Content-Length", String(reply.count))])
                    headers.add(
                        name: "Content-Type",
                        value: status == .ok || status == .internalServerError ? "application/json" : "text/plain; charset=utf-8")
                    try await outbound.write(.head(HTTPResponseHead(version: requestHead.version, status: status, headers: headers)))
                    try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: reply))))
                    try await outbound.write(.end(nil))
                    if !requestHead.isKeepAlive { return }
                }
            }
        }
    }

    /// go-jsonrpc answers protocol errors (bad JSON, a request over the size limit, an unknown
    /// method, …) with HTTP 500, everything else with 200.
    private static func answer(_ frame: JSON) -> (HTTPResponseStatus, [UInt8]?) {
        let protocolError = frame["error"]?["code"]?.int.map { (-32768)...(-32000) ~= $0 } ?? false
        return (protocolError ? .internalServerError : .ok, SimWireEncoding.bytes(of: frame))
    }

    /// The status and body for one HTTP request; a nil body means never answer (black hole).
    private func answerHTTP(_ head: HTTPRequestHead, body: [UInt8], tooBig: Bool) async -> (HTTPResponseStatus, [UInt8]?) {
        guard let version = self.route(head) else { return (.notFound, Array("404 page not found\n".utf8)) }
        guard let permissions = self.permissions(head) else { return (.unauthorized, Array("JWT Verification failed\n".utf8)) }
        guard head.method == .POST else { return (.methodNotAllowed, Array("method not allowed\n".utf8)) }
        if self.world.state.withLock({ $0.daemons[self.index].blackHole }) {
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            return (.ok, nil)
        }
        if tooBig { return Self.answer(RPCFrames.error(id: 0, .tooBig(limit: Self.maxRequestBytes))) }
        let processor = SimRequestProcessor(
            world: self.world, daemon: self.index, version: version, permissions: permissions, channelsSupported: false)
        switch await processor.process(body) {
        case .reply(let frame): return Self.answer(frame)
        // Not met: without channel support the processor answers a channel method itself.
        case .openChannel(let id, let kind):
            return Self.answer(RPCFrames.error(id: id, .noChannelSupport(kind == .mpoolSub ? "Filecoin.MpoolSub" : "Filecoin.ChainNotify")))
        case .cancel, .none: return (.ok, [])
        }
    }
}
