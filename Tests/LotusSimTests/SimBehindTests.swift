// NodeStatus's SyncStatus.Behind in both modes: the head's age in block times (as Lotus
// computes it) and the true lag in epochs.

import Foundation
import LotusSim
import LotusWire
import Testing

@Suite(.timeLimit(.minutes(1))) struct SimBehindTests {
    func behind(_ client: LotusWSClient) async throws -> Int64? {
        try await client.call("Filecoin.NodeStatus", [false])["SyncStatus"]?["Behind"]?.int
    }

    @Test func headAgeIsTheDefault() {
        #expect(SimConfiguration().behindMode == .headAge)
        #expect(SimConfiguration().networkName == "fpoolsim")
    }

    /// Driven by the test, each `advance` step is one block time: a paused head ages one block
    /// time per step and a synced one never, in either mode.
    @Test(arguments: SimBehindMode.allCases)
    func aPausedDaemonFallsBehindOneBlockTimePerStepAndASyncedOneStaysAtZero(mode: SimBehindMode) async throws {
        try await withCluster(nodes: 2, behindMode: mode) { cluster in
            cluster.advance(2)
            try await cluster.inject(.pauseSync(true), daemon: 1)
            let synced = try await cluster.client(0)
            let paused = try await cluster.client(1)
            for step in 1...4 {
                cluster.advance(1)
                #expect(try await self.behind(synced) == 0)
                #expect(try await self.behind(paused) == Int64(step))
            }
            try await cluster.inject(.pauseSync(false), daemon: 1)
            #expect(try await self.behind(paused) == 0)
        }
    }

    /// With a running block timer, tipsets carry the wall clock's time when produced; a synced
    /// head is at most a block time old and a paused one ages with the wall clock. Each tipset
    /// is an event to check at; at 250 ms per block, 2 s of pause takes about 8 of them.
    @Test func withARunningTimerTimestampsAreRealTimeAndAPausedHeadAges() async throws {
        try await withCluster(nodes: 2, blockTime: .milliseconds(250)) { cluster in
            try await cluster.inject(.pauseSync(true), daemon: 1)
            let synced = try await cluster.client(0)
            let paused = try await cluster.client(1)
            let notify = try await synced.subscribe("Filecoin.ChainNotify")
            var ages: [Int64] = []
            var syncedBehind: [Int64] = []
            var pausedBehind: Int64 = -1
            var tipsets = 0
            for await value in notify.values {
                guard value[0]?["Type"]?.string == "apply", let timestamp = value.array?.last?["Val"]?["Blocks"]?[0]?["Timestamp"]?.int
                else { continue }
                tipsets += 1
                ages.append(Int64(Date().timeIntervalSince1970) - timestamp)
                syncedBehind.append(try await self.behind(synced) ?? -1)
                pausedBehind = try await self.behind(paused) ?? -1
                if pausedBehind >= 2 || tipsets >= 60 { break }
            }
            #expect(pausedBehind >= 2, "after \(tipsets) tipsets")
            #expect(!ages.isEmpty && ages.allSatisfy { (0...1).contains($0) }, "\(ages)")
            #expect(syncedBehind.allSatisfy { (0...1).contains($0) }, "\(syncedBehind)")
            #expect(try await paused.call("Filecoin.ChainHead")["Height"]?.int == 0)
        }
    }
}
