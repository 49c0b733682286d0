// Network identity: a daemon of another chain never serves, never sets the best head, and
// cannot be added; FPOOL_NETWORK fixes the chain by name.

import GeneratedRoutes
import PoolRuntime
import RouteModel
import Testing

@Suite(.timeLimit(.minutes(1))) struct PoolNetworkTests {
    static let othernet = NetworkIdentity(genesis: "bafy-genesis-othernet", name: "othernet")

    @Test func aDaemonOfAnotherNetworkWithAHigherHeadDisablesNobody() async {
        let nodes = (0..<4).map { FakeNode(name: "n\($0)") }
        nodes[3].network(Self.othernet)
        nodes[3].health(head: 5_000)
        let pool = await makePool(nodes)
        #expect(pool.nodes.map(\.state.isAvailable) == [true, true, true, false])
        #expect(
            pool.nodes[3].state.description
                == "disabled (wrong network: the daemon is on othernet (genesis bafy-genesis-othernet), the pool on testnet (genesis bafy-genesis-testnet))"
        )
        #expect(pool.health.network == FakeNode.testnet)
        // Never a fallback either, even when every node of the pool's chain fails a rule.
        for node in nodes[0..<3] { node.health(behind: 9) }
        await pool.heartbeat()
        #expect(pool.nodes.map(\.serving) == [true, true, true, false])
    }

    @Test func theNetworkNamedByFPOOL_NETWORKWinsOverTheMajority() async throws {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        nodes[2].network(Self.othernet)
        let pool = await makePool(nodes, network: "othernet")
        #expect(pool.nodes.map(\.state.isAvailable) == [false, false, true])
        #expect(pool.nodes[0].state.description.contains("the pool on othernet (genesis bafy-genesis-othernet)"))
    }

    /// Three daemons, the first on another chain and the only one reachable at start-up (the
    /// others answer `testnet's`): the pool settles on its chain.
    func poolSettledOnTheWrongChain(observer: RecordingObserver = RecordingObserver()) async -> ([FakeNode], Pool) {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        nodes[0].network(Self.othernet)
        for node in nodes[1...] {
            node.unreachable()
            node.answerAlways(.result(Array(#""testnet's""#.utf8)))
        }
        let pool = await makePool(nodes, observer: observer)
        #expect(pool.health.network == Self.othernet)
        return (nodes, pool)
    }

    /// The other two come up: the pool moves to their chain at the next heartbeat.
    func majorityComesUp(_ nodes: [FakeNode], _ pool: Pool) async {
        for node in nodes[1...] { node.health() }
        await pool.heartbeat()
        #expect(pool.health.network == FakeNode.testnet)
    }

    /// Whether `reply` is `answer` from node 1 or 2, the new chain's daemons.
    func answeredOnTheNewChain(_ reply: PoolReply, _ answer: String) -> Bool {
        [1, 2].map { PoolReply.result(Array(answer.utf8), node: $0) }.contains(reply)
    }

    /// An operator pointed one daemon at another chain, and it alone answered at start-up.
    @Test func theFirstDaemonOnAnotherChainGivesWayToTheMajority() async {
        let observer = RecordingObserver()
        let (nodes, pool) = await self.poolSettledOnTheWrongChain(observer: observer)
        nodes[0].answerAlways(.result(Array(#""othernet's""#.utf8)))
        // It served alone, and its answer to a fixed read was kept.
        #expect(await pool.call(PoolCacheTests.actorCall()) == .result(Array(#""othernet's""#.utf8), node: 0))
        await self.majorityComesUp(nodes, pool)
        #expect(pool.nodes.map(\.state.isAvailable) == [false, true, true])
        #expect(pool.nodes[0].state.description.hasPrefix("disabled (wrong network: the daemon is on othernet"))
        #expect(
            observer.all.contains(
                "network moved from othernet (genesis bafy-genesis-othernet) to testnet (genesis bafy-genesis-testnet), 2 of 3"))
        // The other chain's kept answer went with it.
        #expect(self.answeredOnTheNewChain(await pool.call(PoolCacheTests.actorCall()), #""testnet's""#))
    }

    /// A read routed to the old chain's daemon before the move, answered after it.
    @Test func anAnswerOfTheChainLeftBehindIsNotKeptThoughItArrivesAfterTheMove() async {
        let (nodes, pool) = await self.poolSettledOnTheWrongChain()
        let (arrived, release) = nodes[0].answerWhenReleased(.result(Array(#""othernet's""#.utf8)))
        let early = Task { await pool.call(PoolCacheTests.actorCall()) }
        for await _ in arrived { break }
        await self.majorityComesUp(nodes, pool)
        release.yield()
        _ = await early.value
        #expect(self.answeredOnTheNewChain(await pool.call(PoolCacheTests.actorCall()), #""testnet's""#))
    }

    /// Pushes accepted on the chain left behind are not pushed again on the new one.
    @Test func aSendersPushesOnTheChainLeftBehindAreNotReplayedOnTheNewOne() async {
        let (nodes, pool) = await self.poolSettledOnTheWrongChain()
        for node in nodes { node.answerAlways(.result(Array("\"ok\"".utf8))) }
        for nonce in 0..<3 { #expect(await pool.call(PoolPushTests().push(UInt64(nonce))) == .result(Array("\"ok\"".utf8), node: 0)) }
        await self.majorityComesUp(nodes, pool)
        #expect(self.answeredOnTheNewChain(await pool.call(PoolPushTests().push(0)), "\"ok\""))
        #expect(nodes.allSatisfy { $0.state.withLock { $0.repushed }.isEmpty })
    }

    /// A push the old chain's daemon accepts after the move was already under way.
    @Test func aPushAnsweredOnTheChainLeftBehindAfterTheMoveIsNotRemembered() async {
        let (nodes, pool) = await self.poolSettledOnTheWrongChain()
        for node in nodes { node.answerAlways(.result(Array("\"ok\"".utf8))) }
        #expect(await pool.call(PoolPushTests().push(0)) == .result(Array("\"ok\"".utf8), node: 0))
        let (arrived, release) = nodes[0].answerWhenReleased(.result(Array("\"ok\"".utf8)))
        let late = Task { await pool.call(PoolPushTests().push(1)) }
        for await _ in arrived { break }
        await self.majorityComesUp(nodes, pool)
        release.yield()
        _ = await late.value
        #expect(self.answeredOnTheNewChain(await pool.call(PoolPushTests().push(0)), "\"ok\""))
        #expect(nodes.allSatisfy { $0.state.withLock { $0.repushed }.isEmpty })
    }

    @Test func aRestartedDaemonIsIdentifiedAgain() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes)
        await pool.heartbeat()
        #expect(nodes[1].identifications == 1)
        // The operator pointed the same address at a daemon of another chain.
        nodes[1].network(Self.othernet)
        nodes[1].health(session: "session-n1-othernet")
        await pool.heartbeat()
        #expect(nodes[1].identifications == 2)
        #expect(pool.nodes[1].state.description.hasPrefix("disabled (wrong network"))
    }

    @Test func nodeAddRefusesAnotherNetworkAndDuplicates() async throws {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let other = FakeNode(name: "other")
        other.network(Self.othernet)
        let twin = FakeNode(name: "twin")
        twin.health(session: "session-n0")
        let fresh = FakeNode(name: "fresh")
        let extra = ["other": other, "twin": twin, "fresh": fresh]
        let pool = await makePool(nodes, extra: extra)
        let wrong = await #expect(throws: PoolCommandError.self) { try await pool.admitNode(endpoint("other", 9)) }
        #expect(
            wrong?.description
                == "other refused: wrong network: the daemon is on othernet (genesis bafy-genesis-othernet), the pool on testnet (genesis bafy-genesis-testnet)"
        )
        let sameAddress = await #expect(throws: PoolCommandError.self) { try await pool.admitNode(endpoint("fresh", 1)) }
        #expect(sameAddress?.description == "10.0.0.1:1234 is already in the pool as node n0")
        let sameName = await #expect(throws: PoolCommandError.self) { try await pool.admitNode(endpoint("n1", 8)) }
        #expect(sameName?.description == "a node named n1 is already in the pool; give another --name")
        let sameSession = await #expect(throws: PoolCommandError.self) { try await pool.admitNode(endpoint("twin", 7)) }
        #expect(sameSession?.description == "twin is the daemon already in the pool as node n0 (same Session session-n0)")
        #expect(pool.nodes.map(\.name) == ["n0", "n1"])
        // A new daemon of the pool's chain joins, and serves after its heartbeat.
        try await pool.admitNode(endpoint("fresh", 6))
        await pool.heartbeat()
        #expect(pool.nodes.map(\.name) == ["n0", "n1", "fresh"])
        #expect(pool.nodes[2].state.isAvailable)
    }

    func endpoint(_ name: String, _ host: Int) -> NodeEndpoint {
        NodeEndpoint(token: testToken, address: try! Multiaddr(parsing: "/ip4/10.0.0.\(host)/tcp/1234/http"), name: name)
    }
}
