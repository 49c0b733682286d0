// The pool's state as value types, tested on their own: the node table's serving sets, the
// pool's network, rendezvous bindings, change signals and the channel table.

import Testing

@testable import PoolRuntime

@Suite struct NodeTableTests {
    func record(_ index: Int, _ state: NodeState, head: Int64 = 100, failed: Int = 0, sealing: Bool = false) -> NodeRecord {
        var record = NodeRecord(
            index: index,
            endpoint: NodeEndpoint(
                token: testToken, address: try! Multiaddr(parsing: "/ip4/10.0.0.\(index + 1)/tcp/1234/http"), name: "n\(index)"),
            id: "s\(index)", state: state, sealing: sealing, health: NodeHealth(head: head, behind: 0, messagePeers: 1, blockPeers: 1),
            connection: FakeNode(name: "n\(index)"), calls: Counter())
        record.failedChecks = failed
        return record
    }

    func table(_ records: [NodeRecord], passThrough: Bool = false) -> NodeTable {
        var table = NodeTable(network: PoolNetwork(expectedName: nil), passThrough: passThrough)
        records.forEach { table.append($0) }
        table.rebuild()
        return table
    }

    @Test func healthyNodesServeAloneWhenThereAreAny() {
        let table = self.table([self.record(0, .running), self.record(1, .disabled(.syncBehind(behind: 5, max: 2)))])
        #expect(table.all.candidates.byIndex.map(\.index) == [0])
        #expect(!table.all.degraded)
    }

    @Test func withoutHealthyNodesTheReachableOnesServeBestFirst() {
        let table = self.table([
            self.record(0, .disabled(.fewMessagePeers(have: 0, min: 1)), head: 100, failed: 1),
            self.record(1, .disabled(.unreachable("refused")), head: 200),
            self.record(2, .disabled(.syncBehind(behind: 5, max: 2)), head: 101, failed: 9),
            self.record(3, .disabled(.wrongNetwork(node: "othernet", pool: "mainnet")), head: 900),
            self.record(4, .paused, head: 300),
            self.record(5, .disabled(.fewBlockPeers(have: 0, min: 1)), head: 101, failed: 2),
            // Silent at its last probe: its head is stale, so it comes after every node that answered.
            self.record(6, .disabled(.noAnswer("heartbeat timed out after 3s")), head: 500),
        ])
        #expect(table.all.degraded)
        #expect(table.all.bestFirst.map(\.index) == [5, 2, 0, 6])
        #expect(!table.isServing(1) && !table.isServing(3) && !table.isServing(4))
    }

    @Test func theSealingSetFallsBackOnItsOwn() {
        let table = self.table([self.record(0, .running), self.record(1, .disabled(.syncBehind(behind: 5, max: 2)), sealing: true)])
        #expect(!table.all.degraded)
        #expect(table.sealing.degraded && table.sealing.candidates.byIndex.map(\.index) == [1])
    }

    @Test func aPassThroughTableServesEveryNodeNotPausedOrExited() {
        let table = self.table([self.record(0, .disabled(.unreachable("refused"))), self.record(1, .exited)], passThrough: true)
        #expect(table.all.candidates.byIndex.map(\.index) == [0])
        #expect(!table.all.degraded)
    }

    @Test func exitedNodesAreNeitherListedNorNamed() {
        let table = self.table([self.record(0, .running), self.record(1, .exited)])
        #expect(table.listed.map(\.index) == [0])
        #expect(throws: PoolCommandError.self) { try table.index(named: "n1") }
        let again = NodeEndpoint(token: testToken, address: try! Multiaddr(parsing: "/ip4/10.0.0.2/tcp/1234/http"), name: "n1")
        #expect(table.duplicate(of: again) == nil)
    }
}

@Suite struct PoolNetworkValueTests {
    let main = NetworkIdentity(genesis: "g-main", name: "mainnet")
    let calib = NetworkIdentity(genesis: "g-calib", name: "calibrationnet")

    @Test func theMajorityOfTheFirstNodesSettlesTheNetworkTiesToTheFirst() {
        var network = PoolNetwork(expectedName: nil)
        #expect(network.settle(from: [self.calib, self.main, self.main], of: 3) == nil)
        #expect(network.identity == self.main)
        var tie = PoolNetwork(expectedName: nil)
        #expect(tie.settle(from: [self.calib, self.main], of: 5) == nil)
        #expect(tie.identity == self.calib)
        // Two of five on another chain: no majority of the pool, nothing moves.
        #expect(tie.settle(from: [self.calib, self.main, self.main], of: 5) == nil)
        #expect(tie.identity == self.calib)
        #expect(tie.refusal(of: self.main) != nil && tie.refusal(of: self.calib) == nil)
    }

    @Test func anotherChainHeldByMoreThanHalfThePoolMovesIt() {
        var network = PoolNetwork(expectedName: nil)
        _ = network.settle(from: [self.calib], of: 5)
        let moved = network.settle(from: [self.calib, self.main, self.main, self.main], of: 5)
        #expect(moved == PoolNetwork.Change(from: self.calib, to: self.main, holders: 3, nodes: 5))
        #expect(network.identity == self.main)
        // Held by a majority, it stays, whatever the others later show.
        #expect(network.settle(from: [self.calib, self.main, self.main, self.main], of: 5) == nil)
        #expect(network.settle(from: [self.calib, self.calib, self.main, self.main, self.main], of: 5) == nil)
        #expect(network.identity == self.main)
        // Half is not more than half.
        var even = PoolNetwork(expectedName: nil)
        _ = even.settle(from: [self.calib], of: 4)
        #expect(even.settle(from: [self.calib, self.main, self.main], of: 4) == nil)
        #expect(even.identity == self.calib)
    }

    @Test func anExpectedNameRefusesOthersBeforeAndAfterSettling() {
        var network = PoolNetwork(expectedName: "mainnet")
        #expect(network.refusal(of: self.calib) == .wrongNetwork(node: self.calib.description, pool: "mainnet (FPOOL_NETWORK)"))
        #expect(network.settle(from: [self.calib], of: 2) == nil)
        #expect(network.identity == nil)
        #expect(network.settle(from: [self.calib, self.main], of: 2) == nil)
        #expect(network.identity == self.main)
        // Among daemons of the expected name, the majority moves it too (a devnet reset:
        // same name, new genesis).
        let reset = NetworkIdentity(genesis: "g-main-2", name: "mainnet")
        #expect(network.settle(from: [self.main, reset, reset, self.calib], of: 4) == nil)
        #expect(network.settle(from: [self.main, reset, reset, reset], of: 4)?.to == reset)
        // Same name, another genesis: another chain all the same.
        #expect(network.refusal(of: NetworkIdentity(genesis: "g-fork", name: "mainnet")) != nil)
    }
}

@Suite struct SeedBindingsTests {
    @Test func theWeightIsFixedAcrossProcessesAndReleases() {
        // A pinned value: a change of the hash would rebind every sender on upgrade, moving
        // their pushes to daemons whose mpools lack their nonces; two releases must agree.
        #expect(SeedBindings.weight(seed: 1000, key: "10.0.0.1:1234") == 0xA1BB_3DA0_19D9_5C42)
        #expect(SeedBindings.weight(seed: 1001, key: "10.0.0.1:1234") != SeedBindings.weight(seed: 1000, key: "10.0.0.1:1234"))
    }

    @Test func anExplicitBindingComesFirstAndLeavesWithItsNode() {
        var bindings = SeedBindings()
        let nodes = (0..<3).map { (index: $0, key: "10.0.0.\($0):1234") }
        let natural = bindings.ranking(of: 42, over: nodes)
        let last = natural[2]
        bindings.bind(42, to: last)
        #expect(bindings.ranking(of: 42, over: nodes) == [last, natural[0], natural[1]])
        bindings.unbind(node: last)
        #expect(bindings.ranking(of: 42, over: nodes) == natural)
    }

    @Test func resolvedAddressesAreCapped() {
        var bindings = SeedBindings()
        for id in 0..<(SeedBindings.maxResolved + 10) { bindings.remember("f1key\(id)", id: UInt64(id)) }
        #expect(bindings.resolved.count == SeedBindings.maxResolved)
    }
}

@Suite struct ChangeSignalTests {
    @Test func aWaitAfterAChangeIsRefused() async {
        var signal = ChangeSignal()
        let seen = signal.generation
        _ = signal.signal()
        await withCheckedContinuation { continuation in
            let kept = signal.wait(1, after: seen, continuation)
            #expect(!kept)
            continuation.resume()
        }
    }

    @Test func aSignalHandsBackEachWaiterOnceAndACancelledWaitIsGone() async {
        var signal = ChangeSignal()
        await withCheckedContinuation { continuation in
            let kept = signal.wait(1, after: 0, continuation)
            let woken = signal.signal()
            #expect(kept && woken.count == 1 && signal.waiting == 0 && signal.generation == 1)
            woken.forEach { $0.resume() }
        }
        await withCheckedContinuation { continuation in
            let kept = signal.wait(2, after: 1, continuation)
            let cancelled = signal.cancel(2)
            let woken = signal.signal()
            #expect(kept && cancelled != nil && woken.isEmpty)
            cancelled?.resume()
        }
    }
}

@Suite struct ChannelTableTests {
    func record(_ id: Int, node: Int) -> PoolChannelRecord {
        let link = ChannelLink(forward: { _ in }, activity: nil, reader: nil, upstreamClosed: { _ in }, interrupted: { _ in })
        return PoolChannelRecord(
            id: id, node: node, session: "s\(node)", upstream: FakeChannel(events: { _ in }), link: link, call: call(.chainNotify))
    }

    @Test func idsAreNewAndLostChannelsAreRemovedOnce() {
        var table = ChannelTable()
        let a = table.register { self.record($0, node: 0) }
        let b = table.register { self.record($0, node: 1) }
        let c = table.register { self.record($0, node: 1) }
        #expect(Set([a, b, c]).count == 3)
        #expect(table.countsByNode == [0: 1, 1: 2])
        let lost = table.removeAll { $0.node == 1 }
        #expect(Set(lost.map(\.id)) == [b, c])
        #expect(table.removeAll { $0.node == 1 }.isEmpty)
        #expect(table.remove(a)?.id == a && table.remove(a) == nil)
    }
}
