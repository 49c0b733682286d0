// The heartbeat: disable and re-enable with reasons logged once, restarts, operator changes.

import GeneratedRoutes
import RouteModel
import PoolRuntime
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
    /// On the system clock an hour never passes within the test, so the third probe can only
    /// come from the new interval.
    @Test func aNewHeartbeatIntervalAppliesAtOnce() async throws {
        let node = FakeNode(name: "n0")
        var environment = PoolEnvironment()
        try environment.settings.set("HeartbeatInterval", to: "1h")
        environment.nodes = [
            NodeEndpoint(
                token: "eyJhbGciOiJIUzI1NiJ9.eyJBbGxvdyI6WyJyZWFkIl19.c2ln", address: try Multiaddr(parsing: "/ip4/10.0.0.1/tcp/1234/http"),
                name: "n0")
        ]
        let pool = Pool(environment: environment, connect: { _ in node })
        let heartbeats = Task { await pool.runHeartbeats() }
        defer { heartbeats.cancel() }
        await node.waitForProbes(1)
        try pool.setSetting("HeartbeatInterval", to: "100ms")
        await node.waitForProbes(3)
        #expect(pool.nodes.first?.state == .running)
    }

    @Test func crossNodeCheckDisablesTheLaggard() async {
        let nodes = [FakeNode(name: "a", head: 100), FakeNode(name: "b", head: 97)]
        let pool = await makePool(nodes)
        #expect(pool.nodes[1].state.description == "disabled (head 97 is 3 below the best head 100 > MaxBehindDiff 2)")
        // Calls avoid it.
        #expect(await pool.call(call(.stateGetActor)) == .result(Array("\"ok\"".utf8), node: 0))
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
            func reset() async {}
        }
        let healthy = FakeNode(name: "ok")
        var environment = PoolEnvironment()
        // A real clock: the hung probe must be cut off by the heartbeat's own bound.
        try environment.settings.set("HeartbeatInterval", to: "200ms")
        let token = "eyJhbGciOiJIUzI1NiJ9.eyJBbGxvdyI6WyJyZWFkIl19.c2ln"
        environment.nodes = [
            NodeEndpoint(token: token, address: try! Multiaddr(parsing: "/ip4/10.0.0.1/tcp/1/http"), name: "hung"),
            NodeEndpoint(token: token, address: try! Multiaddr(parsing: "/ip4/10.0.0.2/tcp/1/http"), name: "ok"),
        ]
        let pool = Pool(
            environment: environment, connect: { endpoint -> any NodeConnection in endpoint.name == "ok" ? healthy : HungNode() })
        await pool.heartbeat()
        #expect(pool.nodes.map { $0.state.isAvailable } == [false, true])
        #expect(pool.nodes[0].state.description == "disabled (unreachable: heartbeat timed out after 0.2 seconds)")
    }

    @Test func pausedAndExitedNodesServeNothingUntilResumed() async throws {
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
        #expect(pool.nodes[1].state == .exited)
        let error = await #expect(throws: PoolCommandError.self) { try await pool.setNode("session-n9", .pause) }
        #expect(error?.description == "unknown node 'session-n9'; did you mean session-n0?; nodes: session-n0, session-n1")
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
        _ = await pool.call(call(.mpoolPushMessage, sender: "f0101"))
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
}
