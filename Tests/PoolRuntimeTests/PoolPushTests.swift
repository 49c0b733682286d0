// Nonce-safe failover and ambiguous pushes resolved by CID.

import GeneratedRoutes
import PoolRuntime
import RouteModel
import Testing

@Suite(.timeLimit(.minutes(1))) struct PoolPushTests {
    /// A signed message of sender f01001 at `nonce` (the fakes' re-push bumps its nonce).
    func signed(_ nonce: UInt64) -> SignedMessageFacts {
        SignedMessageFacts(nonce: nonce, cid: "bafy-msg-\(nonce)", json: Array("{\"nonce\":\(nonce)}".utf8))
    }

    func push(_ nonce: UInt64) -> PoolCall {
        PoolCall(
            id: .v1(.mpoolPush), method: "Filecoin.MpoolPush", version: .v1, params: Array("[]".utf8),
            facts: CallFacts(sender: "f01001", signedMessage: self.signed(nonce)))
    }

    @Test func failoverRepushesWhatTheNewNodeLacksBeforeMovingTheSender() async {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        let observer = RecordingObserver()
        let pool = await makePool(nodes, observer: observer)
        let (primary, next) = (ranking(of: "f01001", in: pool)[0], ranking(of: "f01001", in: pool)[1])
        for nonce in 0..<3 { #expect(await pool.call(self.push(UInt64(nonce))) == .result(Array("\"ok\"".utf8), node: primary)) }
        // The primary dies; the sender's next node has only seen nonce 0 so far.
        nodes[primary].unreachable()
        await pool.heartbeat()
        nodes[next].state.withLock { $0.nonces["f01001"] = 1 }
        #expect(await pool.call(self.push(3)) == .result(Array("\"ok\"".utf8), node: next))
        // Nonces 1 and 2 went there before nonce 3, in order: no gap.
        #expect(nodes[next].state.withLock { $0.repushed } == ["{\"nonce\":1}", "{\"nonce\":2}"])
        #expect(nodes[next].calls == ["Filecoin.MpoolPush"])
        #expect(observer.all.contains("f01001 moved to n\(next), 2 re-pushed"))
    }

    /// A client that builds its messages on MpoolGetNonce (then MpoolPush) would otherwise get,
    /// right after a failover, a nonce the pool already saw accepted, and its push refused.
    @Test func aNonceReadAfterFailoverFirstCatchesTheNewNodeUp() async {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes) { $0.hedgeDelay = .auto }
        let (primary, next) = (ranking(of: "f01001", in: pool)[0], ranking(of: "f01001", in: pool)[1])
        for nonce in 0..<3 { _ = await pool.call(self.push(UInt64(nonce))) }
        nodes[primary].unreachable()
        await pool.heartbeat()
        nodes[next].state.withLock { $0.nonces["f01001"] = 1 }
        let nonceRead = PoolCall(
            id: .v1(.mpoolGetNonce), method: "Filecoin.MpoolGetNonce", version: .v1, params: Array("[\"f01001\"]".utf8),
            facts: CallFacts(sender: "f01001"))
        #expect(await pool.call(nonceRead) == .result(Array("\"ok\"".utf8), node: next))
        #expect(nodes[next].state.withLock { $0.repushed } == ["{\"nonce\":1}", "{\"nonce\":2}"])
    }

    @Test func aNodeAlreadyCaughtUpNeedsNoRepush() async {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes)
        let (primary, next) = (ranking(of: "f01001", in: pool)[0], ranking(of: "f01001", in: pool)[1])
        _ = await pool.call(self.push(0))
        nodes[primary].unreachable()
        await pool.heartbeat()
        nodes[next].state.withLock { $0.nonces["f01001"] = 1 }
        #expect(await pool.call(self.push(1)) == .result(Array("\"ok\"".utf8), node: next))
        #expect(nodes[next].state.withLock { $0.repushed }.isEmpty)
    }

    @Test func failingBackToARecoveredPrimaryChecksItsNonceToo() async {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes)
        let (primary, next) = (ranking(of: "f01001", in: pool)[0], ranking(of: "f01001", in: pool)[1])
        _ = await pool.call(self.push(0))  // on the primary
        nodes[primary].unreachable()
        await pool.heartbeat()
        nodes[next].state.withLock { $0.nonces["f01001"] = 1 }
        #expect(await pool.call(self.push(1)) == .result(Array("\"ok\"".utf8), node: next))
        // The primary comes back restarted: its mpool lacks nonce 1, accepted on the next node.
        nodes[primary].health(session: "session-primary-restarted")
        nodes[primary].state.withLock { $0.nonces["f01001"] = 1 }
        await pool.heartbeat()
        #expect(await pool.call(self.push(2)) == .result(Array("\"ok\"".utf8), node: primary))
        #expect(nodes[primary].state.withLock { $0.repushed } == ["{\"nonce\":1}"])
    }

    @Test func aFailedRepushStopsBeforeOpeningAGap() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let clock = ManualClock()
        let pool = await makePool(nodes, settings: { $0.tipsetWait = GoDuration(milliseconds: 1_000) }, clock: clock)
        let (primary, next) = (ranking(of: "f01001", in: pool)[0], ranking(of: "f01001", in: pool)[1])
        for nonce in 0..<3 { _ = await pool.call(self.push(UInt64(nonce))) }  // on the primary
        nodes[primary].unreachable()
        await pool.heartbeat()
        nodes[next].state.withLock { $0.repushReply = .error(code: 1, message: "mpool is full") }
        async let reply = pool.call(self.push(3))
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(1))
        _ = await reply
        // Nonce 0 failed: 1 and 2 were not pushed after it.
        #expect(nodes[next].state.withLock { $0.repushed } == ["{\"nonce\":0}"])
    }

    @Test func aNodeWhoseNonceCatchesUpDuringTheWaitGetsThePush() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let clock = ManualClock()
        let observer = RecordingObserver()
        let pool = await makePool(nodes, settings: { $0.tipsetWait = GoDuration(milliseconds: 10_000) }, observer: observer, clock: clock)
        let (primary, next) = (ranking(of: "f01001", in: pool)[0], ranking(of: "f01001", in: pool)[1])
        for nonce in 0..<2 { _ = await pool.call(self.push(UInt64(nonce))) }
        nodes[primary].unreachable()
        await pool.heartbeat()
        // The next node cannot take the re-push now; it waits for the network instead.
        nodes[next].state.withLock { $0.repushReply = .error(code: 1, message: "mpool is full") }
        async let reply = pool.call(self.push(2))
        // Two sleep as long: the catch-up's bound, from the start, and its wait for the
        // network, once it has read the nonce and tried the re-push.
        await clock.waitForSleepers(2, lasting: .seconds(10))
        // Gossip brings the node both accepted messages; the next heartbeat wakes the wait.
        nodes[next].state.withLock { $0.nonces["f01001"] = 2 }
        await pool.heartbeat()
        #expect(await reply == .result(Array("\"ok\"".utf8), node: next))
        #expect(observer.all.contains("f01001 moved to n\(next), 0 re-pushed"))
        #expect(clock.now == .zero)
    }

    @Test func noPushWhereTheNonceNeverCatchesUp() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let clock = ManualClock()
        let pool = await makePool(nodes, settings: { $0.tipsetWait = GoDuration(milliseconds: 1_000) }, clock: clock)
        let (primary, next) = (ranking(of: "f01001", in: pool)[0], ranking(of: "f01001", in: pool)[1])
        _ = await pool.call(self.push(0))
        nodes[primary].unreachable()
        await pool.heartbeat()
        nodes[next].state.withLock { $0.repushReply = .error(code: 1, message: "mpool is full") }
        async let reply = pool.call(self.push(1))
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(1))
        #expect(
            await reply == .failed("nonce-safe failover: n\(next) has not caught up with the nonces accepted for f01001; not pushing there")
        )
        #expect(nodes[next].calls.isEmpty)
    }

    /// A stale nonce is better than no answer: the read never fails, nor waits, for the catch-up.
    @Test func aNonceReadIsAnsweredEvenWhereTheNonceNeverCatchesUp() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes, settings: { $0.tipsetWait = GoDuration(milliseconds: 1_000) })
        let (primary, next) = (ranking(of: "f01001", in: pool)[0], ranking(of: "f01001", in: pool)[1])
        _ = await pool.call(self.push(0))
        nodes[primary].unreachable()
        await pool.heartbeat()
        nodes[next].state.withLock { $0.repushReply = .error(code: 1, message: "mpool is full") }
        let nonceRead = PoolCall(
            id: .v1(.mpoolGetNonce), method: "Filecoin.MpoolGetNonce", version: .v1, params: Array("[\"f01001\"]".utf8),
            facts: CallFacts(sender: "f01001"))
        // Answered at once: a read does not wait for the network to catch the node up.
        #expect(await pool.call(nonceRead) == .result(Array("\"ok\"".utf8), node: next))
        #expect(nodes[next].calls == ["Filecoin.MpoolGetNonce"])
    }

    /// Three nodes, TipsetWait 1 s on a manual clock, sender f01001's first push accepted on
    /// its primary, which is then lost: its next push must move over with a catch-up.
    func threeNodesAfterThePrimaryIsLost() async -> ([FakeNode], ManualClock, Pool, [Int]) {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        let clock = ManualClock()
        let pool = await makePool(nodes, settings: { $0.tipsetWait = GoDuration(milliseconds: 1_000) }, clock: clock)
        let order = ranking(of: "f01001", in: pool)
        _ = await pool.call(self.push(0))
        nodes[order[0]].unreachable()
        await pool.heartbeat()
        return (nodes, clock, pool, order)
    }

    /// A push that meets one node after another that has not caught up waits one TipsetWait
    /// in all, not one per node.
    @Test func thePushesCatchUpsShareOneTipsetWait() async {
        let (nodes, clock, pool, order) = await self.threeNodesAfterThePrimaryIsLost()
        for index in order.dropFirst() { nodes[index].state.withLock { $0.repushReply = .error(code: 1, message: "mpool is full") } }
        async let reply = pool.call(self.push(1))
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(1))
        guard case .failed(let text) = await reply else { Issue.record("pushed without a catch-up"); return }
        #expect(text.contains("has not caught up"))
        #expect(nodes.allSatisfy { $0.calls.filter { $0 == "Filecoin.MpoolPush" }.count <= 1 })
    }

    /// A node that goes silent during a push's catch-up costs the catch-up's wait, not its
    /// socket's keepalive: the push moves on to the next node.
    @Test func aCatchUpOnANodeGoneSilentEndsWithItsWait() async {
        let (nodes, clock, pool, order) = await self.threeNodesAfterThePrimaryIsLost()
        nodes[order[1]].state.withLock { $0.noncesHang = true }
        nodes[order[2]].state.withLock { $0.nonces["f01001"] = 1 }
        async let reply = pool.call(self.push(1))
        await clock.waitForSleepers(1, lasting: .seconds(1))
        clock.advance(by: .seconds(1))
        #expect(await reply == .result(Array("\"ok\"".utf8), node: order[2]))
        #expect(nodes[order[1]].calls.isEmpty)
    }

    @Test func aLostReplyIsResolvedByCIDOnTheOtherNodes() async {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes)
        let order = ranking(of: "f01001", in: pool)
        nodes[order[0]].answerAlways(.unreachable(.maybeSent, detail: "websocket connection closed"))
        // The last node has already seen it (gossip): the push succeeded; nothing is sent again.
        nodes[order[2]].state.withLock { _ = $0.known.insert("bafy-msg-0") }
        #expect(await pool.call(self.push(0)) == .result(Array("{\"/\":\"bafy-msg-0\"}".utf8), node: order[2]))
        #expect(nodes[order[1]].calls.isEmpty && nodes[order[2]].calls.isEmpty)
    }

    @Test func aSignedMessageThatIsNowhereIsSentAgain() async {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        let observer = RecordingObserver()
        let pool = await makePool(nodes, observer: observer)
        let order = ranking(of: "f01001", in: pool)
        nodes[order[0]].answerAlways(.unreachable(.maybeSent, detail: "websocket connection closed"))
        #expect(await pool.call(self.push(0)) == .result(Array("\"ok\"".utf8), node: order[1]))
        #expect(observer.all.contains { $0.contains("sending the same signed message again") })
        // Quick: no slow-push line.
        #expect(!observer.all.contains { $0.hasPrefix("slow") })
    }

    /// A push slower than `PushTrace.slowAfter` is logged once with where its time went.
    @Test func aSlowPushIsReportedWithItsSteps() async {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        let observer = RecordingObserver()
        let clock = ManualClock()
        let pool = await makePool(nodes, observer: observer, clock: clock)
        let order = ranking(of: "f01001", in: pool)
        nodes[order[0]].answer { _ in
            try? await clock.sleep(for: .seconds(11))
            return .unreachable(.maybeSent, detail: "websocket connection closed")
        }
        async let pushed = pool.call(self.push(0))
        await clock.waitForSleepers(1, lasting: .seconds(11))
        clock.advance(by: .seconds(11))
        #expect(await pushed == .result(Array("\"ok\"".utf8), node: order[1]))
        let slow = observer.all.filter { $0.hasPrefix("slow Filecoin.MpoolPush") }
        #expect(
            slow == [
                "slow Filecoin.MpoolPush: sent to n\(order[0]): no answer (maybeSent, websocket connection closed) 11s; "
                    + "reply lost, message on no other node 0s; sent to n\(order[1]): accepted 0s"
            ])
    }

    @Test func aResentPushRefusedForItsNonceIsFoundByCID() async {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes)
        let order = ranking(of: "f01001", in: pool)
        nodes[order[0]].answerAlways(.unreachable(.maybeSent, detail: "websocket connection closed"))
        // By the time the pool sends it again, the first attempt has landed: the next node has
        // the message on chain and refuses its nonce.
        let next = nodes[order[1]]
        next.answer { _ in
            next.state.withLock { _ = $0.known.insert("bafy-msg-0") }
            return .error(code: 1, message: "minimum expected nonce is 1, got 0: message nonce too low")
        }
        // Before the fix the client got "nonce too low" for a push that landed.
        #expect(await pool.call(self.push(0)) == .result(Array("{\"/\":\"bafy-msg-0\"}".utf8), node: order[1]))
    }

    @Test func anUnsignedPushWithALostReplyIsNeverResent() async {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes)
        let order = ranking(of: "f01001", in: pool)
        nodes[order[0]].answerAlways(.unreachable(.maybeSent, detail: "websocket connection closed"))
        let reply = await pool.call(call(.mpoolPushMessage, sender: "f01001"))
        #expect(
            reply
                == .failed(
                    "Filecoin.MpoolPushMessage: n\(order[0]) may have accepted this push, but its reply was lost; check the sender's nonce before sending it again"
                ))
        #expect(nodes[order[1]].calls.isEmpty && nodes[order[2]].calls.isEmpty)
    }

    @Test func anIdenticalSignedMessageAlreadyInMpoolAnswersItsCID() async {
        let nodes = [FakeNode(name: "n0")]
        nodes[0].answerAlways(
            .error(code: 1, message: "message from f1abc with nonce 0 already in mpool: message with nonce already exists"))
        let pool = await makePool(nodes)
        let reply = await pool.call(
            PoolCall(
                id: .v1(.mpoolPush), method: "Filecoin.MpoolPush", version: .v1, params: [],
                facts: CallFacts(sender: "f01000", signedMessage: self.signed(0))))
        #expect(reply == .result(Array("{\"/\":\"bafy-msg-0\"}".utf8), node: 0))
    }
}
