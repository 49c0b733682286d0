// Network-wide null rounds: block times without a tipset age every head at once, and the
// next tipset's height skips their epochs, as on Filecoin.

import LotusSim
import LotusWire
import Testing

@Suite(.timeLimit(.minutes(1))) struct SimNullRoundTests {
    @Test func nullRoundsPutEveryDaemonBehindThenTheNextTipsetSkipsTheirHeights() async throws {
        try await withCluster(nodes: 3) { cluster in
            cluster.advance(2)
            var clients: [LotusWSClient] = []
            for daemon in 0..<3 { clients.append(try await cluster.client(daemon)) }
            let notify = try await clients[0].subscribe("Filecoin.ChainNotify")
            let before = try await clients[0].call("Filecoin.ChainHead")
            cluster.scheduleNullRounds(3)
            #expect(cluster.pendingNullRounds == 3)
            #expect(cluster.advance(3) == 2)
            #expect(cluster.pendingNullRounds == 0)
            for client in clients {
                let status = try await client.call("Filecoin.NodeStatus", [false])
                #expect(status["SyncStatus"]?["Behind"]?.int == 3)
                #expect(status["SyncStatus"]?["Epoch"]?.int == 2)
            }

            #expect(cluster.advance(1) == 6)
            // ChainNotify: the current head, then one apply for 6; nothing for 3, 4 and 5.
            let values = await next(2, of: notify)
            #expect(values[0][0]?["Val"]?["Height"]?.int == 2)
            #expect(values[1].array?.count == 1)
            #expect(values[1][0]?["Val"]?["Height"]?.int == 6)
            #expect(values[1][0]?["Val"]?["Blocks"]?[0]?["Parents"] == before["Cids"])
            for client in clients {
                #expect(try await client.call("Filecoin.NodeStatus", [false])["SyncStatus"]?["Behind"]?.int == 0)
                #expect(try await client.call("Filecoin.ChainHead")["Height"]?.int == 6)
            }
            // A null epoch answers the tipset below it, as Lotus does with the head as lookback.
            let head = try #require(try await clients[1].call("Filecoin.ChainHead")["Cids"])
            for epoch in 3...5 {
                #expect(try await clients[1].call("Filecoin.ChainGetTipSetByHeight", [.int(Int64(epoch)), head]) == before)
            }
            #expect(try await clients[1].call("Filecoin.ChainGetTipSetByHeight", [6, []])["Height"]?.int == 6)
        }
    }

    @Test(arguments: SimBehindMode.allCases)
    func onlyHeadAgeSeesNullRounds(mode: SimBehindMode) async throws {
        try await withCluster(nodes: 2, behindMode: mode) { cluster in
            cluster.advance(1)
            cluster.scheduleNullRounds(4)
            cluster.advance(4)
            for daemon in 0..<2 {
                let behind = try await cluster.client(daemon).call("Filecoin.NodeStatus", [false])["SyncStatus"]?["Behind"]?.int
                #expect(behind == (mode == .headAge ? 4 : 0))
            }
        }
    }

    @Test func aMessageIncludedBeforeNullRoundsIsExecutedByTheNextTipset() async throws {
        try await withCluster(nodes: 1) { cluster in
            let client = try await cluster.client()
            let pushed = try await client.call("Filecoin.MpoolPushMessage", [transfer(), nil])
            let cid = try #require(pushed["CID"])
            cluster.advance(1)  // included at 1
            cluster.scheduleNullRounds(2)
            let waiting = client.start("Filecoin.StateWaitMsg", [cid, 0, -1, true])
            await cluster.waitForWaiters(daemon: 0, count: 1)
            cluster.advance(2)
            // Null rounds execute nothing: the call still waits.
            #expect(cluster.waitingCalls(daemon: 0) == 1)
            cluster.advance(1)  // the tipset at 4 executes it
            #expect(try await waiting.result()["Height"]?.int == 4)
            #expect(try await client.call("Filecoin.StateSearchMsg", [[], cid, -1, true])["Height"]?.int == 4)
            let block = try #require(try await client.call("Filecoin.ChainHead")["Cids"]?[0])
            #expect(try await client.call("Filecoin.ChainGetParentMessages", [block]).array?.count == 1)
        }
    }
}
