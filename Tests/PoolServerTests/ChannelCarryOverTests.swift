// A ChainNotify channel whose daemon connection drops while the daemon is fine goes on for
// its client, over a new subscription, with every tipset and no close; one whose daemon died
// or restarted closes as before, so its client subscribes elsewhere.

import FPoolTestSupport
import LotusSim
import LotusWire
import PoolRuntime
import RouteModel
import Testing

@testable import PoolServer

@Suite(.timeLimit(.minutes(1))) struct ChannelCarryOverTests {
    /// The test drives the heartbeats; a long interval gives each probe time to answer on a
    /// loaded machine, so a starved probe does not end the channel the test is about.
    static func patientHeartbeats(_ configuration: inout ServerConfiguration, _ environment: inout PoolEnvironment) {
        environment.settings.heartbeatInterval = GoDuration(milliseconds: 10_000)
    }

    @Test func aDroppedConnectionIsInvisibleToAHeadChannelWhoseDaemonIsFine() async throws {
        try await withServedPool(configure: Self.patientHeartbeats) { served in
            let client = try await served.client()
            let subscription = try await client.subscribe("Filecoin.ChainNotify")
            var values = subscription.values.makeAsyncIterator()
            let current = await values.next()
            #expect(current?[0]?["Type"]?.string == "current")
            var height = try #require(current?[0]?["Val"]?["Height"]?.int)
            let serving = try #require(served.pool.openChannels.first?.key)
            // The socket under the channel goes, the daemon stays; the chain moves on meanwhile.
            try await served.cluster.inject(.dropWebSockets, daemon: serving)
            served.cluster.advance(2)
            // The heartbeats the loss wakes (this pool's loop is driven by the test): a probe
            // overtaken by another of the daemon's sockets closing does not count, so beat
            // until the carry-over is done.
            let carried = "went on over a new subscription"
            for _ in 0..<50 where !served.logs.all.contains(where: { $0.contains(carried) }) {
                await served.pool.heartbeat()
            }
            #expect(served.logs.all.contains { $0.contains(carried) }, "\(served.logs.all.joined(separator: "\n"))")
            served.cluster.advance(2)
            let end = height + 4
            // Every tipset once, in order, as applies, and the channel still open.
            while height < end, let value = await values.next() {
                for change in value.array ?? [] {
                    #expect(change["Type"]?.string == "apply")
                    #expect(change["Val"]?["Height"]?.int == height + 1)
                    height += 1
                }
            }
            #expect(height == end, "\(served.logs.all.joined(separator: "\n"))")
            #expect(!served.logs.all.contains { $0.contains("closed 1 client channel(s)") })
            #expect(served.pool.openChannels[serving] == 1)
            #expect(!client.isClosed)
        }
    }

    @Test(arguments: [SimFault.kill, .restart])
    func aHeadChannelWhoseDaemonIsGoneStillCloses(_ fault: SimFault) async throws {
        try await withServedPool(configure: Self.patientHeartbeats) { served in
            let client = try await served.client()
            let subscription = try await client.subscribe("Filecoin.ChainNotify")
            var values = subscription.values.makeAsyncIterator()
            _ = await values.next()
            let serving = try #require(served.pool.openChannels.first?.key)
            try await served.cluster.inject(fault, daemon: serving)
            await served.pool.heartbeat()
            // xrpc.ch.close ends the values: the client subscribes again (elsewhere).
            while await values.next() != nil {}
            #expect(!client.isClosed)
            #expect(!served.logs.all.contains { $0.contains("went on over a new subscription") })
            #expect(served.pool.openChannels[serving, default: 0] == 0)
        }
    }
}
