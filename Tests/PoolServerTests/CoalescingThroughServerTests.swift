// Coalesced reads through fpool's server: identical reads in flight at once reach a daemon
// once, and every caller gets the answer under its own request id.

import LotusSim
import LotusWire
import PoolRuntime
import FPoolTestSupport
import Testing

@Suite(.timeLimit(.minutes(1))) struct CoalescingThroughServerTests {
    @Test func identicalReadsInFlightShareTheirUpstreamCall() async throws {
        try await withServedPool(configure: { _, environment in environment.settings.hedgeDelay = .off }) { served in
            // Slow daemons: the reads below are all in flight before the first answer.
            for daemon in 0..<3 { try await served.cluster.inject(.latency(milliseconds: 400), daemon: daemon) }
            let calls = { served.cluster.daemons.indices.map { served.cluster.calls(daemon: $0) }.reduce(0, +) }
            let before = calls()
            let clients = try await withThrowingTaskGroup(of: LotusWSClient.self) { group in
                for _ in 0..<4 { group.addTask { try await served.client() } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let answers = try await withThrowingTaskGroup(of: JSON.self) { group in
                for client in clients {
                    for _ in 0..<5 { group.addTask { try await client.call("Filecoin.StateNetworkName") } }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.count == 20)
            #expect(answers.allSatisfy { $0.string == served.cluster.networkName })
            // Twenty calls, but a few upstream ones at most: those that started before the first
            // of them was in flight on this loaded machine; with none, twenty.
            #expect(calls() - before < 10, "\(calls() - before) upstream calls for 20 identical reads")
            #expect((served.pool.coalescedReads["StateNetworkName"] ?? 0) >= 10)
            for client in clients { await client.close() }
        }
    }
}
