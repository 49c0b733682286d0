// The heartbeat: disable and re-enable with reasons logged once, restarts, operator changes.

import FPoolTestSupport
import GeneratedRoutes
import RouteModel
import PoolRuntime
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(1))) struct PoolHealthTests {
    @Test func disabledNodesComeBackByThemselves() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let observer = RecordingObserver()
        let pool = await makePool(nodes, observer: observer)
        #expect(pool.nodes.map(\.state) == [.running, .running])
        nodes[1].health(behind: 5)
        await pool.heartbeat()
        await pool.heartbeat()
        #expect(pool.nodes[1].state.description == "disabled (sync behind 5 > MaxSyncBehind 2)")
        nodes[1].health()
        await pool.heartbeat()
        #expect(pool.nodes[1].state == .running)
        // One line per change, not one per beat.
        #expect(
            observer.all.filter { $0.hasPrefix("n1:") } == [
                "n1: disabled (unreachable: not checked yet) -> running",
                "n1: running -> disabled (sync behind 5 > MaxSyncBehind 2)",
                "n1: disabled (sync behind 5 > MaxSyncBehind 2) -> running",
            ])
    }

    /// An operator shortening a long interval does not wait out the sleep the old one started.
    /// Real time (an hour never passes within the test); the change comes once the loop is
    /// waiting its hour, so the next probe can only come from the wait being cut short.
    @Test func aNewHeartbeatIntervalAppliesAtOnce() async throws {
        let node = FakeNode(name: "n0")
        var environment = PoolEnvironment()
        try environment.settings.set("HeartbeatInterval", to: "1h")
        environment.nodes = [
            NodeEndpoint(
                token: "eyJhbGciOiJIUzI1NiJ9.eyJBbGxvdyI6WyJyZWFkIl19.c2ln", address: try Multiaddr(parsing: "/ip4/10.0.0.1/tcp/1234/http"),
                name: "n0")
        ]
        let clock = SleepCountingClock()
        let pool = Pool(environment: environment, connect: { _ in node }, clock: clock)
        let heartbeats = Task { await pool.runHeartbeats() }
        defer { heartbeats.cancel() }
        // Hour-long sleeps: the first probe's timeout, then the loop's wait.
        await clock.waitForSleeps(2, lasting: .seconds(3600))
        #expect(node.probes == 1)
        try pool.setSetting("HeartbeatInterval", to: "100ms")
        await node.waitForProbes(2)
        #expect(pool.nodes.first?.state == .running)
    }

    @Test func crossNodeCheckDisablesTheLaggard() async {
        let nodes = [FakeNode(name: "a", head: 100), FakeNode(name: "b", head: 97)]
        let pool = await makePool(nodes)
        #expect(pool.nodes[1].state.description == "disabled (head 97 is 3 below the best head 100 > MaxBehindDiff 2)")
        // Calls avoid it.
        #expect(await pool.call(call(.stateGetActor)) == .result(Array("\"ok\"".utf8), node: 0))
    }

    /// Two beats at once (the loop's, and one an operator asked for): the one begun first and
    /// finished last probed a daemon that was still restarting, and does not take back the
    /// later beat's verdict that it serves again.
    @Test func aBeatBegunEarlierDoesNotUndoALaterOnesVerdict() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes)
        let probes = nodes[0].probes
        nodes[0].unreachable()
        nodes[0].holdProbes()
        async let early: Void = pool.heartbeat()
        await nodes[0].waitForProbes(probes + 1)
        nodes[0].health()
        async let late: Void = pool.heartbeat()
        await nodes[0].waitForProbes(probes + 2)
        nodes[0].releaseNewestProbe()
        await late
        #expect(pool.nodes[0].state.isAvailable)
        nodes[0].releaseProbes()
        await early
        #expect(pool.nodes[0].state.isAvailable)
    }

    @Test func oneHungProbeDoesNotDelayTheOthers() async throws {
        final class HungNode: NodeConnection {
            func call(_ call: PoolCall) async -> NodeReply { .result([]) }
            func openChannel(_ call: PoolCall, events: @escaping @Sendable (ChannelEvent) -> Void) async -> Result<
                any NodeChannel, NodeCallFailure
            > {
                .failure(NodeCallFailure(.unreachable(.notSent, detail: "no")))
            }
            func probe() async -> Result<NodeProbe, NodeCallFailure> {
                try? await Task.sleep(for: .seconds(3600))
                return .failure(NodeCallFailure(.unreachable(.maybeSent, detail: "cancelled")))
            }
            func lookupID(_ address: String) async -> Result<String, NodeCallFailure> {
                .failure(NodeCallFailure(.error(code: 1, message: "no")))
            }
            func mpoolNonce(_ address: String) async -> Result<UInt64, NodeCallFailure> { .success(0) }
            func push(signedMessage: [UInt8]) async -> NodeReply { .result([]) }
            func knowsMessage(cid: String) async -> Result<Bool, NodeCallFailure> { .success(false) }
            func identify() async -> Result<NetworkIdentity, NodeCallFailure> { .success(FakeNode.testnet) }
            func reset() async {}
        }
        let healthy = FakeNode(name: "ok")
        var environment = PoolEnvironment()
        // A real clock: the hung probe must be cut off by the heartbeat's own bound, long
        // enough that the healthy probe answers within it on a loaded machine.
        try environment.settings.set("HeartbeatInterval", to: "2s")
        let token = "eyJhbGciOiJIUzI1NiJ9.eyJBbGxvdyI6WyJyZWFkIl19.c2ln"
        environment.nodes = [
            NodeEndpoint(token: token, address: try! Multiaddr(parsing: "/ip4/10.0.0.1/tcp/1/http"), name: "hung"),
            NodeEndpoint(token: token, address: try! Multiaddr(parsing: "/ip4/10.0.0.2/tcp/1/http"), name: "ok"),
        ]
        let pool = Pool(
            environment: environment, connect: { endpoint -> any NodeConnection in endpoint.name == "ok" ? healthy : HungNode() })
        await pool.heartbeat()
        #expect(pool.nodes.map { $0.state.isAvailable } == [false, true])
        #expect(pool.nodes[0].state.description == "disabled (no answer: heartbeat timed out after 2s)")
    }

    @Test func pausedNodesServeNothingUntilResumedAndExitedNodesLeaveThePool() async throws {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes) { $0.primarySeed = 1 }
        try await pool.setNode("session-n1", .pause)
        await pool.heartbeat()
        #expect(pool.nodes[1].state == .paused)
        #expect(await pool.call(call(.stateGetActor)) == .result(Array("\"ok\"".utf8), node: 0))
        try await pool.setNode("n1", .resume)
        await pool.heartbeat()
        #expect(await pool.call(call(.stateGetActor)) == .result(Array("\"ok\"".utf8), node: 1))
        try await pool.setNode("n1", .exit)
        await pool.heartbeat()
        // Gone from the list and from routing; it cannot be named any more.
        #expect(pool.nodes.map(\.name) == ["n0"])
        #expect(await pool.call(call(.stateGetActor)) == .result(Array("\"ok\"".utf8), node: 0))
        #expect(nodes[1].state.withLock { $0.resets } >= 1)
        let error = await #expect(throws: PoolCommandError.self) { try await pool.setNode("session-n1", .resume) }
        #expect(error?.description == "unknown node 'session-n1'; did you mean session-n0?; nodes: session-n0")
    }

    @Test func sealingFilterUsesOnlySealingNodes() async throws {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes)
        try await pool.setNode("n2", .sealing(true))
        try pool.setAPI("StateMinerInfo", key: "filter", to: "sealing")
        #expect(await pool.call(call(.stateMinerInfo)) == .result(Array("\"ok\"".utf8), node: 2))
    }

    @Test func nodeListShowsHealthCallsAndPrimary() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes) { $0.primarySeed = 1 }
        _ = await pool.call(call(.stateGetActor))
        _ = await pool.call(call(.mpoolPushMessage, sender: sender(boundTo: 1, in: pool)))
        let list = pool.nodes
        #expect(list.map(\.id) == ["session-n0", "session-n1"])
        #expect(list.map(\.isPrimary) == [false, true])
        #expect(list.map(\.calls) == [0, 2])
        #expect(list.map(\.boundSeeds) == [0, 1])
        #expect(list[1].health?.head == 100)
        #expect(list[0].address == "10.0.0.1:1234")
    }

    @Test func aCallStuckOnANodeThatGoesBadIsRetriedElsewhere() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        nodes[0].hangUntilReset()
        let pool = await makePool(nodes)  // PrimarySeed 0 → node 0
        async let reply = pool.call(call(.stateGetActor))
        await nodes[0].waitForStuckCall()
        nodes[0].unreachable()
        await pool.heartbeat()  // disables node 0 and drops its connection
        #expect(await reply == .result(Array("\"ok\"".utf8), node: 1))
        #expect(nodes[0].state.withLock { $0.resets } == 1)
    }

    /// A node that falls behind is taken out of routing, not cut off: a block submission it has
    /// in flight finishes there, as it would on a direct connection. Before, its sockets were
    /// closed and the miner's block was lost.
    @Test func aWriteInFlightOnANodeThatFallsBehindFinishesThere() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let (pool, reply, release) = await submissionHeldOnNodeZero(nodes)
        // n0 falls 10 epochs behind n1: disabled by the health rule.
        nodes[0].health(head: 90)
        nodes[1].health(head: 100)
        await pool.heartbeat()
        guard case .disabled(.behindBestHead) = pool.nodes[0].state else {
            Issue.record("n0 is \(pool.nodes[0].state)")
            return
        }
        #expect(nodes[0].state.withLock { $0.resets } == 0)
        release.yield()
        #expect(await reply.value == .result(Array("null".utf8), node: 0))
        // New calls go to the node that passes the checks.
        #expect(await pool.call(call(.stateGetActor)) == .result(Array("\"ok\"".utf8), node: 1))
    }
}

/// The system clock, counting the sleeps that start so a test can wait for one.
final class SleepCountingClock: PoolClock {
    private let system = SystemPoolClock()
    private let state = Mutex<
        (started: [Duration], waiters: [(count: Int, length: Duration, continuation: CheckedContinuation<Void, Never>)])
    >(([], []))

    var now: Duration { self.system.now }

    func sleep(for duration: Duration) async throws {
        let ready = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.started.append(duration)
            let started = state.started
            let ready = state.waiters.filter { waiter in started.filter { $0 == waiter.length }.count >= waiter.count }
            state.waiters.removeAll { waiter in started.filter { $0 == waiter.length }.count >= waiter.count }
            return ready.map(\.continuation)
        }
        ready.forEach { $0.resume() }
        try await self.system.sleep(for: duration)
    }

    func waitForSleeps(_ count: Int, lasting length: Duration) async {
        await untilCancelled {
            await withCheckedContinuation { continuation in
                let reached = self.state.withLock { state -> Bool in
                    if state.started.filter({ $0 == length }).count >= count { return true }
                    state.waiters.append((count, length, continuation))
                    return false
                }
                if reached { continuation.resume() }
            }
        }
    }
}
