// One ChainNotify per daemon, fanned out: a thousand client channels share the daemons' three
// subscriptions, ChainHead is answered from the feed, node heads move without a heartbeat, and
// a reorganisation reaches clients and the cache as the daemons would have it.

import FPoolTestSupport
import LotusSim
import LotusWire
import PoolRuntime
import Testing

@Suite(.timeLimit(.minutes(1))) struct HeadFeedTests {
    @Test func aThousandChannelsShareOneSubscriptionPerDaemonAndAPausedDaemonClosesItsOwn() async throws {
        try await withServedPool { served in
            await served.cluster.waitForSubscriptions(total: 3)
            // 100 websockets with 10 channels each, as the schedulers of many miners would hold.
            let subscriptions = try await withThrowingTaskGroup(of: [LotusSubscription].self) { group in
                for _ in 0..<100 {
                    group.addTask {
                        let client = try await served.client()
                        var opened: [LotusSubscription] = []
                        for _ in 0..<10 { opened.append(try await client.subscribe("Filecoin.ChainNotify")) }
                        return opened
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(served.pool.openChannels.values.reduce(0, +) == 1_000)
            #expect(served.cluster.subscriptions == [1, 1, 1])
            served.cluster.advance(1)
            let firstTwo = await Self.heights(of: subscriptions, count: 2)
            #expect(firstTwo.allSatisfy { $0 == [0, 1] })
            // The busiest daemon paused: exactly its clients' channels close; the others go on.
            let (busiest, served0) = try #require(served.pool.openChannels.max { $0.value < $1.value })
            try await served.pool.setNode(served.cluster.daemons[busiest].name, .pause)
            served.cluster.advance(1)
            let next = await Self.heights(of: subscriptions, count: 1)
            #expect(next.filter(\.isEmpty).count == served0)
            #expect(next.filter { $0 == [2] }.count == 1_000 - served0)
            #expect(served.pool.openChannels[busiest, default: 0] == 0)
        }
    }

    @Test func chainHeadComesFromTheFeedAsTheDaemonSentItAndNodeHeadsMoveWithoutAHeartbeat() async throws {
        try await withServedPool { served in
            await served.cluster.waitForSubscriptions(total: 3)
            served.cluster.advance(3)
            // No heartbeat runs here (tests call them): the feeds moved the heads.
            #expect(await holds { served.pool.nodes.allSatisfy { $0.health?.head == 3 } })
            let direct = try await LotusWSClient.connect(
                host: "127.0.0.1", port: served.cluster.daemons[0].port, token: served.cluster.daemons[0].adminToken)
            let fromDaemon = try await direct.start("Filecoin.ChainHead", rawParams: Array("[]".utf8)).rawResult()
            let before = served.cluster.daemons.indices.map { served.cluster.calls(daemon: $0) }
            let client = try await served.client()
            for _ in 0..<20 {
                #expect(try await client.start("Filecoin.ChainHead", rawParams: Array("[]".utf8)).rawResult() == fromDaemon)
            }
            let overHTTP = try await served.http("Filecoin.ChainHead")
            #expect(overHTTP.json?["result"] == (try JSON.parse(String(decoding: fromDaemon, as: UTF8.self))))
            #expect(served.cluster.daemons.indices.map { served.cluster.calls(daemon: $0) } == before)
            // Params a daemon would refuse still reach one.
            #expect(try await rpcError { try await client.call("Filecoin.ChainHead", [1]) }?.code == -32602)
        }
    }

    @Test func aReorgReachesClientsAsSentAndNoCachedAnswerOutlivesIt() async throws {
        try await withServedPool { served in
            await served.cluster.waitForSubscriptions(total: 3)
            served.cluster.advance(6)
            // A new channel starts at its feed's head: once the feeds have the daemons' (their
            // values were once still on the way, and the first head one tipset behind).
            #expect(await holds { served.pool.nodes.allSatisfy { $0.health?.head == 6 } })
            let client = try await served.client()
            let subscription = try await client.subscribe("Filecoin.ChainNotify")
            var values = subscription.values.makeAsyncIterator()
            #expect(await values.next()?[0]?["Val"]?["Height"]?.int == 6)
            // Answers at the tipsets about to be orphaned, kept by the cache.
            let heads = try await (5...6).asyncMap { height in
                try await client.call("Filecoin.ChainGetTipSetByHeight", [.int(height), []])["Cids"] ?? .null
            }
            let before = try await heads.asyncMap { key in try await client.call("Filecoin.StateGetActor", ["f01000", key]) }
            let walk: [JSON] = [5, heads[1]]
            #expect(try await client.call("Filecoin.ChainGetTipSetByHeight", walk)["Cids"] == heads[0])
            // A daemon that stays behind knows nothing of the new branch.
            try await served.cluster.inject(.pauseSync(true), daemon: 2)
            let reorg = served.cluster.reorg(depth: 2)
            #expect(reorg.orphaned.map(\.json).reversed() == heads)
            let change = try #require(await values.next())
            #expect(change.array?.map { $0["Type"]?.string } == ["revert", "revert", "apply", "apply"])
            #expect(change.array?.map { $0["Val"]?["Cids"] } == (reorg.orphaned + reorg.applied).map { .some($0.json) })
            #expect(try await client.call("Filecoin.ChainHead")["Cids"] == reorg.applied.last?.json)
            #expect(
                try await client.call("Filecoin.ChainGetTipSetByHeight", [.int(reorg.forkHeight), []])["Cids"] == reorg.applied.first?.json)
            // What the pool answers at either branch's keys is what a daemon answers now.
            let direct = try await LotusWSClient.connect(
                host: "127.0.0.1", port: served.cluster.daemons[0].port, token: served.cluster.daemons[0].adminToken)
            for (key, cached) in zip(heads, before) {
                #expect(try await client.call("Filecoin.StateGetActor", ["f01000", key]) == cached)
                #expect(try await direct.call("Filecoin.StateGetActor", ["f01000", key]) == cached)
            }
            // A walk back from an orphaned head stays on its branch.
            #expect(try await client.call("Filecoin.ChainGetTipSetByHeight", walk)["Cids"] == heads[0])
            #expect(try await direct.call("Filecoin.ChainGetTipSetByHeight", walk)["Cids"] == heads[0])
            #expect(served.pool.cacheFigures.hits["ChainGetTipSetByHeight"] == 1)
            for tipset in reorg.applied {
                let truth = try await direct.call("Filecoin.StateGetActor", ["f01000", tipset.json])
                #expect(!before.contains(truth))
                // Asked in turn of every node, the one behind included: its "not found" is retried
                // elsewhere, never kept.
                for _ in 0..<6 { #expect(try await client.call("Filecoin.StateGetActor", ["f01000", tipset.json]) == truth) }
            }
        }
    }

    /// An HTTP client pipelines a ChainHead (answered at once, from the feed) and a read that
    /// waits on the chain, then leaves: the waiting read is cancelled on its daemon.
    @Test func aWaitingReadPipelinedBehindAChainHeadIsCancelledWhenItsClientLeaves() async throws {
        try await withServedPool(nodes: 1) { served in
            await served.cluster.waitForSubscriptions(total: 1)
            let pushed = try await served.client().call("Filecoin.MpoolPushMessage", [transfer(), nil])
            let wait = RPCFrames.request(id: 2, method: "Filecoin.StateWaitMsg", params: [try #require(pushed["CID"]), 1, 100, true])
            let peer = try await RawWebSocketPeer.open(port: served.port)
            try await peer.sendRaw(
                RawWebSocketPeer.postRequest(#"{"jsonrpc":"2.0","id":1,"method":"Filecoin.ChainHead","params":[]}"#)
                    + RawWebSocketPeer.postRequest(wait.description))
            await served.cluster.waitForWaiters(daemon: 0, count: 1)
            await peer.close()
            await served.cluster.waitForWaiters(daemon: 0, atMost: 0)
        }
    }

    /// The heights of the next `count` values of every subscription (fewer when it closed).
    private static func heights(of subscriptions: [LotusSubscription], count: Int) async -> [[Int64]] {
        await withTaskGroup(of: [Int64].self) { group in
            for subscription in subscriptions {
                group.addTask {
                    var seen: [Int64] = []
                    for await value in subscription.values {
                        seen.append(value[value.array!.count - 1]?["Val"]?["Height"]?.int ?? -1)
                        if seen.count == count { break }
                    }
                    return seen
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
    }
}

extension ClosedRange where Bound == Int64 {
    fileprivate func asyncMap<T>(_ transform: (Int64) async throws -> T) async rethrows -> [T] {
        var mapped: [T] = []
        for value in self { mapped.append(try await transform(value)) }
        return mapped
    }
}

extension Array {
    fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var mapped: [T] = []
        for value in self { mapped.append(try await transform(value)) }
        return mapped
    }
}
