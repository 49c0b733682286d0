// Nonces from each daemon's own view, Lotus's push errors, propagation and inclusion.

import LotusSim
import LotusWire
import FPoolTestSupport
import Testing

@Suite(.timeLimit(.minutes(1))) struct SimMpoolTests {
    let sender = SimFixtures.accounts[0]

    @Test func pushMessageAssignsConsecutiveNoncesAndTheChainIncludesThem() async throws {
        try await withCluster(nodes: 2) { cluster in
            let client = try await cluster.client(0)
            var cids: [JSON] = []
            for expected in 0..<3 {
                let signed = try await client.call("Filecoin.MpoolPushMessage", [transfer(), nil])
                #expect(signed["Message"]?["Nonce"]?.int == Int64(expected))
                cids.append(try #require(signed["CID"]))
            }
            #expect(try await client.call("Filecoin.MpoolGetNonce", [.string(self.sender.id)]).int == 3)
            // Propagated at once (no delay): the other daemon sees them pending and agrees on the nonce.
            let other = try await cluster.client(1)
            #expect(try await other.call("Filecoin.MpoolPending", [[]]).array?.count == 3)
            #expect(try await other.call("Filecoin.MpoolGetNonce", [.string(self.sender.key)]).int == 3)
            cluster.advance(1)
            #expect(try await other.call("Filecoin.MpoolPending", [[]]).array?.isEmpty == true)
            // Executed by the next tipset, whose parent state shows the new nonce.
            cluster.advance(1)
            #expect(try await other.call("Filecoin.StateGetActor", [.string(self.sender.id), []])["Nonce"]?.int == 3)
            for cid in cids {
                #expect(try await other.call("Filecoin.StateWaitMsg", [cid, 0, -1, true])["Height"]?.int == 2)
            }
        }
    }

    @Test func pushErrorsUseLotusTexts() async throws {
        try await withCluster(nodes: 1) { cluster in
            let client = try await cluster.client()
            let signed = try await client.call("Filecoin.MpoolPushMessage", [transfer(), nil])
            // The identical message again: already in mpool (for the pool, a success).
            let again = try await rpcError { try await client.call("Filecoin.MpoolPush", [signed]) }
            #expect(again?.message == "message from \(self.sender.key) with nonce 0 already in mpool: message with nonce already exists")
            // A different message at that nonce without a higher premium.
            let rival = try await self.signedElsewhere(cluster, nonce: 0, value: "2")
            let rbf = try await rpcError { try await client.call("Filecoin.MpoolPush", [rival]) }
            #expect(
                rbf?.message
                    == "message from \(self.sender.key) with nonce 0 already in mpool, increase GasPremium to 1251 from 1000 to trigger replace by fee: replace by fee has too low GasPremium"
            )
            // A gap.
            let gapped = try await self.signedElsewhere(cluster, nonce: 5, value: "1")
            let gap = try await rpcError { try await client.call("Filecoin.MpoolPush", [gapped]) }
            #expect(gap?.message == "message nonce has too big a gap from expected nonce (Nonce: 5, nextNonce: 1): unfulfilled nonce gap")
            // After inclusion, nonce 0 is too low.
            cluster.advance(1)
            let low = try await rpcError { try await client.call("Filecoin.MpoolPush", [rival]) }
            #expect(low?.message == "minimum expected nonce is 1, got 0: message nonce too low")
        }
    }

    @Test func walletWithoutTheKeyCannotSign() async throws {
        try await withCluster(nodes: 2) { cluster in
            cluster.removeWalletKey(self.sender.key, daemon: 1)
            let error = try await rpcError { try await cluster.client(1).call("Filecoin.MpoolPushMessage", [transfer(), nil]) }
            #expect(error?.message.contains("key not found for \(self.sender.key)") == true)
            let has = try await cluster.client(1).call("Filecoin.WalletHas", [.string(self.sender.key)])
            #expect(has == false)
        }
    }

    @Test func messagesStayLocalUntilPropagated() async throws {
        try await withCluster(nodes: 2) { cluster in
            // No message peers: the daemon cannot publish, so the other daemon never sees it.
            try await cluster.inject(.peers(message: 0, block: 5), daemon: 0)
            let pushed = try await cluster.client(0).call("Filecoin.MpoolPushMessage", [transfer(), nil])
            let other = try await cluster.client(1)
            #expect(try await other.call("Filecoin.MpoolPending", [[]]).array?.isEmpty == true)
            cluster.advance(1)
            #expect(cluster.inclusionHeight(of: pushed["CID"]?["/"]?.string ?? "") == nil)
            // Peers back: it publishes, and the next tipset includes it.
            try await cluster.inject(.peers(message: 3, block: 5), daemon: 0)
            #expect(try await other.call("Filecoin.MpoolPending", [[]]).array?.count == 1)
            cluster.advance(1)
            #expect(cluster.inclusionHeight(of: pushed["CID"]?["/"]?.string ?? "") == 2)
        }
    }

    /// A daemon cut off from its peers takes a message at a nonce the network meanwhile got
    /// from another daemon; when it publishes, the network keeps the one it saw first (the
    /// same premium does not replace it), as Lotus's mpools do. Before, the late one replaced
    /// it, and a push answered with success never reached the chain.
    @Test func theNetworkKeepsTheFirstMessageItSawAtANonce() async throws {
        try await withCluster(nodes: 2) { cluster in
            try await cluster.inject(.peers(message: 0, block: 5), daemon: 0)
            let late = try await cluster.client(0).call("Filecoin.MpoolPushMessage", [transfer(value: "1"), nil])
            let first = try await cluster.client(1).call("Filecoin.MpoolPushMessage", [transfer(value: "2"), nil])
            #expect(late["Message"]?["Nonce"] == first["Message"]?["Nonce"])
            try await cluster.inject(.peers(message: 3, block: 5), daemon: 0)
            cluster.advance(1)
            #expect(cluster.inclusionHeight(of: first["CID"]?["/"]?.string ?? "") != nil)
            #expect(cluster.inclusionHeight(of: late["CID"]?["/"]?.string ?? "") == nil)
        }
    }

    @Test func messagesStayOnTheirDaemonUntilTheDelayPasses() async throws {
        try await withCluster(nodes: 2, propagationDelay: .seconds(3600)) { cluster in
            let other = try await cluster.client(1)
            let arrivals = try await other.subscribe("Filecoin.MpoolSub")
            let pushed = try await cluster.client(0).call("Filecoin.MpoolPushMessage", [transfer(), nil])
            #expect(try await other.call("Filecoin.MpoolPending", [[]]).array?.isEmpty == true)
            #expect(try await cluster.client(0).call("Filecoin.MpoolPending", [[]]).array?.count == 1)
            // As if the delay had passed: the network carries it, the other MpoolSub reports it.
            cluster.propagateNow()
            let arrived = await next(1, of: arrivals)
            #expect(arrived[0]["Message"]?["CID"] == pushed["CID"])
            #expect(try await other.call("Filecoin.MpoolPending", [[]]).array?.count == 1)
        }
    }

    @Test func aShortDelayPropagatesByItself() async throws {
        try await withCluster(nodes: 2, propagationDelay: .milliseconds(20)) { cluster in
            let arrivals = try await cluster.client(1).subscribe("Filecoin.MpoolSub")
            let pushed = try await cluster.client(0).call("Filecoin.MpoolPushMessage", [transfer(), nil])
            #expect(await next(1, of: arrivals)[0]["Message"]?["CID"] == pushed["CID"])
        }
    }

    @Test func stateWaitMsgReturnsOnceIncludedWithConfidence() async throws {
        try await withCluster(nodes: 1) { cluster in
            let client = try await cluster.client()
            let pushed = try await client.call("Filecoin.MpoolPushMessage", [transfer(), nil])
            let cid = try #require(pushed["CID"])
            let lookup = client.start("Filecoin.StateWaitMsg", [cid, 2, -1, true])
            await cluster.waitForWaiters(daemon: 0, count: 1)
            // Included at 1, executed at 2, two more tipsets of confidence: answered at 4.
            cluster.advance(3)
            #expect(cluster.waitingCalls(daemon: 0) == 1)
            cluster.advance(1)
            let result = try await lookup.result()
            #expect(result["Height"]?.int == 2)
            #expect(result["Receipt"]?["ExitCode"]?.int == 0)
            #expect(result["Message"] == cid)
        }
    }

    /// A test's wait for a count that never comes ends when its task is cancelled (a test
    /// past its time limit fails instead of hanging the run), and a wait given up on is not
    /// resumed a second time when the count comes after all.
    @Test func aCancelledWaitForCallersOrChannelsEnds() async throws {
        try await withCluster(nodes: 1) { cluster in
            let waiters = Task { await cluster.waitForWaiters(daemon: 0, count: 1) }
            let channels = Task { await cluster.waitForSubscriptions(total: 1) }
            waiters.cancel()
            channels.cancel()
            #expect(
                await untilCancelled(
                    {
                        await waiters.value; return true
                    }, cancelled: { false }))
            #expect(
                await untilCancelled(
                    {
                        await channels.value; return true
                    }, cancelled: { false }))
            let client = try await cluster.client()
            _ = try await client.subscribe("Filecoin.ChainNotify")
            await cluster.waitForSubscriptions(total: 1)
            let pushed = try await client.call("Filecoin.MpoolPushMessage", [transfer(), nil])
            _ = client.start("Filecoin.StateWaitMsg", [try #require(pushed["CID"]), 5, -1, true])
            await cluster.waitForWaiters(daemon: 0, count: 1)
        }
    }

    @Test func cancelledWaitIsStillAnswered() async throws {
        try await withCluster(nodes: 1) { cluster in
            let client = try await cluster.client()
            let pushed = try await client.call("Filecoin.MpoolPushMessage", [transfer(), nil])
            let waiting = client.start("Filecoin.StateWaitMsg", [try #require(pushed["CID"]), 5, -1, true])
            // Queued after the request, so the daemon sees the call before its cancellation.
            client.cancel(requestID: waiting.id)
            #expect(try await rpcError { try await waiting.result() } == RPCError(code: 1, message: "context canceled"))
        }
    }

    @Test func lookupsOfUnseenMessagesFailAsLotusDoes() async throws {
        try await withCluster(nodes: 1) { cluster in
            let client = try await cluster.client()
            let unknown: JSON = ["/": "bafy2bzaceunknown"]
            let message = "failed to load message: ipld: could not find bafy2bzaceunknown"
            #expect(try await rpcError { try await client.call("Filecoin.StateWaitMsg", [unknown, 0, -1, true]) }?.message == message)
            #expect(try await rpcError { try await client.call("Filecoin.StateSearchMsg", [[], unknown, -1, true]) }?.message == message)
        }
    }

    @Test func batchPushChecksEachMessage() async throws {
        try await withCluster(nodes: 1) { cluster in
            let scratch = try await self.signedElsewhere(cluster, nonce: 1, value: "5")
            let first = try await self.signedElsewhere(cluster, nonce: 0, value: "5")
            let client = try await cluster.client()
            let cids = try await client.call("Filecoin.MpoolBatchPush", [[first, scratch]])
            #expect(cids.array?.count == 2)
            #expect(try await client.call("Filecoin.MpoolGetNonce", [.string(self.sender.id)]).int == 2)
        }
    }

    /// A message signed by the sender's key (as any wallet holding it would), pushed nowhere yet.
    func signedElsewhere(_ cluster: SimCluster, nonce: Int64, value: String) async throws -> JSON {
        // MpoolPushMessage on a throwaway network signs it; the signature depends only on the message.
        try await withCluster(nodes: 1) { scratch in
            let client = try await scratch.client()
            for _ in 0..<nonce {
                _ = try await client.call("Filecoin.MpoolPushMessage", [transfer(value: "7"), nil])
            }
            return try await client.call("Filecoin.MpoolPushMessage", [transfer(value: value), nil])
        }
    }
}
