// The result cache through fpool's server, in front of simulated daemons: a state read at a
// named tipset reaches a daemon once; a read at the head, or one no daemon can answer, every time.

import LotusWire
import PoolRuntime
import FPoolTestSupport
import Testing

@Suite(.timeLimit(.minutes(1))) struct CacheThroughServerTests {
    static func daemonCalls(_ served: ServedPool) -> UInt64 {
        served.cluster.daemons.indices.map { served.cluster.calls(daemon: $0) }.reduce(0, +)
    }

    @Test func aReadAtANamedTipsetReachesADaemonOnceAndTheHeadEveryTime() async throws {
        try await withServedPool(configure: { _, environment in environment.settings.hedgeDelay = .off }) { served in
            served.cluster.advance(3)
            await served.pool.heartbeat()
            let head = try #require(try await served.http("Filecoin.ChainHead").json?["result"]?["Cids"])
            let actor = JSON.string("f0100")
            let params = JSON.array([actor, head]).encoded()
            let why = { (params: [UInt8]) async throws -> String in
                try await served.admin("APIWhy", ["StateGetActor", "v1", nil, nil, .string(String(decoding: params, as: UTF8.self))])[
                    "Cache"]?
                    .string ?? ""
            }
            #expect(try await why(params) == "tipset: this call would ask a daemon, and its successful answer would be kept")
            #expect(
                try await why(JSON.array([actor, []]).encoded()).hasSuffix(
                    "names the head (an empty TipSetKey) or lacks a param: never cached"))
            let before = Self.daemonCalls(served)
            let first = try await served.http("Filecoin.StateGetActor", [actor, head]).json?["result"]
            #expect(first?["Nonce"] != nil)
            #expect(Self.daemonCalls(served) == before + 1)
            #expect(try await why(params) == "tipset: this call would be answered from the cache, no daemon asked")
            // Over HTTP and over a websocket, the same answer, and no daemon asked.
            for _ in 0..<3 { #expect(try await served.http("Filecoin.StateGetActor", [actor, head]).json?["result"] == first) }
            let client = try await served.client()
            #expect(try await client.call("Filecoin.StateGetActor", [actor, head]) == first)
            await client.close()
            #expect(Self.daemonCalls(served) == before + 1)
            // The head moves: a call naming it with an empty key is asked each time.
            for _ in 0..<2 { _ = try await served.http("Filecoin.StateGetActor", [actor, []]) }
            #expect(Self.daemonCalls(served) == before + 3)
            // A tipset no daemon has: an error, asked again next time, never kept.
            let unknown: JSON = [["/": "bafy2bzaceunknowntipsetunknowntipsetunknowntipsetunknownaaa"]]
            let missing = try await served.http("Filecoin.ChainGetTipSet", [unknown]).json
            #expect(missing?["error"] != nil)
            let afterMissing = Self.daemonCalls(served)
            _ = try await served.http("Filecoin.ChainGetTipSet", [unknown])
            #expect(Self.daemonCalls(served) > afterMissing)
            // The metrics count them.
            let metrics = String(decoding: try await served.post([], path: "/metrics", method: "GET").body, as: UTF8.self)
            #expect(metrics.contains("fpool_cache_hits_total{method=\"StateGetActor\"} 4"), "\(metrics)")
            #expect(metrics.contains("fpool_cache_misses_total{method=\"StateGetActor\"} 1"))
        }
    }
}
