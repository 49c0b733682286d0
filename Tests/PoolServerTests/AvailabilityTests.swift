// Never less available than the best daemon, end to end over real sockets: null rounds degrade
// the pool instead of stopping it, a daemon of another chain disables nobody, a pass-through
// pool gates nothing, a silent daemon costs one hedge delay, a closed socket is not tried again.

import Foundation
import GeneratedRoutes
import LotusSim
import LotusWire
import PoolRuntime
import PoolServer
import RouteModel
import FPoolTestSupport
import Testing

@Suite(.timeLimit(.minutes(1))) struct AvailabilityTests {
    func get(_ served: ServedPool, _ path: String) async throws -> (status: Int, body: String) {
        let response = try await served.post([], path: path, method: "GET", token: .some(nil))
        return (Int(response.status), String(decoding: response.body, as: UTF8.self))
    }

    /// A Prometheus series' value in a scrape (0 when absent).
    func counter(_ series: String, in metrics: String) -> Double {
        metrics.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.dropFirst(series.count + 1)) } ?? 0
    }

    /// Every retry after `node` so far, whatever the method and reason.
    func retries(after node: String, _ served: ServedPool) async throws -> Double {
        let metrics = try await self.get(served, "/metrics").body
        return metrics.split(separator: "\n").filter { $0.hasPrefix("fpool_retries_total{") && $0.contains("node=\"\(node)\"") }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
    }

    @Test func nullRoundsDegradeThePoolInsteadOfStoppingIt() async throws {
        try await withServedPool { served in
            served.cluster.advance(1)
            await served.pool.heartbeat()
            #expect(!served.pool.health.degraded)
            // No tipset for three block times: every daemon's Behind (the head's age) passes 2.
            served.cluster.scheduleNullRounds(3)
            served.cluster.advance(3)
            await served.pool.heartbeat()
            #expect(served.pool.nodes.allSatisfy { $0.state.description.hasPrefix("disabled (sync behind") })
            // Each daemon would answer a direct call: so does the pool.
            let client = try await served.client()
            let head = try await client.call("Filecoin.ChainHead", [])
            #expect(head["Height"]?.int == 1)
            let health = try await self.get(served, "/healthz")
            #expect(health.status == 200)
            #expect(health.body.contains(#""status":"degraded""#))
            #expect(try await self.get(served, "/metrics").body.contains("fpool_pool_degraded 1"))
            #expect(served.logs.all.contains { $0.contains("pool degraded: no node passes the health checks") })
            // The next tipset ends it.
            served.cluster.advance(1)
            await served.pool.heartbeat()
            #expect(!served.pool.health.degraded)
            #expect(try await self.get(served, "/healthz").body.contains(#""status":"ok""#))
            #expect(served.logs.all.contains { $0.contains("pool no longer degraded") })
        }
    }

    @Test func aDaemonOfAnotherNetworkDisablesNobodyAndCannotBeAdded() async throws {
        try await withServedPool(nodes: 4, configure: { _, environment in environment.nodes.removeLast() }) { served in
            try await served.cluster.inject(.network(name: "othernet"), daemon: 2)
            try await served.cluster.inject(.network(name: "othernet"), daemon: 3)
            served.cluster.advance(1)
            // A beat that began before the restart's socket loss keeps the loss; the next judges.
            await served.pool.heartbeat()
            await served.pool.heartbeat()
            // Its head is far above the others', on another chain: it never counts as the best.
            #expect(served.pool.nodes.map(\.state.isAvailable) == [true, true, false])
            let wrong = served.pool.nodes[2].state.description
            #expect(wrong.hasPrefix("disabled (wrong network: the daemon is on othernet"))
            #expect(wrong.contains("the pool on fpoolsim"))
            let daemon = served.cluster.daemons[3]
            let refused = try await rpcError {
                try await served.admin("NodeAdd", [.string(daemon.multiaddr), .string(daemon.adminToken), "fourth"])
            }
            #expect(refused?.message.hasPrefix("fourth refused: wrong network: the daemon is on othernet") == true)
            #expect(served.pool.nodes.count == 3)
        }
    }

    @Test func aPassThroughPoolCallsAPeerlessDaemonAsADirectConnectionWould() async throws {
        try await withServedPool(
            nodes: 1,
            configure: { _, environment in
                let info = environment.nodes[0]
                environment = try! PoolEnvironment.load([
                    "FULLNODE_API_INFO": "\(info.token):/ip4/127.0.0.1/tcp/\(info.address.port)/http", "FULLNODE_API_USE_POOL": "false",
                ])
                environment.settings.tipsetWait = GoDuration(milliseconds: 20_000)
            }
        ) { served in
            try await served.cluster.inject(.peers(message: 0, block: 0), daemon: 0)
            await served.pool.heartbeat()
            let client = try await served.client()
            // Not gated, not waiting for a tipset wait of 20 s: answered as the daemon answers.
            let actor = try await client.call("Filecoin.StateGetActor", ["f0100", []])
            #expect(actor["Nonce"]?.int == 0)
            let ahead = try await rpcError { try await client.call("Filecoin.ChainGetTipSetByHeight", [50, []]) }
            #expect(ahead?.message.contains("looking for tipset with height greater than start point") == true)
        }
    }

    @Test func aBlackHoledDaemonCostsOneHedgeDelay() async throws {
        try await withServedPool(configure: { _, environment in
            environment.settings.hedgeDelay = .after(GoDuration(milliseconds: 100))
            environment.settings.defaultPolicy = .oneByIndexAsc
        }) { served in
            let client = try await served.client()
            // Warm: this connection's event loop has its sockets open to the daemons.
            _ = try await client.call("Filecoin.StateGetActor", ["f0100", []])
            try await served.cluster.inject(.blackHole(true), daemon: 0)
            // No heartbeat runs: daemon 0 still looks healthy, and the hedge alone gets the answer.
            for _ in 0..<3 {
                let actor = try await client.call("Filecoin.StateGetActor", ["f0100", []])
                #expect(actor["Nonce"]?.int == 0)
            }
            #expect(served.pool.nodes[0].state.isAvailable)
            // Each of the three was hedged and won by its hedge (the warm call too, on a slow host).
            let metrics = try await self.get(served, "/metrics").body
            #expect(self.counter(#"fpool_hedges_sent_total{method="StateGetActor"}"#, in: metrics) >= 3)
            #expect(self.counter(#"fpool_hedges_won_total{method="StateGetActor"}"#, in: metrics) >= 3)
            try await served.cluster.inject(.blackHole(false), daemon: 0)
        }
    }

    @Test func aKilledDaemonIsNotTriedAgainBeforeTheNextHeartbeat() async throws {
        try await withServedPool(configure: { _, environment in environment.settings.defaultPolicy = .oneByIndexAsc }) { served in
            let client = try await served.client()
            _ = try await client.call("Filecoin.StateGetActor", ["f0100", []])
            try await served.cluster.inject(.kill, daemon: 0)
            await served.logs.waitForLine(containing: "node sim-daemon-0: running → disabled (unreachable: connection lost")
            // Counted in the metrics: the log summarises repeated retries.
            let retriesBefore = try await self.retries(after: "sim-daemon-0", served)
            for _ in 0..<20 {
                let actor = try await client.call("Filecoin.StateGetActor", ["f0100", []])
                #expect(actor["Nonce"]?.int == 0)
            }
            // Not one call went to the dead daemon first: no retry after it.
            #expect(try await self.retries(after: "sim-daemon-0", served) == retriesBefore)
        }
    }
}
