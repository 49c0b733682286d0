// Each fault a daemon can suffer, observed the way a client would observe it.

import LotusSim
import LotusWire
import FPoolTestSupport
import Testing

@Suite(.timeLimit(.minutes(1))) struct SimFaultTests {
    @Test func killRefusesConnectionsUntilStarted() async throws {
        try await withCluster(nodes: 2) { cluster in
            let client = try await cluster.client(1)
            let session = cluster.daemons[1].session
            try await cluster.inject(.kill, daemon: 1)
            await client.waitUntilClosed()
            await #expect(throws: (any Error).self) { try await cluster.client(1) }
            await #expect(throws: (any Error).self) { try await cluster.http(1, "Filecoin.ChainHead") }
            try await cluster.inject(.start, daemon: 1)
            // A process started again is a new process: a new Session.
            let after = try await cluster.client(1).call("Filecoin.Session").string
            #expect(after != nil && after != session)
        }
    }

    @Test func restartChangesTheSession() async throws {
        try await withCluster(nodes: 1) { cluster in
            let before = try await cluster.client().call("Filecoin.Session").string
            try await cluster.inject(.restart, daemon: 0)
            let after = try await cluster.client().call("Filecoin.Session").string
            #expect(before != nil && after != nil && before != after)
        }
    }

    @Test func pausedSyncFreezesTheHeadAndBehindGrows() async throws {
        try await withCluster(nodes: 1) { cluster in
            cluster.advance(2)
            try await cluster.inject(.pauseSync(true), daemon: 0)
            cluster.advance(3)
            let client = try await cluster.client()
            #expect(try await client.call("Filecoin.ChainHead")["Height"]?.int == 2)
            let status = try await client.call("Filecoin.NodeStatus", [false])
            #expect(status["SyncStatus"]?["Epoch"]?.int == 2)
            #expect(status["SyncStatus"]?["Behind"]?.int == 3)
            #expect(try await client.call("Filecoin.SyncState")["ActiveSyncs"]?[0]?["Stage"]?.int == 3)
            try await cluster.inject(.pauseSync(false), daemon: 0)
            #expect(try await client.call("Filecoin.ChainHead")["Height"]?.int == 5)
        }
    }

    @Test func peerCountsShowInNodeStatus() async throws {
        try await withCluster(nodes: 1) { cluster in
            try await cluster.inject(.peers(message: 0, block: 2), daemon: 0)
            let status = try await cluster.client().call("Filecoin.NodeStatus", [false])
            #expect(status["PeerStatus"]?["PeersToPublishMsgs"]?.int == 0)
            #expect(status["PeerStatus"]?["PeersToPublishBlocks"]?.int == 2)
            #expect(try await cluster.client().call("Filecoin.NetPeers").array?.count == 2)
        }
    }

    @Test func failNextFailsExactlyKCalls() async throws {
        try await withCluster(nodes: 1) { cluster in
            let injected = RPCError(code: 1, message: "loading tipset {bafy}: blockstore: block not found")
            try await cluster.inject(.failNext(method: "ChainHead", count: 2, error: injected), daemon: 0)
            let client = try await cluster.client()
            #expect(try await rpcError { try await client.call("Filecoin.ChainHead") } == injected)
            #expect(try await rpcError { try await client.call("Filecoin.ChainHead") } == injected)
            _ = try await client.call("Filecoin.ChainHead")
        }
    }

    @Test func latencyDelaysAnswers() async throws {
        try await withCluster(nodes: 1) { cluster in
            try await cluster.inject(.latency(milliseconds: 150), daemon: 0)
            let client = try await cluster.client()
            let started = ContinuousClock.now
            _ = try await client.call("Filecoin.ChainHead")
            #expect(ContinuousClock.now - started >= .milliseconds(150))
        }
    }

    @Test func droppedWebSocketsCloseButTheListenerStays() async throws {
        try await withCluster(nodes: 1) { cluster in
            let client = try await cluster.client()
            let notify = try await client.subscribe("Filecoin.ChainNotify")
            try await cluster.inject(.dropWebSockets, daemon: 0)
            await client.waitUntilClosed()
            for await _ in notify.values {}
            _ = try await cluster.client().call("Filecoin.ChainHead")
        }
    }

    @Test func blackHoleReadsAndNeverAnswers() async throws {
        try await withCluster(nodes: 1) { cluster in
            let client = try await cluster.client()
            try await cluster.inject(.blackHole(true), daemon: 0)
            // The call can only end by the client giving up: race it against a deadline, and
            // check the deadline won while the connection stayed open (silence, not a drop).
            let (answered, stillOpen) = await withTaskGroup(of: Bool.self) { group in
                group.addTask { (try? await client.call("Filecoin.ChainHead")) != nil }
                group.addTask {
                    try? await Task.sleep(for: .milliseconds(300))
                    return false
                }
                let first = await group.next()!
                let open = !client.isClosed
                group.cancelAll()
                await client.close()
                return (first, open)
            }
            #expect(!answered)
            #expect(stillOpen)
            try await cluster.inject(.blackHole(false), daemon: 0)
            _ = try await cluster.client().call("Filecoin.ChainHead")
        }
    }

    @Test func fragmentedRequestsAndPingsAreHandled() async throws {
        try await withCluster(nodes: 1) { cluster in
            let client = try await cluster.client()
            await client.ping()
            // Over 4096 bytes, go-jsonrpc splits a request into continuation frames.
            let padding = String(repeating: "x", count: 6000)
            let raw = #"{"jsonrpc":"2.0","id":9999,"method":"Filecoin.Session","params":[],"meta":{"SpanContext":""# + padding + #""}}"#
            let session = try await client.call(rawRequest: raw, id: 9999, fragments: 4)
            #expect(session.string == cluster.daemons[0].session)
        }
    }
}
