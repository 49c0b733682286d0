// The least-bad fallback: when no node passes the health checks, reachable nodes serve anyway,
// best head first, and the pool says it is degraded.

import GeneratedRoutes
import PoolRuntime
import RouteModel
import Testing

@Suite(.timeLimit(.minutes(1))) struct PoolDegradedTests {
    let ok = PoolReply.result(Array("\"ok\"".utf8), node: 0)

    @Test func everyNodeWithoutMessagePeersStillServesBestHeadFirst() async {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        let observer = RecordingObserver()
        let pool = await makePool(nodes, settings: { $0.defaultPolicy = .oneByIndexAsc }, observer: observer)
        nodes[0].health(head: 100, messagePeers: 0)
        nodes[1].health(head: 101, messagePeers: 0)
        nodes[2].health(head: 101, messagePeers: 0)
        await pool.heartbeat()
        // Each daemon would answer a direct call: so does the pool, from the highest head
        // (ties: the lowest index), whatever the policy says.
        #expect(await pool.call(call(.stateGetActor)) == .result(Array("\"ok\"".utf8), node: 1))
        #expect(pool.health.degraded && pool.health.serving == 3 && pool.health.healthy == 0)
        #expect(pool.nodes.map(\.degradedFallback) == [true, true, true])
        #expect(pool.nodes.allSatisfy { $0.state.description.hasPrefix("disabled (message peers 0 < MinMessagePeers 1)") })
        #expect(observer.all.contains { $0.hasPrefix("degraded: no node passes the health checks") })
        // One node passes again: it alone serves, and the pool says so.
        nodes[0].health(head: 101, messagePeers: 3)
        await pool.heartbeat()
        #expect(await pool.call(call(.stateGetActor)) == self.ok)
        #expect(!pool.health.degraded && pool.health.serving == 1)
        #expect(observer.all.last { $0.hasPrefix("degraded") || $0.hasPrefix("recovered") } == "recovered")
    }

    @Test func nullRoundsPushingEveryBehindUpDoNotStopThePool() async {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes)
        // Lotus's Behind is the head's age: a few null rounds raise it on every daemon at once.
        for node in nodes { node.health(head: 100, behind: 5) }
        await pool.heartbeat()
        #expect(pool.health.degraded)
        #expect(await pool.call(call(.chainHead)).isResult)
        // A call that may not wait (nohang) is answered too: some node is reachable.
        try? pool.setAPI("StateGetActor", key: "nohang", to: "true")
        #expect(await pool.call(call(.stateGetActor)).isResult)
    }

    /// fpool itself starved, or every daemon slow: no probe finishes within the interval. That
    /// proves no daemon unreachable, so they still serve, and the pool says it is degraded.
    @Test func probesTimingOutEverywhereLeaveThePoolDegradedNotDown() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let clock = ManualClock()
        let pool = await makePool(nodes, clock: clock)
        nodes.forEach { $0.hangProbes() }
        async let beat: Void = pool.heartbeat()
        await clock.waitForSleepers(2, lasting: .seconds(3))
        clock.advance(by: .seconds(3))
        await beat
        #expect(pool.nodes.allSatisfy { $0.state.description == "disabled (no answer: heartbeat timed out after 3s)" })
        #expect(pool.health.degraded && pool.health.serving == 2)
        #expect(await pool.call(call(.stateGetActor)).isResult)
        // One answers again: it alone serves.
        nodes[1].hangProbes(false)
        async let next: Void = pool.heartbeat()
        await clock.waitForSleepers(1, lasting: .seconds(3))
        clock.advance(by: .seconds(3))
        await next
        #expect(!pool.health.degraded && pool.nodes.map(\.serving) == [false, true])
    }

    @Test func theSameRuleWithOtherFiguresIsLoggedOnce() async {
        let nodes = [FakeNode(name: "n0")]
        let observer = RecordingObserver()
        let pool = await makePool(nodes, observer: observer)
        for behind in UInt64(3)...6 {
            nodes[0].health(behind: behind)
            await pool.heartbeat()
        }
        // The state shows the latest figure; the log has one line for the change of rule.
        #expect(pool.nodes[0].state.description == "disabled (sync behind 6 > MaxSyncBehind 2)")
        #expect(observer.all.filter { $0.hasPrefix("n0: running -> disabled") }.count == 1)
        #expect(observer.all.filter { $0.hasPrefix("n0: disabled (sync behind") }.isEmpty)
    }

    @Test func fewerFailedChecksBreakATieOnTheHead() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes)
        nodes[0].health(head: 100, blockPeers: 0)
        await pool.heartbeat()
        await pool.heartbeat()
        nodes[1].health(head: 100, blockPeers: 0)
        await pool.heartbeat()
        // n0 has failed three checks in a row, n1 one.
        #expect(await pool.call(call(.stateGetActor)) == .result(Array("\"ok\"".utf8), node: 1))
    }

    @Test func unreachableNodesAreNeverAFallback() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes)
        nodes[0].unreachable()
        nodes[1].health(behind: 9)
        await pool.heartbeat()
        #expect(await pool.call(call(.stateGetActor)) == .result(Array("\"ok\"".utf8), node: 1))
        #expect(pool.nodes.map(\.serving) == [false, true])
        nodes[1].unreachable()
        await pool.heartbeat()
        try? pool.setAPI("StateGetActor", key: "nohang", to: "true")
        #expect(await pool.call(call(.stateGetActor)) == .failed("no node available for Filecoin.StateGetActor (nohang)"))
        #expect(!pool.health.degraded && pool.health.serving == 0)
    }

    @Test func aChannelOnAFallbackNodeStaysOpenUntilAHealthyNodeReturns() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes)
        for node in nodes { node.health(behind: 9) }
        await pool.heartbeat()
        let closed = ClosedFlag()
        guard case .success = await pool.openChannel(call(.chainNotify), events: { if $0 == .closed { closed.set() } }) else {
            Issue.record("the channel did not open on a degraded pool")
            return
        }
        await pool.heartbeat()
        #expect(!closed.isSet)
        // A healthy node is back: the channel on the fallback closes, so the client subscribes
        // again and lands on the healthy node.
        #expect(pool.openChannels == [0: 1])
        nodes[1].health()
        await pool.heartbeat()
        #expect(closed.isSet)
        #expect(pool.openChannels.isEmpty)
    }

    @Test func apiWhySaysWhichRuleWasRelaxed() async throws {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes)
        for node in nodes { node.health(messagePeers: 0) }
        await pool.heartbeat()
        let why = try pool.explain("StateGetActor")
        #expect(why.rule.hasPrefix("pool degraded: no node passes the health checks"))
        #expect(why.nodes[0].reason == "picked (serving while degraded although disabled (message peers 0 < MinMessagePeers 1))")
    }
}

extension PoolReply {
    var isResult: Bool {
        if case .result = self { return true }
        return false
    }
}

@Suite(.timeLimit(.minutes(1))) struct PoolSilentChannelTests {
    @Test func aHeadChannelSilentWhileOtherHeadsMoveIsClosed() async throws {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let clock = ManualClock()
        let observer = RecordingObserver()
        let pool = await makePool(
            nodes,
            settings: {
                $0.defaultPolicy = .oneByIndexAsc; $0.channelSilence = GoDuration(milliseconds: 3_000)
            }, observer: observer,
            clock: clock)
        let closed = ClosedFlag()
        let opened = try await pool.openChannel(call(.chainNotify), events: { if $0 == .closed { closed.set() } }).get()
        #expect(opened.node == 0)
        // A value now, then nothing from n0 while n1's head moves on.
        nodes[0].channels[0].events(.value(Array("[]".utf8)))
        clock.advance(by: .seconds(2))
        nodes[1].health(head: 101)
        await pool.heartbeat()
        #expect(!closed.isSet)  // silent 2 s < 3 s
        clock.advance(by: .seconds(2))
        nodes[1].health(head: 102)
        await pool.heartbeat()
        #expect(closed.isSet)
        #expect(nodes[0].channels[0].isCancelled)
        #expect(observer.all.contains("n0: closed 1 channels"))
    }

    @Test func aQuietChainClosesNothing() async throws {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let clock = ManualClock()
        let pool = await makePool(nodes, settings: { $0.channelSilence = GoDuration(milliseconds: 3_000) }, clock: clock)
        let closed = ClosedFlag()
        _ = try await pool.openChannel(call(.chainNotify), events: { if $0 == .closed { closed.set() } }).get()
        // No head moves anywhere (null rounds): silence is no fault of the channel's daemon.
        clock.advance(by: .seconds(10))
        await pool.heartbeat()
        #expect(!closed.isSet)
        // Other channels (MpoolSub) may be quiet for minutes.
        let mpool = ClosedFlag()
        _ = try await pool.openChannel(call(.mpoolSub), events: { if $0 == .closed { mpool.set() } }).get()
        clock.advance(by: .seconds(10))
        for node in nodes { node.health(head: 150) }
        await pool.heartbeat()
        #expect(!mpool.isSet)
    }
}
