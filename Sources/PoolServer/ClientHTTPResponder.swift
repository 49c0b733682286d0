// What fpool answers to one HTTP request: a JSON-RPC call routed through the pool, an admin
// call, /healthz, /metrics, or the refusal Lotus would give (404, 401, 405, 500 for protocol
// errors).

import LotusWire
import NIOCore
import NIOHTTP1
import PoolRuntime
import RouteModel

extension PoolRPCServer {
    struct HTTPAnswer: Sendable {
        var status: HTTPResponseStatus
        var body: [UInt8]
        var contentType = "application/json"
        var close = false
        /// Runs once the answer has left (or failed to, the connection being gone).
        var written: (@Sendable () -> Void)?

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

        /// go-jsonrpc answers protocol errors (bad JSON, unknown method, …) with HTTP 500.
        init(_ answer: ClientAnswer) {
            self.init(status: answer.isProtocolError ? .internalServerError : .ok, json: answer.frame)
        }
    }

    /// What a request's head asks for, decided once, when the head arrives.
    enum HTTPAdmission: Sendable {
        case health
        case metrics
        /// A JSON-RPC call on this API version, with what the token grants.
        case rpc(APIVersion, ClientGrant)
        /// Refused by its path, token or verb: answered without buffering the body.
        case refused(HTTPAnswer)
        /// A WebSocket upgrade (on any request of a connection: a reverse proxy may pool it).
        case upgrade(APIVersion, ClientGrant)
    }

    func admit(_ head: HTTPRequestHead) -> HTTPAdmission {
        let path = head.uri.split(separator: "?").first ?? ""
        if head.method == .GET, path == "/healthz" { return .health }
        if head.method == .GET, path == "/metrics" { return .metrics }
        guard let version = Self.route(head) else { return .refused(HTTPAnswer(status: .notFound, text: "404 page not found\n")) }
        guard let grant = self.grant(head) else {
            return .refused(HTTPAnswer(status: .unauthorized, text: "JWT Verification failed\n"))
        }
        if head.method == .GET, Self.asksForWebSocket(head) { return .upgrade(version, grant) }
        guard head.method == .POST else { return .refused(HTTPAnswer(status: .methodNotAllowed, text: "method not allowed\n")) }
        return .rpc(version, grant)
    }

    /// A connection over the cap on client connections serves only what an operator needs
    /// to see and act during a flood: /healthz, /metrics and admin calls.
    func admitOverCap(_ head: HTTPRequestHead) -> HTTPAdmission {
        let admission = self.admit(head)
        switch admission {
        case .health, .metrics, .refused: return admission
        case .rpc(_, let grant) where grant.permissions.contains(.admin): return admission
        case .rpc, .upgrade:
            self.metrics.clientConnectionRefused()
            return .refused(
                HTTPAnswer(
                    status: .serviceUnavailable,
                    text: "fpool is at its limit of \(self.configuration.maxConnections) client connections; try again later\n", close: true
                ))
        }
    }

    /// go-jsonrpc's answer to a request over the size limit; the connection closes after it.
    func tooBigAnswer() -> HTTPAnswer {
        var answer = HTTPAnswer(
            status: .internalServerError, json: RawRPCFrames.error(id: "0".utf8, RPCError.tooBig(limit: self.configuration.maxRequestBytes))
        )
        answer.close = true
        return answer
    }

    /// `Connection: upgrade` and `Upgrade: websocket`, as a Lotus client's handshake sends them.
    static func asksForWebSocket(_ head: HTTPRequestHead) -> Bool {
        head.headers[canonicalForm: "Upgrade"].contains { $0.lowercased() == "websocket" } && Self.endsHTTP(head)
    }

    /// Whether NIO's HTTP decoder reads nothing after this request: it takes `Connection:
    /// upgrade` with an `Upgrade` header (any protocol: `curl --http2` asks for h2c), or CONNECT,
    /// for a switch of protocols. Unless the connection becomes a websocket, the answer to such
    /// a request closes it; kept open, the client's next request would never be read.
    static func endsHTTP(_ head: HTTPRequestHead) -> Bool {
        head.method == .CONNECT
            || (!head.headers["Upgrade"].isEmpty && head.headers[canonicalForm: "Connection"].contains { $0.lowercased() == "upgrade" })
    }

    /// Answers one admitted request through `respond` (once): at once, from the daemon's reply
    /// on the connection's loop (reads whose node is known), or from a task on that loop.
    ///
    /// What gives the call up when the connection closes first goes to `pending`. A large
    /// body is read off the event loop, which carries other clients and daemon heartbeats.
    func answerHTTP(
        _ admission: HTTPAdmission, body: [UInt8], executor: EventLoopTaskExecutor, pending: PendingHTTPCall,
        _ respond: @escaping @Sendable (HTTPAnswer) -> Void
    ) {
        guard case .rpc(let version, let grant) = admission, body.count >= ClientRequestRouter.offLoopBytes else {
            // A handle only for an answer still to come (an answer given at once may already
            // have let the next request in, with a handle of its own).
            if let giveUp = self.answerHTTP(admission, body: body, executor: executor, respond) { pending.set(giveUp) }
            return
        }
        let router = ClientRequestRouter(version: version, grant: grant, channelsSupported: false)
        Task.detached {
            let frame = router.read(body)
            executor.eventLoop.execute {
                if let giveUp = self.answerRPC(frame, executor: executor, respond) { pending.set(giveUp) }
            }
        }
    }

    /// - Returns: what gives the call up when the connection closes first, or nil.
    private func answerHTTP(
        _ admission: HTTPAdmission, body: [UInt8], executor: EventLoopTaskExecutor,
        _ respond: @escaping @Sendable (HTTPAnswer) -> Void
    ) -> (any PoolCancellable)? {
        let version: APIVersion
        let grant: ClientGrant
        switch admission {
        case .health:
            respond(self.health())
            return nil
        case .metrics:
            var answer = HTTPAnswer(status: .ok, json: self.metrics.scrape(self.pool, clients: self.clientFigures))
            answer.contentType = "text/plain; version=0.0.4; charset=utf-8"
            respond(answer)
            return nil
        case .refused(let answer):
            respond(answer)
            return nil
        case .upgrade:
            // Upgrades are the connection handler's; a responder alone cannot switch protocols.
            respond(HTTPAnswer(status: .badRequest, text: "bad request\n", close: true))
            return nil
        case .rpc(let rpcVersion, let rpcGrant):
            (version, grant) = (rpcVersion, rpcGrant)
        }
        let router = ClientRequestRouter(version: version, grant: grant, channelsSupported: false)
        return self.answerRPC(router.read(body), executor: executor, respond)
    }

    /// Answers one JSON-RPC request read from an HTTP body.
    private func answerRPC(
        _ frame: ClientFrame, executor: EventLoopTaskExecutor, _ respond: @escaping @Sendable (HTTPAnswer) -> Void
    ) -> (any PoolCancellable)? {
        switch frame {
        case .refused(let id, let error):
            respond(HTTPAnswer(ClientAnswer(frame: RawRPCFrames.error(id: id, error), isProtocolError: error.isProtocolError)))
            return nil
        case .call(let id, _, let call):
            self.inflight.enter()
            let started = self.runner.answerImmediately(call, id: id) { answer in respond(self.leavingInflight(answer)) }
            switch started {
            case .started(let giveUp):
                return giveUp
            case .answered:
                // Answered at once: no handle, the next request may already have its own.
                return nil
            case .needsTask(let call):
                let task = Task(executorPreference: executor) { respond(self.leavingInflight(await self.runner.answer(call, id: id))) }
                return TaskCancellation(task)
            }
        case .admin(let id, _, let call):
            self.inflight.enter()
            let task = Task(executorPreference: executor) {
                respond(self.leavingInflight(await self.runner.answerAdmin(call, id: id)))
            }
            return TaskCancellation(task)
        case .channel(let id, _, let call):
            respond(
                HTTPAnswer(ClientAnswer(frame: RawRPCFrames.error(id: id, RPCError.noChannelSupport(call.method)), isProtocolError: true)))
            return nil
        case .cancel, .ignore:
            // Over HTTP every body gets a JSON answer: a client decodes it whatever it sent.
            let error = RPCError(code: -32600, message: "invalid request: expected a call with a method and an id")
            respond(HTTPAnswer(ClientAnswer(frame: RawRPCFrames.error(id: "0".utf8, error), isProtocolError: true)))
            return nil
        }
    }

    /// A call's answer that stops counting as in flight once it has left, so a graceful stop
    /// never closes the connection under it.
    private func leavingInflight(_ answer: ClientAnswer) -> HTTPAnswer {
        var http = HTTPAnswer(answer)
        http.written = { self.inflight.leave() }
        return http
    }

    /// 200 while any node serves (`degraded` when only nodes failing a health rule do: calls are
    /// answered, an operator should look), 503 when none is reachable.
    private func health() -> HTTPAnswer {
        let health = self.pool.health
        let status = health.serving == 0 ? "unavailable" : health.degraded ? "degraded" : "ok"
        var fields: [(String, JSON)] = [
            ("status", .string(status)), ("available", .int(Int64(health.healthy))), ("serving", .int(Int64(health.serving))),
            ("nodes", .int(Int64(self.pool.nodes.count))),
        ]
        if health.degraded { fields.append(("detail", .string(health.detail))) }
        if let network = health.network { fields.append(("network", .string(network.name))) }
        return HTTPAnswer(status: health.serving > 0 ? .ok : .serviceUnavailable, json: JSON.object(fields).encoded())
    }
}
