// Daemon faults as a lotus-miner behind fpool lives them: channels that close and reopen
// elsewhere, reads that never fail, pushes that keep their nonces, hot changes under load.

import Foundation
import GeneratedRoutes
import LotusSim
import LotusWire
import PoolRuntime
import PoolServer
import RouteModel
import Synchronization
import FPoolTestSupport
import Testing

/// Counts finished calls and lets the test wait until a number of them is reached.
final class Progress: Sendable {
    private let state = Mutex<(done: Int, failures: [String], waiters: [(Int, CheckedContinuation<Void, Never>)])>((0, [], []))

    func record(failure: String? = nil) {
        let ready = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.done += 1
            if let failure { state.failures.append(failure) }
            let ready = state.waiters.filter { $0.0 <= state.done }.map(\.1)
            state.waiters.removeAll { $0.0 <= state.done }
            return ready
        }
        ready.forEach { $0.resume() }
    }

    /// Returns once `count` calls finished, or when the test is cancelled (its time limit).
    func wait(for count: Int) async {
        await untilCancelled {
            await withCheckedContinuation { continuation in
                let reached = self.state.withLock { state -> Bool in
                    if state.done >= count { return true }
                    state.waiters.append((count, continuation))
                    return false
                }
                if reached { continuation.resume() }
            }
        }
    }

    var failures: [String] { self.state.withLock { $0.failures } }

    /// Calls answered (or failed) so far.
    var done: Int { self.state.withLock { $0.done } }
}

/// `workers` clients of fpool, each making `calls` calls of `method` over its own websocket.
func readLoad(_ served: ServedPool, workers: Int, calls: Int, method: String, params: [JSON], progress: Progress) async throws -> Task<
    Void, Never
> {
    var clients: [LotusWSClient] = []
    for _ in 0..<workers { clients.append(try await served.client()) }
    return Task {
        await withTaskGroup(of: Void.self) { group in
            for client in clients {
                group.addTask {
                    for _ in 0..<calls {
                        do {
                            _ = try await client.call(method, params)
                            progress.record()
                        } catch {
                            progress.record(failure: "\(error)")
                        }
                    }
                }
            }
        }
    }
}

@Suite(.timeLimit(.minutes(1))) struct FailoverThroughServerTests {
    @Test func chainNotifyClosesWhenItsDaemonFallsBehindAndResubscribesElsewhere() async throws {
        try await withServedPool { served in
            let client = try await served.client()
            let first = try await client.subscribe("Filecoin.ChainNotify")
            var values = first.values.makeAsyncIterator()
            #expect(await values.next()?[0]?["Type"]?.string == "current")
            let serving = try #require(served.pool.openChannels.first?.key)
            try await served.cluster.inject(.pauseSync(true), daemon: serving)
            served.cluster.advance(3)
            await served.pool.heartbeat()
            // The channel ends with xrpc.ch.close: the values the paused daemon never saw are not sent.
            while await values.next() != nil {}
            #expect(!client.isClosed)
            let again = try await client.subscribe("Filecoin.ChainNotify")
            #expect(served.pool.openChannels.keys.contains(serving) == false)
            var next = again.values.makeAsyncIterator()
            let current = await next.next()
            #expect(current?[0]?["Type"]?.string == "current")
            #expect(current?[0]?["Val"]?["Height"]?.int == 3)
            served.cluster.advance(1)
            let applied = await next.next()
            #expect(applied?[0]?["Type"]?.string == "apply")
            #expect(applied?[0]?["Val"]?["Height"]?.int == 4)
            #expect(served.logs.all.contains { $0.contains("closed 1 client channel(s) served by sim-daemon-\(serving)") })
        }
    }

    @Test func aClientCancelClosesTheChannelUpstream() async throws {
        try await withServedPool { served in
            let client = try await served.client()
            let subscription = try await client.subscribe("Filecoin.ChainNotify")
            var values = subscription.values.makeAsyncIterator()
            _ = await values.next()
            #expect(served.pool.openChannels.values.reduce(0, +) == 1)
            client.cancel(requestID: subscription.requestID)
            // fpool closes the client's channel (xrpc.ch.close) and forgets it; the daemon keeps
            // the pool's one feed, which serves the next subscriber.
            while await values.next() != nil {}
            #expect(await holds { served.pool.openChannels.isEmpty })
            await served.cluster.waitForSubscriptions(total: 3)
            #expect(served.cluster.subscriptions == [1, 1, 1])
        }
    }

    @Test func aDaemonKilledDuringSteadyReadsFailsNoClientCall() async throws {
        try await withServedPool { served in
            served.cluster.advance(1)
            let progress = Progress()
            let load = try await readLoad(
                served, workers: 4, calls: 60, method: "Filecoin.StateGetActor", params: ["f0100", []], progress: progress)
            await progress.wait(for: 40)
            // PrimarySeed 0 → daemon 0 serves these reads; it dies mid-load, before any heartbeat.
            try await served.cluster.inject(.kill, daemon: 0)
            await progress.wait(for: 120)
            await served.pool.heartbeat()
            await load.value
            #expect(progress.failures == [])
            #expect(served.pool.nodes[0].state.isAvailable == false)
            #expect(served.cluster.calls(daemon: 1) > 0)
        }
    }

    @Test func aSendersDaemonKilledBetweenPushesKeepsItsNoncesGapless() async throws {
        // The catch-up on the next daemon is bounded by TipsetWait: 2 s was outlasted on a
        // loaded machine, and it ends as soon as the nonce has caught up.
        try await withServedPool(configure: { _, environment in environment.settings.tipsetWait = GoDuration(milliseconds: 30_000) }) {
            served in
            let client = try await served.client()
            // Account 0 is f0100; its messages stay in its bound daemon's mpool.
            let bound = try #require(served.pool.decide(.v1(.mpoolPushMessage), facts: CallFacts(sender: "f0100"))?.first?.index)
            try await served.cluster.inject(.peers(message: 0, block: 5), daemon: bound)
            var cids: [String] = []
            for nonce in 0..<2 {
                let signed = try await client.call("Filecoin.MpoolPushMessage", [transfer(), nil])
                #expect(signed["Message"]?["Nonce"]?.int == Int64(nonce))
                cids.append(signed["CID"]?["/"]?.string ?? "")
            }
            try await served.cluster.inject(.kill, daemon: bound)
            await served.pool.heartbeat()
            let third = try await client.call("Filecoin.MpoolPushMessage", [transfer(), nil])
            #expect(third["Message"]?["Nonce"]?.int == 2)
            cids.append(third["CID"]?["/"]?.string ?? "")
            served.cluster.advance(2)
            #expect(cids.map { served.cluster.inclusionHeight(of: $0) } == [1, 1, 1])
            #expect(Set(cids).count == 3)
            #expect(served.logs.all.contains { $0.contains("re-pushed 2 message(s)") })
        }
    }

    @Test func blockNotFoundOnALaggingDaemonIsRetriedOnAnother() async throws {
        // No hedge: on a loaded host one could answer first and leave no retry to see.
        try await withServedPool(configure: { _, environment in environment.settings.hedgeDelay = .off }) { served in
            try await served.cluster.inject(.lag(epochs: 2), daemon: 0)
            served.cluster.advance(4)
            await served.pool.heartbeat()
            let fresh = try await LotusWSClient.connect(
                host: "127.0.0.1", port: served.cluster.daemons[1].port, token: served.cluster.daemons[1].adminToken)
            let key = try #require(try await fresh.call("Filecoin.ChainHead")["Cids"])
            let client = try await served.client()
            // ChainGetTipSet's default policy starts at daemon 0 (PrimarySeed 0), which lacks the tipset.
            #expect(try await client.call("Filecoin.ChainGetTipSet", [key])["Height"]?.int == 4)
            #expect(served.logs.all.contains { $0.contains("ChainGetTipSet retried after sim-daemon-0: block not found") })
        }
    }

    @Test func hotAPIAndConfigChangesUnderLoadTakeEffectWithoutFailures() async throws {
        try await withServedPool { served in
            let progress = Progress()
            // Enough calls that the load is still running after each change, however slow the
            // admin calls are on a busy machine.
            let load = try await readLoad(
                served, workers: 4, calls: 200, method: "Filecoin.StateGetActor", params: ["f0100", []], progress: progress)
            await progress.wait(for: 60)
            // StateGetActor follows the pool default: switch it to the last node, then one API back.
            _ = try await served.admin("ConfigSet", ["DefaultPolicy", "OneByIndexDesc"])
            let lastBefore = served.cluster.calls(daemon: 2)
            // Counted from the change: calls answered before it returned may have gone anywhere.
            await progress.wait(for: progress.done + 40)
            #expect(served.cluster.calls(daemon: 2) > lastBefore)
            let settings = try await served.admin("APISet", ["StateGetActor", "policy", "OneByIndexAsc"])
            #expect(settings["Policy"]?.string == "OneByIndexAsc")
            let firstBefore = served.cluster.calls(daemon: 0)
            await progress.wait(for: progress.done + 40)
            #expect(served.cluster.calls(daemon: 0) > firstBefore)
            await load.value
            #expect(progress.failures == [])
            let bad = try await rpcError { try await served.admin("ConfigSet", ["MaxSyncBehnd", "3"]) }
            #expect(bad?.message.hasPrefix("unknown setting 'MaxSyncBehnd'; expected one of: ") == true)
            #expect(bad?.message.contains("MaxSyncBehind") == true)
        }
    }
}
