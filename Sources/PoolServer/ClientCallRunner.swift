// Runs a routed client call through the pool (or an admin call) and builds its answer frame,
// timing it for the metrics. Shared by the HTTP and WebSocket transports.

import LotusWire
import PoolRuntime

struct ClientCallRunner: Sendable {
    let pool: Pool
    let admin: AdminAPI
    let metrics: PoolMetrics

    func answer(_ call: PoolCall, id: [UInt8]) async -> [UInt8] {
        let start = ContinuousClock.now
        let reply = await self.pool.call(call)
        let (outcome, node): (String, Int?) =
            switch reply {
            case .result(_, let node): ("ok", node)
            case .error(_, _, let node): ("error", node)
            case .failed: ("failed", nil)
            }
        // Unlisted names come from clients: one label for all of them keeps the series bounded.
        self.metrics.callAnswered(
            method: call.id == nil ? "unlisted" : call.route.name, node: node.flatMap(self.pool.nodeName), outcome: outcome,
            duration: ContinuousClock.now - start)
        return reply.frame(id: id)
    }

    func answerAdmin(method: String, params: [UInt8], id: [UInt8]) async -> [UInt8] {
        switch await self.admin.call(method, params: params) {
        case .success(let result): RawRPCFrames.result(id: id, result: result.encoded())
        case .failure(let error): RawRPCFrames.error(id: id, error)
        }
    }
}
