// Runs a routed client call through the pool (or an admin call) and builds its answer frame,
// timing it for the metrics. Shared by the HTTP and WebSocket transports.

import GeneratedRoutes
import LotusWire
import PoolRuntime

/// An answer frame, and whether it is a protocol error (HTTP answers those with status 500).
struct ClientAnswer: Sendable {
    let frame: [UInt8]
    let isProtocolError: Bool
}

/// A class, not a struct: every call's completion captures it, and one reference is one
/// retain where three fields were three (on objects every event loop shares).
final class ClientCallRunner: Sendable {
    let pool: Pool
    let admin: AdminAPI
    let metrics: PoolMetrics

    init(pool: Pool, admin: AdminAPI, metrics: PoolMetrics) {
        self.pool = pool
        self.admin = admin
        self.metrics = metrics
    }

    func answer(_ call: PoolCall, id: [UInt8]) async -> ClientAnswer {
        let start = ContinuousClock.now
        return self.answer(call, id: id, reply: await self.pool.call(call), since: start)
    }

    /// Starts the call without a task when the pool can (see `Pool.startImmediately`);
    /// `done` gets the answer. Otherwise the call to give `answer(_:id:)`.
    func answerImmediately(_ call: PoolCall, id: [UInt8], _ done: @escaping @Sendable (ClientAnswer) -> Void) -> ImmediateStart {
        self.replyImmediately(call) { reply in done(Self.answer(reply, id: id)) }
    }

    /// As `answerImmediately`, with the pool's reply (counted in the metrics) for a transport
    /// that writes the answer frame itself.
    func replyImmediately(_ call: PoolCall, _ done: @escaping @Sendable (PoolReply) -> Void) -> ImmediateStart {
        let start = ContinuousClock.now
        // The route alone is captured: a copy of the call would retain its every field.
        let route = call.id
        return self.pool.startImmediately(call) { reply in
            self.record(route, reply: reply, since: start)
            done(reply)
        }
    }

    private func answer(_ call: PoolCall, id: [UInt8], reply: PoolReply, since start: ContinuousClock.Instant) -> ClientAnswer {
        self.record(call.id, reply: reply, since: start)
        return Self.answer(reply, id: id)
    }

    private static func answer(_ reply: PoolReply, id: [UInt8]) -> ClientAnswer {
        ClientAnswer(frame: reply.frame(id: id), isProtocolError: reply.errorCode.map(RPCError.isProtocolError(code:)) ?? false)
    }

    private func record(_ route: RouteID?, reply: PoolReply, since start: ContinuousClock.Instant) {
        let (outcome, node): (PoolMetrics.CallOutcome, Int?) =
            switch reply {
            case .result(_, let node): (.ok, node)
            case .error(_, _, let node): (.error, node)
            case .failed: (.failed, nil)
            }
        self.metrics.callAnswered(route: route, node: node, outcome: outcome, duration: ContinuousClock.now - start, pool: self.pool)
    }

    func answerAdmin(_ call: AdminCall, id: [UInt8]) async -> ClientAnswer {
        switch await self.admin.call(call.method, params: call.params, callerSeed: call.callerSeed) {
        case .success(let result): ClientAnswer(frame: RawRPCFrames.result(id: id, result: result.encoded()), isProtocolError: false)
        case .failure(let error): ClientAnswer(frame: RawRPCFrames.error(id: id, error), isProtocolError: error.isProtocolError)
        }
    }
}
