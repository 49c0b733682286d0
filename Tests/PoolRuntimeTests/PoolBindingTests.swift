// Primary binding: a sender's pushes go to one node; explicit bindings; failover order.

import GeneratedRoutes
import PoolRuntime
import Testing

@Suite(.timeLimit(.minutes(1))) struct PoolBindingTests {
    let ok = NodeReply.result(Array("\"ok\"".utf8))

    @Test func aSendersPushesStayOnItsBoundNode() async {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes)
        let bound = ranking(of: "f01001", in: pool)[0]
        // One node for every push, whatever the call ids.
        for _ in 0..<4 {
            #expect(await pool.call(call(.mpoolPushMessage, sender: "f01001")) == .result(Array("\"ok\"".utf8), node: bound))
        }
        // Sender-scoped reads follow the same binding (MpoolGetNonce carries a seed).
        #expect(await pool.call(call(.mpoolGetNonce, sender: "f01001")) == .result(Array("\"ok\"".utf8), node: bound))
    }

    @Test func keyAddressesAreResolvedOnceAndCached() async {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        for node in nodes { node.state.withLock { $0.ids["f1key"] = "f01000" } }
        let pool = await makePool(nodes)
        let bound = ranking(of: "f01000", in: pool)[0]
        #expect(await pool.call(call(.mpoolPushMessage, sender: "f1key")) == .result(Array("\"ok\"".utf8), node: bound))
        for node in nodes { node.state.withLock { $0.ids = [:] } }
        // Cached: still bound to f01000's node although no node could resolve it now.
        #expect(await pool.call(call(.mpoolPushMessage, sender: "f1key")) == .result(Array("\"ok\"".utf8), node: bound))
        #expect(pool.bindings.map(\.seed) == ["f01000"])
    }

    @Test func explicitBindingOverridesTheDefault() async throws {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes)
        try pool.bind(seed: "t01003", node: "session-n0")
        #expect(await pool.call(call(.mpoolPushMessage, sender: "f01003")) == .result(Array("\"ok\"".utf8), node: 0))
        #expect(pool.bindings == [BindingSummary(seed: "f01003", node: 0, explicit: true)])
        // The binding follows the node, not its process: a restart keeps it.
        nodes[0].health(session: "session-n0-restarted")
        await pool.heartbeat()
        #expect(await pool.call(call(.mpoolPushMessage, sender: "f01003")) == .result(Array("\"ok\"".utf8), node: 0))
        let badSeed = #expect(throws: PoolCommandError.self) { try pool.bind(seed: "f1abc", node: "session-n0") }
        #expect(badSeed?.description == "seed 'f1abc' is not an actor ID address (f0… or t0…)")
        #expect(throws: PoolCommandError.self) { try pool.bind(seed: "f01003", node: "nope") }
    }

    @Test func aLostPrimaryFailsOverToTheNextNode() async {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes)
        let order = ranking(of: "f01001", in: pool)
        nodes[order[0]].unreachable()
        await pool.heartbeat()
        // f01001's node is down: the next node in the sender's own ranking serves.
        let reply = await pool.call(call(.mpoolPushMessage, sender: "f01001"))
        #expect(reply == .result(Array("\"ok\"".utf8), node: order[1]))
    }
}

@Suite(.timeLimit(.minutes(1))) struct PoolHotConfigTests {
    @Test func settingsChangeWhileCallsAreInFlight() async throws {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes)
        // Calls in flight while the operator changes the policy back and forth.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    for _ in 0..<50 {
                        let reply = await pool.call(call(.stateGetActor))
                        guard case .result = reply else { throw PoolCommandError("a call failed: \(reply)") }
                    }
                }
            }
            group.addTask {
                for round in 0..<50 {
                    try pool.setAPI("StateGetActor", key: "policy", to: round % 2 == 0 ? "OneByIndexDesc" : "default")
                    try pool.setSetting("PrimarySeed", to: String(round))
                }
            }
            try await group.waitForAll()
        }
        #expect(pool.callIDs["StateGetActor"] == 400)
        #expect(pool.nodes.map(\.calls).reduce(0, +) == 400)
        // The last settings are in force.
        try pool.setAPI("StateGetActor", key: "policy", to: "OneByIndexDesc")
        #expect(await pool.call(call(.stateGetActor)) == .result(Array("\"ok\"".utf8), node: 2))
        #expect(try pool.apiSettings("StateGetActor").policy.description == "OneByIndexDesc")
        let typo = #expect(throws: PoolCommandError.self) { try pool.setAPI("StateGetActr", key: "policy", to: "default") }
        #expect(typo?.description == "unknown API 'StateGetActr'; did you mean StateGetActor? (`fpool api list` shows them all)")
        let badValue = #expect(throws: PoolCommandError.self) { try pool.setAPI("StateGetActor", key: "nohang", to: "sometimes") }
        #expect(badValue?.description == "nohang: 'sometimes' is not valid; expected true or false")
    }

    /// An embedder sets an API's routing with typed values (no text to parse): it routes
    /// at once, v0 and v1 alike, and the rules an operator's `api set` follows still hold.
    @Test func anEmbedderSetsAnAPIsRoutingWithTypedValues() async throws {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes)
        var override = try pool.apiSettings("StateGetActor")
        override.policy = .fixed(.oneByIndexDesc)
        override.hedge = .off
        try pool.setOverride(override, for: .v1(.stateGetActor))
        #expect(await pool.call(call(.stateGetActor)) == .result(Array("\"ok\"".utf8), node: 2))
        #expect(try pool.apiSettings("StateGetActor", version: .v0) == override)
        var push = try pool.apiSettings("MpoolPushMessage")
        push.hedge = .auto
        let hedged = #expect(throws: PoolCommandError.self) { try pool.setOverride(push, for: .v1(.mpoolPushMessage)) }
        #expect(hedged?.description.hasPrefix("MpoolPushMessage is not a read (effect push)") == true)
        push.hedge = nil
        push.policy = .fixed(.oneByIdRound)
        let moved = #expect(throws: PoolCommandError.self) { try pool.setOverride(push, for: .v1(.mpoolPushMessage)) }
        #expect(moved?.description.hasPrefix("MpoolPushMessage pushes messages: it goes to its sender's bound node") == true)
        // The runtime names no CLI command: that wording is the admin API's (`api set`).
        #expect(moved?.description.contains("fpool") == false)
        #expect(pool.apiSettings(for: .v1(.mpoolPushMessage)).policy == .poolDefault)
    }

    /// A settings change that throws part-way changes nothing; one that succeeds applies whole.
    @Test func aSettingsChangeIsAllOrNothing() async throws {
        let pool = await makePool([FakeNode(name: "n0")])
        let before = pool.settings.primarySeed
        #expect(throws: SettingsError.self) {
            try pool.updateSettings { (settings: inout PoolSettings) throws(SettingsError) in
                settings.primarySeed = before + 7
                try settings.set("MinBlockPeers", to: "-1")
            }
        }
        #expect(pool.settings.primarySeed == before)
        pool.updateSettings { $0.primarySeed = before + 7 }
        #expect(pool.settings.primarySeed == before + 7)
    }
}
