// What a storage provider's clients do that a demo never does: give up on calls, drop the
// connection mid-open, hold HTTP calls longer than the idle timeout, stop fpool while a call
// waits on the chain — and nothing leaks, spins or hangs.

import FPoolTestSupport
import Foundation
import LotusSim
import LotusWire
import PoolRuntime
import PoolServer
import RouteModel
import Testing

/// Serialized: several of these tests measure real time (idle timeouts, grace periods), and one
/// floods a socket; run side by side they would disturb each other.
@Suite(.serialized, .timeLimit(.minutes(1))) struct ServerRobustnessTests {
    /// A ChainNotify the client cancels while it waits for a daemon leaves no channel behind:
    /// the daemon keeps the pool's one feed, and the pool only the live client's channel.
    @Test func aChannelCancelledWhileItOpensLeavesNothingUpstream() async throws {
        try await withServedPool(nodes: 1) { served in
            // Its daemon down, a ChainNotify waits for a node (and for the node's head feed).
            await served.cluster.waitForSubscriptions(total: 1)
            try await served.cluster.inject(.kill, daemon: 0)
            // Once fpool has seen its sockets close (on a loaded machine, after the restart
            // below, it took the daemon out again with no heartbeat to bring it back).
            await served.logs.waitForLine(containing: "\(served.cluster.daemons[0].name): running → disabled")
            let client = try await served.client()
            let abandoned = client.start("Filecoin.ChainNotify")
            client.cancel(requestID: abandoned.id)
            #expect(try await rpcError { try await abandoned.result() } == RPCError.canceled)
            try await served.cluster.inject(.start, daemon: 0)
            // Back once a heartbeat finds it (a beat begun while it was down may say otherwise
            // first, on a loaded machine): what this test is about starts then.
            for _ in 0..<20 where served.pool.nodes[0].state != .running { await served.pool.heartbeat() }
            #expect(served.pool.nodes[0].state == .running)
            let live = try await client.subscribe("Filecoin.ChainNotify")
            var values = live.values.makeAsyncIterator()
            _ = await values.next()
            #expect(served.cluster.subscriptions == [1])
            #expect(served.pool.openChannels.values.reduce(0, +) == 1)
        }
    }

    /// A channel opened with a string id (not cancellable by id) still closes when its client
    /// disconnects; upstream, the daemons keep the pool's one feed each.
    @Test func aChannelWithAStringIDClosesWhenItsClientLeaves() async throws {
        try await withServedPool { served in
            let client = try await served.client()
            client.sendRaw(#"{"jsonrpc":"2.0","id":"notify-1","method":"Filecoin.ChainNotify","params":[]}"#)
            #expect(await holds { served.pool.openChannels.values.reduce(0, +) == 1 })
            await client.close()
            #expect(await holds { served.pool.openChannels.isEmpty })
            await served.cluster.waitForSubscriptions(total: 3)
            #expect(served.cluster.subscriptions == [1, 1, 1])
        }
    }

    /// A call waiting for a node gives up at once when its caller does (no spinning until
    /// TipsetWait runs out).
    @Test func aCancelledCallStopsWaitingForANode() async throws {
        try await withServedPool(configure: { _, environment in environment.settings.tipsetWait = GoDuration(milliseconds: 3_600_000) }) {
            served in
            for node in served.pool.nodes { try await served.pool.setNode(node.name, .pause) }
            let call = Task {
                await served.pool.call(
                    PoolCall(id: .v1(.chainHead), method: "Filecoin.ChainHead", version: .v1, params: Array("[]".utf8)))
            }
            call.cancel()
            #expect(await call.value == .failed("context canceled"))
        }
    }

    /// SIGTERM answers what it can within the grace period, then stops, however long a call
    /// would still wait.
    @Test func gracefulStopEndsAfterTheGracePeriod() async throws {
        try await withServedPool(configure: { configuration, _ in configuration.shutdownGrace = .milliseconds(200) }) { served in
            let client = try await served.client()
            let pushed = try await client.call("Filecoin.MpoolPushMessage", [transfer(), nil])
            let waiting = client.start("Filecoin.StateWaitMsg", [try #require(pushed["CID"]), 1, 100, true])
            await served.cluster.waitForWaiters(daemon: 0, count: 1)
            // The chain never moves: the wait would last forever.
            await served.instance.server.stop()
            await client.waitUntilClosed()
            #expect(await #expect(throws: LotusClientError.self) { _ = try await waiting.result() }?.isConnectionClosed == true)
        }
    }

    /// A graceful stop waits for the calls in flight, lets a client that reads slowly receive
    /// every answer queued for it, and only then says goodbye (1001, going away): answers are
    /// not cut short because they were queued before the socket closed.
    @Test func aGracefulStopDeliversEveryQueuedAnswerThenSaysGoodbye() async throws {
        try await withServedPool { served in
            let client = try await served.client()
            let pushed = try await client.call("Filecoin.MpoolPushMessage", [transfer(), nil])
            try await client.setReading(false)
            // 16 answers of 1 MiB each (the unknown method's name comes back in its error),
            // more than loopback sockets buffer, so most of them wait in fpool for the client.
            let name = "X" + String(repeating: "x", count: 1 << 20)
            let large = (0..<16).map { _ in client.start(name) }
            let waiting = client.start("Filecoin.StateWaitMsg", [try #require(pushed["CID"]), 1, 100, true])
            // The daemon holds the wait: fpool has read every request before it.
            await served.cluster.waitForWaiters(daemon: 0, count: 1)
            let stopped = Task { await served.instance.server.stop() }
            await served.logs.waitForLine(containing: "waiting for 1 call(s) in flight before stopping")
            served.cluster.advance(3)
            try await client.setReading(true)
            for call in large {
                await #expect(throws: RPCError.self) { _ = try await call.rawResult() }
            }
            #expect(try await waiting.result()["Receipt"]?["ExitCode"]?.int == 0)
            await client.waitUntilClosed()
            #expect(client.closeCode == 1001)
            await stopped.value
        }
    }

    /// A websocket on which nothing is read for the idle timeout is closed, unless a call or a
    /// channel is open on it (a miner waiting on StateWaitMsg, a scheduler on ChainNotify).
    @Test func anIdleWebSocketIsClosedButOneWithACallOrAChannelIsNot() async throws {
        // Long enough that the busy clients send their first call within it, though on a loaded
        // machine the test's task waits its turn while the server's event loops, on threads of
        // their own, do not: a 1 s timeout once ran out first.
        try await withServedPool(configure: { configuration, _ in configuration.idleTimeout = .seconds(3) }) { served in
            // Pushed over another connection: the waiting client's first call is its wait.
            let pushed = try await served.http("Filecoin.MpoolPushMessage", [transfer(), nil])
            let cid = try #require(pushed.json?["result"]?["CID"])
            let listening = try await served.client()
            let subscription = try await listening.subscribe("Filecoin.ChainNotify")
            let waiting = try await served.client()
            let wait = waiting.start("Filecoin.StateWaitMsg", [cid, 1, 100, true])
            await served.cluster.waitForWaiters(daemon: 0, count: 1)
            // Two idle clients in turn: each is closed after the timeout, and by the time the
            // second is, the busy ones have passed their own idle checks more than once.
            for _ in 0..<2 {
                let idle = try await served.client()
                await idle.waitUntilClosed()
            }
            #expect(!listening.isClosed)
            #expect(!waiting.isClosed)
            served.cluster.advance(3)
            #expect(try await wait.result()["Receipt"] != nil)
            var values = subscription.values.makeAsyncIterator()
            #expect(await values.next() != nil)
        }
    }

    /// An HTTP call that takes longer than the idle timeout still gets its answer: a
    /// connection waiting for its answer is busy, not idle.
    @Test func aLongHTTPCallOutlivesTheIdleTimeout() async throws {
        // A second: short, yet longer than a loaded machine keeps the test's task from writing
        // its request once connected (the idle clock runs from the accept).
        try await withServedPool(configure: { configuration, _ in configuration.idleTimeout = .seconds(1) }) { served in
            // Pushed to the daemon itself: the only call to fpool is the long one, over HTTP.
            let daemon = served.cluster.daemons[0]
            let pushed = try await LotusWSClient.connect(host: "127.0.0.1", port: daemon.port, token: daemon.adminToken)
                .call("Filecoin.MpoolPushMessage", [transfer(), nil])
            let cid = try #require(pushed["CID"])
            let answer = Task { try await served.http("Filecoin.StateWaitMsg", [cid, 1, 100, true]) }
            await served.cluster.waitForWaiters(daemon: 0, count: 1)
            // Real time must pass here: the subject is a timeout.
            try await Task.sleep(for: .milliseconds(1_500))
            served.cluster.advance(3)
            let response = try await answer.value
            #expect(response.json?["result"]?["Receipt"]?["ExitCode"]?.int == 0)
        }
    }

    /// A client that stops reading its answers is closed once what waits for it stays over
    /// the limit past the grace, instead of growing fpool's memory without bound.
    @Test func aClientThatStopsReadingIsClosedAtTheWriteLimit() async throws {
        try await withServedPool(configure: { configuration, _ in
            configuration.maxQueuedBytes = 256 << 10
            // Real time: the grace is the subject.
            configuration.slowClientGrace = .milliseconds(100)
        }) { served in
            let client = try await served.client()
            try await client.setReading(false)
            // Each answer names the unknown 64 KiB method it refuses (fpool answers at once, no
            // daemon involved). Sent until the server gives up on the client: the sockets
            // buffer some megabytes first, how many depends on the host.
            let name = "X" + String(repeating: "x", count: 64 << 10)
            var calls: [LotusPendingCall] = []
            let warning = "is not reading its websocket"
            while !served.logs.all.contains(where: { $0.contains(warning) }), calls.count < 4096 {
                calls += (0..<16).map { _ in client.start(name) }
                await Task.yield()
            }
            await served.logs.waitForLine(containing: warning)
            // The connection may be gone already (a reset): then there is nothing to resume.
            try? await client.setReading(true)
            await client.waitUntilClosed()
            var closed = 0
            for call in calls {
                do { _ = try await call.rawResult() } catch let error as LotusClientError where error.isConnectionClosed {
                    closed += 1
                } catch {}
            }
            #expect(closed > 0)
            // The server goes on serving new connections.
            #expect(try await served.client().call("Filecoin.ChainHead")["Height"] != nil)
        }
    }

    /// One answer larger than the write limit reaches a client that reads it within the grace.
    @Test func anAnswerOverTheWriteLimitReachesAReadingClient() async throws {
        try await withServedPool(configure: { configuration, _ in configuration.maxQueuedBytes = 16 << 10 }) { served in
            let client = try await served.client()
            let name = "X" + String(repeating: "x", count: 64 << 10)
            let refused = try await rpcError { try await client.call(name) }
            #expect(refused?.message.contains(name) == true)
            #expect(!client.isClosed)
        }
    }

    @Test func httpAnswersEveryBodyWithJSONAndAcceptsAQueryToken() async throws {
        try await withServedPool { served in
            let stray = try await served.post(Array(#"{"jsonrpc":"2.0","id":3,"result":1}"#.utf8))
            #expect(stray.json?["error"]?["code"]?.int == -32600)
            let batch = try await served.post(Array(#"[{"jsonrpc":"2.0","id":1,"method":"Filecoin.ChainHead","params":[]}]"#.utf8))
            #expect(batch.json?["error"]?["code"]?.int == -32700)
            let token = try #require(try await served.admin("AuthNew", ["sign"]).string)
            let viaQuery = try await served.post(
                RPCFrames.request(id: 1, method: "Filecoin.MpoolPushMessage", params: [transfer(), nil]).encoded(),
                path: "/rpc/v1?token=\(token)", token: .some(nil))
            #expect(viaQuery.json?["result"]?["Message"]?["Nonce"]?.int == 0)
        }
    }
}

@Suite(.timeLimit(.minutes(1))) struct ManyChannelsTests {
    /// Many miners' schedulers at once: each websocket gets its channel and every tipset from
    /// one upstream subscription per daemon, and nothing stays behind once they leave.
    @Test func aHundredChainNotifyClientsGetEveryTipsetAndLeaveNothingBehind() async throws {
        try await withServedPool { served in
            let clients = try await withThrowingTaskGroup(of: (LotusWSClient, LotusSubscription).self) { group in
                for _ in 0..<100 {
                    group.addTask {
                        let client = try await served.client()
                        return (client, try await client.subscribe("Filecoin.ChainNotify"))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(await holds { served.pool.openChannels.values.reduce(0, +) == 100 })
            await served.cluster.waitForSubscriptions(total: 3)
            #expect(served.cluster.subscriptions == [1, 1, 1])
            served.cluster.advance(2)
            let heights = await withTaskGroup(of: [Int64].self) { group in
                for (_, subscription) in clients {
                    group.addTask {
                        var seen: [Int64] = []
                        for await value in subscription.values {
                            seen.append(value[0]?["Val"]?["Height"]?.int ?? -1)
                            if seen.count == 3 { break }
                        }
                        return seen
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(heights.count == 100)
            #expect(heights.allSatisfy { $0 == [0, 1, 2] })
            for (client, _) in clients { await client.close() }
            #expect(await holds { served.pool.openChannels.isEmpty })
            await served.cluster.waitForSubscriptions(total: 3)
            #expect(served.cluster.subscriptions == [1, 1, 1])
        }
    }
}
