// Routing through the pool with fake daemons: policies, fallbacks, the retry matrix, waits.

import GeneratedRoutes
import PoolRuntime
import RouteModel
import Testing

@Suite(.timeLimit(.minutes(1))) struct PoolRoutingTests {
    @Test func defaultPolicyPicksThePrimarySeedsNode() async {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes) { $0.primarySeed = 4 }
        #expect(await pool.call(call(.stateGetActor)) == .result(Array("\"ok\"".utf8), node: 1))
        #expect(await pool.call(call(.walletBalance)) == .result(Array("\"ok\"".utf8), node: 1))
        #expect(nodes[1].calls == ["Filecoin.StateGetActor", "Filecoin.WalletBalance"])
        #expect(pool.callIDs == ["StateGetActor": 1, "WalletBalance": 1])
    }

    @Test func chainHeadGoesToTheHighestHead() async {
        let nodes = [FakeNode(name: "a", head: 100), FakeNode(name: "b", head: 101), FakeNode(name: "c", head: 100)]
        let pool = await makePool(nodes)
        #expect(await pool.call(call(.chainHead)) == .result(Array("\"ok\"".utf8), node: 1))
    }

    @Test func readsMoveOnAfterNetworkErrors() async {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        nodes[0].answerAlways(.unreachable(.maybeSent, detail: "websocket connection closed"))
        let observer = RecordingObserver()
        let pool = await makePool(nodes, observer: observer)
        #expect(await pool.call(call(.chainGetTipSet)) == .result(Array("\"ok\"".utf8), node: 1))
        #expect(
            observer.all.contains(
                "retry Filecoin.ChainGetTipSet after n0: network: no answer to an idempotent call (websocket connection closed)"))
    }

    /// A client that gave up (its connection closed) cancels its call: the lost answer is not
    /// retried on another node, nor logged as a retry.
    @Test func aCancelledCallIsNotRetried() async {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        for node in nodes { node.hangUntilReset() }
        let observer = RecordingObserver()
        let pool = await makePool(nodes, settings: { $0.hedgeDelay = .off }, observer: observer)
        let waiting = Task { await pool.call(call(.stateGetActor)) }
        guard let stuck = await firstStuck(nodes) else { return }
        waiting.cancel()
        await nodes[stuck].reset()
        #expect(await waiting.value == .failed("context canceled"))
        #expect(nodes.map(\.calls.count).reduce(0, +) == 1)
        #expect(!observer.all.contains { $0.hasPrefix("retry") })
    }

    /// The index of the node a call got stuck on (every node hangs; the call reaches one).
    func firstStuck(_ nodes: [FakeNode]) async -> Int? {
        for _ in 0..<100_000 {
            if let index = nodes.firstIndex(where: { $0.state.withLock { !$0.stuck.isEmpty } }) { return index }
            await Task.yield()
        }
        Issue.record("no call reached a node")
        return nil
    }

    @Test func pushesAreNeverResentAfterTheyMayHaveArrived() async {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        for node in nodes { node.answerAlways(.unreachable(.maybeSent, detail: "websocket connection closed")) }
        let pool = await makePool(nodes)
        let reply = await pool.call(call(.mpoolPushMessage, sender: "f0100"))
        #expect(
            reply
                == .failed(
                    "Filecoin.MpoolPushMessage: n1 may have accepted this push, but its reply was lost; check the sender's nonce before sending it again"
                ))
        #expect(nodes.map(\.calls.count).reduce(0, +) == 1)
    }

    @Test func pushesMoveOnWhenTheRequestNeverLeft() async {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        // f0100 → 100 mod 3 = node 1.
        nodes[1].answerAlways(.unreachable(.notSent, detail: "connection refused"))
        let pool = await makePool(nodes)
        #expect(await pool.call(call(.mpoolPushMessage, sender: "f0100")) == .result(Array("\"ok\"".utf8), node: 2))
    }

    @Test func lagErrorsRetryOnlyWhereTheParamsAllowIt() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        nodes[0].answerAlways(.error(code: 1, message: "loading tipset {bafy}: get block bafy: ipld: could not find bafy"))
        let pool = await makePool(nodes)
        // StateGetActor names a tipset: retried on the next node.
        #expect(await pool.call(call(.stateGetActor)) == .result(Array("\"ok\"".utf8), node: 1))
        // ChainHead names none: the answer stands (node 0 has the best head, within
        // MaxBehindDiff of node 1, which is never asked).
        nodes[0].health(head: 101)
        await pool.heartbeat()
        let reply = await pool.call(call(.chainHead))
        #expect(reply == .error(code: 1, message: "loading tipset {bafy}: get block bafy: ipld: could not find bafy", node: 0))
        #expect(!nodes[1].calls.contains("Filecoin.ChainHead"))
    }

    @Test func actorNotFoundRetriesAddressRoutes() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        nodes[0].answerAlways(.error(code: 11, message: "resolve address f1abc: actor not found"))
        let pool = await makePool(nodes)
        #expect(await pool.call(call(.walletBalance)) == .result(Array("\"ok\"".utf8), node: 1))
        // Every node says so: the last answer is the true one.
        nodes[1].answerAlways(.error(code: 11, message: "resolve address f1abc: actor not found"))
        #expect(await pool.call(call(.walletBalance)) == .error(code: 11, message: "resolve address f1abc: actor not found", node: 1))
    }

    @Test func anUnsignedAlreadyInMpoolAnswerIsPassedThrough() async {
        let nodes = [FakeNode(name: "n0")]
        let text = "message from f1abc with nonce 4 already in mpool: message with nonce already exists"
        nodes[0].answerAlways(.error(code: 1, message: text))
        let pool = await makePool(nodes)
        #expect(await pool.call(call(.mpoolPush, sender: "f0100")) == .error(code: 1, message: text, node: 0))
        #expect(nodes[0].calls.count == 1)
    }

    @Test func allWithFirstSucceedReturnsTheFirstSuccess() async throws {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        nodes[0].answerAlways(.error(code: 1, message: "boom"))
        nodes[1].answer { _ in
            try? await Task.sleep(for: .seconds(60))
            return .result(Array("\"slow\"".utf8))
        }
        let pool = await makePool(nodes)
        try pool.setAPI("StateNetworkVersion", key: "policy", to: "FirstOk")
        #expect(await pool.call(call(.stateNetworkVersion)) == .result(Array("\"ok\"".utf8), node: 2))
    }

    @Test func nohangFailsAtOnceWhenNoNodeServes() async throws {
        let nodes = [FakeNode(name: "n0")]
        nodes[0].unreachable()
        let pool = await makePool(nodes)
        try pool.setAPI("ChainHead", key: "nohang", to: "true")
        #expect(await pool.call(call(.chainHead)) == .failed("no node available for Filecoin.ChainHead (nohang)"))
    }

    @Test func withoutNohangACallWaitsForANodeToComeBack() async {
        let nodes = [FakeNode(name: "n0")]
        nodes[0].unreachable()
        let clock = ManualClock()
        let pool = await makePool(nodes, clock: clock)
        async let reply = pool.call(call(.chainHead))
        await clock.waitForSleepers(1)  // the call is waiting
        nodes[0].health()
        await pool.heartbeat()
        #expect(await reply == .result(Array("\"ok\"".utf8), node: 0))
    }

    @Test func theWaitIsBounded() async {
        let nodes = [FakeNode(name: "n0")]
        nodes[0].unreachable()
        let clock = ManualClock()
        let pool = await makePool(nodes, settings: { $0.tipsetWait = GoDuration(milliseconds: 5_000) }, clock: clock)
        async let reply = pool.call(call(.chainHead))
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(5))
        #expect(await reply == .failed("no node available for Filecoin.ChainHead within 5s"))
    }

    @Test func apiTimeoutEndsAHungCall() async throws {
        let nodes = [FakeNode(name: "n0")]
        nodes[0].answer { _ in
            try? await Task.sleep(for: .seconds(600))
            return .result([])
        }
        let clock = ManualClock()
        let pool = await makePool(nodes, clock: clock)
        try pool.setAPI("ChainHead", key: "timeout", to: "2s")
        async let reply = pool.call(call(.chainHead))
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(2))
        #expect(await reply == .failed("Filecoin.ChainHead: timeout after 2s"))
    }

    @Test func tipsetAwareRoutingPrefersNodesThatReachedTheEpoch() async {
        let nodes = [FakeNode(name: "behind", head: 100), FakeNode(name: "ahead", head: 102)]
        let pool = await makePool(nodes) { $0.primarySeed = 0 }
        // The primary (node 0) has not reached 101: the node that has goes first.
        #expect(await pool.call(call(.chainGetTipSetByHeight, height: 101)) == .result(Array("\"ok\"".utf8), node: 1))
        #expect(await pool.call(call(.chainGetTipSetByHeight, height: 99)) == .result(Array("\"ok\"".utf8), node: 0))
    }

    @Test func tipsetAwareRoutingWaitsForTheChainToGetThere() async {
        let nodes = [FakeNode(name: "n0", head: 100), FakeNode(name: "n1", head: 100)]
        let clock = ManualClock()
        let pool = await makePool(nodes, clock: clock)
        async let reply = pool.call(call(.chainGetTipSetByHeight, height: 101))
        await clock.waitForSleepers(1)
        nodes[1].health(head: 101)
        await pool.heartbeat()
        #expect(await reply == .result(Array("\"ok\"".utf8), node: 1))
    }

    /// 5,000 calls for an absurd epoch each held a waiter for the whole TipsetWait; a daemon
    /// answers them at once (Lotus: "looking for tipset with height greater than start point").
    @Test func anEpochTheChainCannotReachIsNotWaitedFor() async {
        let nodes = [FakeNode(name: "n0", head: 100), FakeNode(name: "n1", head: 100)]
        let clock = ManualClock()
        let pool = await makePool(nodes, settings: { $0.tipsetWait = GoDuration(milliseconds: 30_000) }, clock: clock)
        // Within 30 s the chain may reach 101 or 102: those wait; 103 and beyond do not.
        // Answered without the clock moving: nothing waited.
        guard case .result = await pool.call(call(.chainGetTipSetByHeight, height: 103)) else {
            Issue.record("not answered")
            return
        }
        // 102 is waited for, and answered once a node gets there.
        async let reply = pool.call(call(.chainGetTipSetByHeight, height: 102))
        await clock.waitForSleepers(1)
        nodes[0].health(head: 102)
        await pool.heartbeat()
        #expect(await reply == .result(Array("\"ok\"".utf8), node: 0))
    }

    @Test func unlistedMethodsAreForwardedAndReportedOnce() async {
        let nodes = [FakeNode(name: "n0")]
        let observer = RecordingObserver()
        let pool = await makePool(nodes, observer: observer)
        let unknown = PoolCall(id: nil, method: "Filecoin.FutureMethod", version: .v1, params: Array("[]".utf8))
        #expect(await pool.call(unknown) == .result(Array("\"ok\"".utf8), node: 0))
        _ = await pool.call(unknown)
        #expect(observer.all.filter { $0 == "unlisted FutureMethod" }.count == 1)
    }
}
