// Rendezvous bindings: adding or removing a daemon moves few senders, two pools agree, and a
// node that leaves takes its bindings with it.

import GeneratedRoutes
import PoolRuntime
import RouteModel
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(1))) struct PoolStableBindingTests {
    static let senders = (0..<1_000).map { "f0\(1_000 + $0 * 7)" }

    func bound(_ pool: Pool) -> [Int] { Self.senders.map { ranking(of: $0, in: pool).first ?? -1 } }

    @Test func addingAFourthDaemonMovesAboutAQuarterOfTheSenders() async {
        let three = await makePool((0..<3).map { FakeNode(name: "n\($0)") })
        let four = await makePool((0..<4).map { FakeNode(name: "n\($0)") })
        let before = self.bound(three)
        let after = self.bound(four)
        let moved = zip(before, after).filter { $0 != $1 }
        // Only senders that now rank the new node first move, and only to it.
        #expect(moved.allSatisfy { $0.1 == 3 })
        #expect(moved.count <= 400, "moved \(moved.count) of 1000")
        #expect(moved.count >= 150, "the new node should take its share, took \(moved.count)")
        // Load spreads: every node gets a fair share.
        for node in 0..<4 { #expect(after.filter { $0 == node }.count > 150) }
    }

    @Test func twoPoolsGivenTheSameDaemonsBindEverySenderAlike() async {
        // Names differ, addresses are the same: the binding follows the daemon.
        let first = await makePool((0..<3).map { FakeNode(name: "n\($0)") })
        let second = await makePool((0..<3).map { FakeNode(name: "other-\($0)") })
        #expect(self.bound(first) == self.bound(second))
    }

    @Test func anExitedNodeLeavesItsSendersToTheirNextChoiceOnly() async throws {
        let nodes = (0..<4).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes)
        let before = Self.senders.map { ranking(of: $0, in: pool) }
        try pool.bind(seed: "f01000", node: "n2")
        try await pool.setNode("n2", .exit)
        let after = self.bound(pool)
        for (ranked, now) in zip(before, after) {
            // Senders of other nodes stay; those of n2 go to their own second choice.
            #expect(now == (ranked[0] == 2 ? ranked[1] : ranked[0]))
        }
        #expect(!pool.bindings.contains { $0.explicit })
        #expect(!pool.nodes.contains { $0.name == "n2" })
    }
}

@Suite(.timeLimit(.minutes(1))) struct PoolPassThroughTests {
    @Test func aPeerlessLaggingDaemonIsStillCalledAsADirectConnectionWould() async {
        let node = FakeNode(name: "only")
        node.health(head: 90, behind: 7, messagePeers: 0, blockPeers: 0)
        let clock = ManualClock()
        let pool = await makePool([node], clock: clock, usePool: false)
        // No health gating and no tipset wait: an epoch ahead of the head is asked at once.
        #expect(await pool.call(call(.stateGetActor)) == .result(Array("\"ok\"".utf8), node: 0))
        #expect(await pool.call(call(.chainGetTipSetByHeight, height: 95)) == .result(Array("\"ok\"".utf8), node: 0))
        #expect(!pool.health.degraded)
        // No retry either: the daemon's lag error is the caller's answer.
        node.answerAlways(.error(code: 1, message: "get block bafy: blockstore: block not found"))
        #expect(
            await pool.call(call(.chainGetTipSetByHeight, height: 80))
                == .error(code: 1, message: "get block bafy: blockstore: block not found", node: 0))
    }

    @Test func itsChannelsCloseOnlyWhenTheDaemonRestarts() async {
        let node = FakeNode(name: "only")
        let pool = await makePool([node], usePool: false)
        let closed = ClosedFlag()
        _ = await pool.openChannel(call(.chainNotify), events: { if $0 == .closed { closed.set() } })
        node.health(messagePeers: 0)
        await pool.heartbeat()
        #expect(!closed.isSet)
        node.health(session: "session-restarted")
        await pool.heartbeat()
        #expect(closed.isSet)
    }
}

@Suite(.timeLimit(.minutes(1))) struct PoolConnectionLossTests {
    @Test func aClosedSocketIsNotTriedAgainBeforeTheNextHeartbeat() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let observer = RecordingObserver()
        let pool = await makePool(nodes, settings: { $0.defaultPolicy = .oneByIndexAsc }, observer: observer)
        nodes[0].loseConnection("connection closed")
        // No heartbeat has run: the loss alone moved the calls.
        for _ in 0..<5 { #expect(await pool.call(call(.stateGetActor)) == .result(Array("\"ok\"".utf8), node: 1)) }
        #expect(nodes[0].calls.isEmpty)
        #expect(pool.nodes[0].state.description == "disabled (unreachable: connection lost: connection closed)")
        #expect(!observer.all.contains { $0.hasPrefix("retry") })
        // The next heartbeat that reaches it brings it back.
        await pool.heartbeat()
        #expect(pool.nodes[0].state.isAvailable)
    }

    /// One socket's loss takes its node out at once but leaves its other sockets alone until a
    /// heartbeat judges the daemon: a block submission in flight on one of them finishes there
    /// when the daemon is fine. Before, every socket was reset, as for a dead daemon.
    @Test func aWriteInFlightOnAnotherSocketOutlivesOneSocketsLoss() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let (pool, reply, release) = await submissionHeldOnNodeZero(nodes)
        nodes[0].loseConnection("connection closed")
        #expect(!pool.nodes[0].state.isAvailable)
        #expect(nodes[0].state.withLock { $0.resets } == 0)
        await pool.heartbeat()
        #expect(pool.nodes[0].state.isAvailable)
        #expect(nodes[0].state.withLock { $0.resets } == 0)
        release.yield()
        #expect(await reply.value == .result(Array("null".utf8), node: 0))
    }

    /// The same loss, and the heartbeat finds the daemon gone: its sockets are closed then.
    @Test func aNodeFoundDownAfterOneSocketsLossHasItsSocketsClosed() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes)
        nodes[0].loseConnection("connection closed")
        #expect(nodes[0].state.withLock { $0.resets } == 0)
        nodes[0].unreachable()
        await pool.heartbeat()
        #expect(!pool.nodes[0].state.isAvailable)
        #expect(nodes[0].state.withLock { $0.resets } == 1)
        // Judged once: the next beat closes nothing more.
        await pool.heartbeat()
        #expect(nodes[0].state.withLock { $0.resets } == 1)
    }

    @Test func aProbeFromBeforeAConnectionLossDoesNotBringTheNodeBack() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes)
        #expect(pool.nodes[0].state.isAvailable)
        nodes[0].holdProbes()
        let probes = nodes[0].probes
        async let beat: Void = pool.heartbeat()
        // n0 answered the probe, then its connection went: the daemon may be another process now.
        await nodes[0].waitForProbes(probes + 1)
        nodes[0].loseConnection()
        #expect(!pool.nodes[0].state.isAvailable)
        nodes[0].releaseProbes()
        await beat
        // Before the fix the old answer made it serve again, unchecked, until the next beat.
        #expect(!pool.nodes[0].state.isAvailable)
        await pool.heartbeat()
        #expect(pool.nodes[0].state.isAvailable)
    }

    /// Two fake nodes, a pool on a manual clock and its heartbeat loop, after the loop's first
    /// beat, waiting for the interval; `body` gets them and node 0's probe count then.
    private func withHeartbeatLoop(_ body: ([FakeNode], ManualClock, Pool, Int) async -> Void) async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let clock = ManualClock()
        let pool = await makePool(nodes, clock: clock)
        let probes = nodes[0].probes
        let beats = pool.heartbeatsFinished
        let loop = Task { await pool.runHeartbeats() }
        defer { loop.cancel() }
        // A beat's probes are bounded by timers as long as the interval: the loop is waiting
        // only once its beat has finished and something sleeps.
        await pool.waitForHeartbeats(past: beats)
        await clock.waitForSleepers(1, lasting: .seconds(3))
        await body(nodes, clock, pool, probes + 1)
    }

    @Test func aLostConnectionWakesTheHeartbeatLoop() async {
        await self.withHeartbeatLoop { nodes, clock, _, probes in
            nodes[0].loseConnection()
            // Probed again without the clock moving: the loss ended the wait.
            await nodes[0].waitForProbes(probes + 1)
            #expect(clock.now == .zero)
        }
    }

    /// A daemon that dropped its socket and refuses the redial the loss woke (it is
    /// restarting) serves again half a second later, not a whole interval (3 s) later: after
    /// a loss the loop looks again soon, a few times, while a node is still unreachable.
    @Test func aDaemonRestartingAfterALossServesAgainWithinHalfASecond() async {
        await self.withHeartbeatLoop { nodes, clock, pool, probes in
            // The process is restarting: its socket drops and the redial is refused.
            nodes[0].unreachable()
            nodes[0].loseConnection()
            await nodes[0].waitForProbes(probes + 1)
            // The loop judged that beat and sleeps the short wait, not the interval.
            await clock.waitForSleepers(1, lasting: .milliseconds(500))
            #expect(!pool.nodes[0].state.isAvailable)
            nodes[0].health()
            let beats = pool.heartbeatsFinished
            clock.advance(by: .milliseconds(500))
            await nodes[0].waitForProbes(probes + 2)
            // Every node serves again: back to the interval (the 3 s timers of the beat's own
            // probes are gone once it has finished).
            await pool.waitForHeartbeats(past: beats)
            await clock.waitForSleepers(1, lasting: .seconds(3))
            #expect(pool.nodes[0].state.isAvailable)
            #expect(clock.now == .milliseconds(500))
        }
    }

    /// A loss while the beat is still probing another node, after this one answered, is not
    /// swallowed by that beat: the loop beats again at once instead of a whole interval later.
    @Test func aConnectionLostDuringABeatStillWakesTheLoop() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let clock = ManualClock()
        let pool = await makePool(nodes, clock: clock)
        let probes = (nodes[0].probes, nodes[1].probes)
        nodes[1].holdProbes()
        let loop = Task { await pool.runHeartbeats() }
        defer { loop.cancel() }
        await nodes[0].waitForProbes(probes.0 + 1)
        await nodes[1].waitForProbes(probes.1 + 1)
        nodes[0].loseConnection()
        nodes[1].releaseProbes()
        await nodes[0].waitForProbes(probes.0 + 2)
        #expect(clock.now == .zero)
    }

    /// A read both nodes failed at the network level gets one more round once the nodes
    /// changed: here the first node's socket was lost (it is out), and the other, which had
    /// refused the dial a moment before, answers. Without the round the read failed.
    @Test func aReadEveryNodeFailedGetsOneMoreRoundAfterTheNodesChanged() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes)
        let calls = Mutex(0)
        for node in nodes {
            node.answer { _ in
                switch calls.withLock({ count -> Int in
                    count += 1
                    return count
                }) {
                case 1:
                    node.loseConnection()
                    return .unreachable(.maybeSent, detail: "websocket connection closed")
                case 2: return .unreachable(.notSent, detail: "connection refused")
                default: return .result(Array("\"ok\"".utf8))
                }
            }
        }
        guard case .result(let bytes, _) = await pool.call(call(.stateGetActor)) else {
            Issue.record("the read failed")
            return
        }
        #expect(bytes == Array("\"ok\"".utf8))
        #expect(calls.withLock { $0 } == 3)
    }

    /// The extra round asks a node that came back meanwhile before the ones that just failed:
    /// one of those whose loss is not processed yet would fail again first.
    @Test func theExtraRoundAsksANodeThatCameBackBeforeTheOnesThatJustFailed() async throws {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes)
        try await pool.setNode("n2", .pause)
        let asked = Mutex<[String]>([])
        for node in nodes.prefix(2) {
            node.answer { _ in
                let count = asked.withLock { asked -> Int in
                    asked.append(node.name)
                    return asked.count
                }
                // While the second node fails, the third comes back.
                if count == 2 {
                    try? await pool.setNode("n2", .resume)
                    await pool.heartbeat()
                }
                return .unreachable(.notSent, detail: "connection refused")
            }
        }
        nodes[2].answer { _ in
            asked.withLock { $0.append("n2") }
            return .result(Array("\"ok\"".utf8))
        }
        #expect(await pool.call(call(.stateGetActor)) == .result(Array("\"ok\"".utf8), node: 2))
        #expect(asked.withLock { $0 }.count == 3)
        #expect(asked.withLock { $0 }.last == "n2")
    }

    /// The same for a channel: an open every node failed is tried once more after the nodes
    /// changed.
    @Test func aChannelOpenEveryNodeFailedGetsOneMoreRound() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes)
        let opens = Mutex(0)
        for node in nodes {
            node.state.withLock { state in
                state.openFailure = {
                    switch opens.withLock({ count -> Int in
                        count += 1
                        return count
                    }) {
                    case 1:
                        node.loseConnection()
                        return NodeCallFailure(.unreachable(.maybeSent, detail: "websocket connection closed"))
                    case 2: return NodeCallFailure(.unreachable(.notSent, detail: "connection refused"))
                    default: return nil
                    }
                }
            }
        }
        let opened = await pool.openChannel(call(.chainNotify)) { _ in }
        #expect((try? opened.get()) != nil)
        #expect(opens.withLock { $0 } == 3)
    }
}
