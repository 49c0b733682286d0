// One client HTTP/1.1 connection (go-jsonrpc in HTTP mode, curl, scripts): each request is
// read, routed and answered on the connection's event loop, and a read whose node is known goes
// upstream without a task, as over WebSocket. NIO's pipelining handler hands over one request
// at a time, so answers keep the order of the requests. A WebSocket upgrade, on the first
// request or a later one (a reverse proxy's pooled connection), makes it a client websocket.

import NIOCore
import NIOHTTP1
import NIOWebSocket
import PoolRuntime
import RouteModel
import Synchronization

final class ClientHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let server: PoolRPCServer
    /// The connection's lifecycle (its clock and deadlines), first in the pipeline.
    private let connection: ClientHTTPConnectionHandler
    /// Over the cap on client connections: only /healthz, /metrics and admin calls are served.
    private let reserve: Bool
    /// The connection's loop as the executor of calls that need a task.
    private let executor: EventLoopTaskExecutor
    /// The call being answered, given up if the connection closes first.
    private let pending = PendingHTTPCall()
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooBig = false
    /// What the request's head asked for.
    private var admission: PoolRPCServer.HTTPAdmission?
    /// The connection became a websocket: HTTP parts still on their way are not requests.
    private var upgraded = false

    init(server: PoolRPCServer, connection: ClientHTTPConnectionHandler, reserve: Bool, channel: any Channel) {
        self.server = server
        self.connection = connection
        self.reserve = reserve
        self.executor = EventLoopTaskExecutor(eventLoop: channel.eventLoop)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.upgraded else { return }
        switch Self.unwrapInboundIn(data) {
        case .head(let requestHead):
            self.head = requestHead
            self.releaseBody()
            self.tooBig = false
            self.admission = self.reserve ? self.server.admitOverCap(requestHead) : self.server.admit(requestHead)
            self.connection.requestBegan()
        case .body(let buffer):
            guard case .rpc = self.admission, !self.tooBig else { return }
            guard self.server.bodyBudget.take(buffer.readableBytes) else {
                // Every connection's unfinished bodies together are over the budget: refused
                // and closed rather than buffered.
                self.tooBig = true
                self.releaseBody()
                self.server.metrics.requestBodyRefused()
                self.responder(for: self.head, channel: context.channel)(
                    .init(status: .serviceUnavailable, text: "fpool is holding too many large requests; try again later\n", close: true))
                return
            }
            guard self.body.count + buffer.readableBytes <= self.server.configuration.maxRequestBytes else {
                self.server.bodyBudget.giveBack(buffer.readableBytes)
                // Answered at once, as go-jsonrpc does, and closed: the rest of the body is
                // neither kept nor waited for.
                self.tooBig = true
                self.releaseBody()
                self.responder(for: self.head, channel: context.channel)(self.server.tooBigAnswer())
                return
            }
            self.body += buffer.readableBytesView
        case .end:
            self.connection.requestRead()
            // Answered already (too big): the connection is closing.
            guard !self.tooBig else { return }
            // The request's state is taken before answering: an answer written here lets the
            // pipelining handler deliver the next request at once, into this same handler.
            let (head, admission, body) = (self.head, self.admission, self.body)
            // The body stays charged until its call is answered: its params are kept for a
            // retry, and a connection's next request may come while this call waits.
            let held = HeldRequestBytes(adopting: body.count, of: self.server.bodyBudget)
            self.body = []
            (self.head, self.admission) = (nil, nil)
            let answer = self.responder(for: head, channel: context.channel)
            let respond: @Sendable (PoolRPCServer.HTTPAnswer) -> Void = { reply in withExtendedLifetime(held) { answer(reply) } }
            if case .upgrade(let version, let grant) = admission, let head {
                self.upgrade(context: context, head: head, version: version, grant: grant, refuse: respond)
            } else if let admission {
                self.server.answerHTTP(admission, body: body, executor: self.executor, pending: self.pending, respond)
            }
        }
    }

    /// Switches the connection to WebSocket as NIO's own upgrade handler would: the HTTP
    /// handlers leave (the decoder last, handing on any bytes after the request), the 101 answer
    /// goes out, and the connection's websocket handler takes over. Lotus (Go's net/http)
    /// upgrades any request of a connection, so a proxy in front of fpool may pool it; NIO's
    /// handler serves only a first request.
    private func upgrade(
        context: ChannelHandlerContext, head: HTTPRequestHead, version: APIVersion, grant: ClientGrant,
        refuse: @escaping @Sendable (PoolRPCServer.HTTPAnswer) -> Void
    ) {
        // A websocket opened during a graceful stop would miss its goodbye: the client goes elsewhere.
        guard self.server.listener.withLock({ $0 })?.isAccepting == true else {
            return refuse(.init(status: .serviceUnavailable, text: "fpool is stopping\n", close: true))
        }
        // NIO's handshake checks the key and version and computes the accept header (on the
        // loop, at once: the answer to `shouldUpgrade` is ready).
        let handshake = NIOTypedWebSocketServerUpgrader<Void>(
            shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
            upgradePipelineHandler: { channel, _ in channel.eventLoop.makeSucceededVoidFuture() })
        self.upgraded = true
        self.connection.upgraded()
        handshake.buildUpgradeResponse(channel: context.channel, upgradeRequest: head, initialResponseHeaders: HTTPHeaders())
            .assumeIsolated().whenComplete { result in
                switch result {
                case .success(let accepted):
                    self.switchToWebSocket(context: context, accepted: accepted, version: version, grant: grant)
                case .failure:
                    refuse(
                        .init(
                            status: .badRequest,
                            text: "bad websocket handshake: expected Sec-WebSocket-Key and Sec-WebSocket-Version: 13\n",
                            close: true))
                }
            }
    }

    private func switchToWebSocket(context: ChannelHandlerContext, accepted: HTTPHeaders, version: APIVersion, grant: ClientGrant) {
        let pipeline = context.pipeline.syncOperations
        do {
            if let handler = try? pipeline.handler(type: HTTPServerPipelineHandler.self) { pipeline.removeHandler(handler, promise: nil) }
            if let handler = try? pipeline.handler(type: NIOHTTPResponseHeadersValidator.self) {
                pipeline.removeHandler(handler, promise: nil)
            }
            if let handler = try? pipeline.handler(type: HTTPServerProtocolErrorHandler.self) {
                pipeline.removeHandler(handler, promise: nil)
            }
            context.writeAndFlush(
                Self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .switchingProtocols, headers: accepted))),
                promise: nil)
            pipeline.removeHandler(try pipeline.handler(type: HTTPResponseEncoder.self), promise: nil)
            try self.server.serveWebSocket(context.channel, version: version, grant: grant)
            pipeline.removeHandler(self.connection, promise: nil)
            self.server.listener.withLock { $0 }?.upgraded(context.channel)
            let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            pipeline.removeHandler(context: context, promise: nil)
            pipeline.removeHandler(decoder, promise: nil)
        } catch {
            self.server.logger.notice("closing a connection whose websocket upgrade failed: \(error)")
            context.close(promise: nil)
        }
    }

    /// Writes one answer (on the loop; one flush), then closes unless the connection stays open.
    private func responder(for head: HTTPRequestHead?, channel: any Channel) -> @Sendable (PoolRPCServer.HTTPAnswer) -> Void {
        let (server, pending) = (self.server, self.pending)
        let connection = NIOLoopBound(self.connection, eventLoop: channel.eventLoop)
        return { answer in
            guard channel.eventLoop.inEventLoop else {
                return channel.eventLoop.execute {
                    pending.set(nil)
                    Self.write(answer, head: head, channel: channel, server: server, connection: connection)
                }
            }
            pending.set(nil)
            Self.write(answer, head: head, channel: channel, server: server, connection: connection)
        }
    }

    private static func write(
        _ answer: PoolRPCServer.HTTPAnswer, head: HTTPRequestHead?, channel: any Channel, server: PoolRPCServer,
        connection: NIOLoopBound<ClientHTTPConnectionHandler>
    ) {
        var headers = HTTPHeaders([("Content-Length", String(answer.body.count)), ("Content-Type", answer.contentType)])
        let keepAlive =
            !answer.close && (head.map { $0.isKeepAlive && !PoolRPCServer.endsHTTP($0) } ?? false)
            && server.listener.withLock({ $0 })?.isAccepting == true
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        connection.value.answerWriting(bytes: answer.body.count)
        channel.write(
            HTTPServerResponsePart.head(HTTPResponseHead(version: head?.version ?? .http1_1, status: answer.status, headers: headers)),
            promise: nil)
        // The answer to HEAD has no body (its Content-Length says what a GET would get).
        if head?.method != .HEAD { channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: answer.body))), promise: nil) }
        channel.writeAndFlush(HTTPServerResponsePart.end(nil)).whenComplete { _ in
            answer.written?()
            if keepAlive { connection.value.answered() } else { channel.close(promise: nil) }
        }
    }

    /// Drops the body held so far and gives its bytes back to the budget.
    private func releaseBody() {
        self.server.bodyBudget.giveBack(self.body.count)
        self.body = []
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.releaseBody()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.releaseBody()
        self.pending.giveUp()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// The one call an HTTP connection is waiting for (requests are answered one at a time).
final class PendingHTTPCall: Sendable {
    private let giveUpHandle = Mutex<(any PoolCancellable)?>(nil)

    func set(_ handle: (any PoolCancellable)?) { self.giveUpHandle.withLock { $0 = handle } }

    func giveUp() {
        self.giveUpHandle.withLock { handle in
            defer { handle = nil }; return handle
        }?.cancel()
    }
}
