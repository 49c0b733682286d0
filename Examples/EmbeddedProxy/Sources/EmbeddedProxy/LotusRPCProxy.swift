// The proxy: each POST /rpc/v1 body is one Lotus call, looked up in fpool's generated route
// table and routed, retried and failed over by fpool's embedded Pool.

import GeneratedRoutes
import Hummingbird
import PoolRuntime
import PoolServer
import RouteModel

/// Answers Lotus JSON-RPC calls over HTTP through an embedded fpool `Pool`.
///
/// It checks no token: it serves only the permissions it is given (`read` by default), and
/// refuses channel methods (ChainNotify needs a WebSocket; fpool's own server has one).
public struct LotusRPCProxy: Sendable {
    public let pool: Pool
    public let served: Set<Perm>

    /// - Parameters:
    ///   - pool: the daemons and routing (`Pool.lotus(environment)` for real daemons).
    ///   - served: the permissions callers get without a token.
    public init(pool: Pool, served: Set<Perm> = [.read]) {
        self.pool = pool
        self.served = served
    }

    /// The JSON-RPC answer to one HTTP request body.
    public func answer(_ body: [UInt8]) async -> [UInt8] {
        guard let request = LotusRPCRequest(body: body) else {
            return LotusRPCAnswer.error(id: Array("null".utf8), code: -32700, message: "parse error")
        }
        let name = request.method.hasPrefix(RouteEntry.wirePrefix) ? String(request.method.dropFirst(RouteEntry.wirePrefix.count)) : ""
        guard let id = RouteTable.lookup(.v1, name: name) else {
            return LotusRPCAnswer.error(id: request.id, code: -32601, message: "method '\(request.method)' not found")
        }
        let route = id.route
        guard self.served.contains(route.perm) else {
            return LotusRPCAnswer.error(
                id: request.id, code: 1, message: "missing permission to invoke '\(route.name)' (need '\(route.perm.rawValue)')")
        }
        guard route.result == .plain else {
            return LotusRPCAnswer.error(id: request.id, code: 1, message: "\(route.name) returns a channel: it needs a WebSocket")
        }
        let call = PoolCall(
            id: id, method: request.method, version: .v1, params: request.params,
            facts: CallFactsReader.facts(route: route, params: request.params))
        return LotusRPCAnswer.frame(await self.pool.call(call), id: request.id)
    }

    /// Serves `POST /rpc/v1` on `router`; a body over `maxBodyBytes` is refused (413) unread.
    public func addRoutes<Context: RequestContext>(to router: Router<Context>, maxBodyBytes: Int = 1 << 20) {
        router.post("/rpc/v1") { request, _ -> Response in
            let body = try await request.body.collect(upTo: maxBodyBytes)
            let answer = await self.answer(Array(body.readableBytesView))
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: answer)))
        }
    }
}
