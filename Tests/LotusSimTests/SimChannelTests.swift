// go-jsonrpc channels: ChainNotify's current-then-apply values, MpoolSub, cancel and close.

import LotusSim
import LotusWire
import Testing

@Suite(.timeLimit(.minutes(1))) struct SimChannelTests {
    @Test func chainNotifyStartsWithCurrentThenApplies() async throws {
        try await withCluster(nodes: 1) { cluster in
            cluster.advance(2)
            let client = try await cluster.client()
            let notify = try await client.subscribe("Filecoin.ChainNotify")
            #expect(notify.channelID == 1)
            cluster.advance(1)
            cluster.advance(1)
            let values = await next(3, of: notify)
            #expect(values[0].array?.count == 1)
            #expect(values[0][0]?["Type"]?.string == "current")
            #expect(values[0][0]?["Val"]?["Height"]?.int == 2)
            #expect(values[1][0]?["Type"]?.string == "apply")
            #expect(values[1][0]?["Val"]?["Height"]?.int == 3)
            #expect(values[2][0]?["Val"]?["Height"]?.int == 4)
        }
    }

    @Test func aLaggingDaemonStallsThenCatchesUpInOneBatch() async throws {
        try await withCluster(nodes: 1) { cluster in
            cluster.advance(2)
            let notify = try await cluster.client().subscribe("Filecoin.ChainNotify")
            try await cluster.inject(.lag(epochs: 2), daemon: 0)
            cluster.advance(3)  // network 5, daemon 3
            try await cluster.inject(.lag(epochs: 0), daemon: 0)
            let values = await next(3, of: notify)
            #expect(values[1].array?.compactMap { $0["Type"]?.string } == ["apply"])
            #expect(values[1].array?.compactMap { $0["Val"]?["Height"]?.int } == [3])
            #expect(values[2].array?.compactMap { $0["Type"]?.string } == ["apply", "apply"])
            #expect(values[2].array?.compactMap { $0["Val"]?["Height"]?.int } == [4, 5])
        }
    }

    @Test func cancelClosesTheChannelFromTheServer() async throws {
        try await withCluster(nodes: 1) { cluster in
            let client = try await cluster.client()
            let notify = try await client.subscribe("Filecoin.ChainNotify")
            client.cancel(requestID: notify.requestID)
            var received = 0
            for await _ in notify.values { received += 1 }  // ends on xrpc.ch.close
            #expect(received == 1)
            // The connection is still good, and the chain moving sends nothing to the closed channel.
            cluster.advance(1)
            #expect(try await client.call("Filecoin.ChainHead")["Height"]?.int == 1)
            #expect(client.strayFrames.isEmpty)
        }
    }

    @Test func mpoolSubSeesPushes() async throws {
        try await withCluster(nodes: 1) { cluster in
            let client = try await cluster.client()
            let sub = try await client.subscribe("Filecoin.MpoolSub")
            let pushed = try await client.call("Filecoin.MpoolPushMessage", [transfer(), nil])
            let values = await next(1, of: sub)
            #expect(values[0]["Type"]?.int == 0)
            #expect(values[0]["Message"]?["CID"] == pushed["CID"])
        }
    }

    @Test func restartDropsChannelsAndConnections() async throws {
        try await withCluster(nodes: 1) { cluster in
            let client = try await cluster.client()
            let notify = try await client.subscribe("Filecoin.ChainNotify")
            try await cluster.inject(.restart, daemon: 0)
            for await _ in notify.values {}
            await client.waitUntilClosed()
        }
    }
}
