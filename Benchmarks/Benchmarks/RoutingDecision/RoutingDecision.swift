// The cost of one routing decision on the request path: the generated method lookup from the
// raw bytes of the JSON `method` field, then the policy (or the sender's binding) picking the
// node, over pools of 3 and 30 healthy nodes.
//
// Every benchmark uses `scalingFactor: .kilo`: one measured iteration makes 1,000 decisions, so
// the rows marked `*` (wall clock, malloc count) are per decision. The pool is built and checked
// (one heartbeat, every node healthy) before measurement starts.

import Benchmark
import GeneratedRoutes
import PoolRuntime

/// A daemon that is always healthy; routing never calls it during these benchmarks.
private struct HealthyNode: NodeConnection {
    let head: Int64

    func call(_ call: PoolCall) async -> NodeReply { .result([]) }
    func openChannel(_ call: PoolCall, events: @escaping @Sendable (ChannelEvent) -> Void) async -> Result<any NodeChannel, NodeCallFailure>
    {
        .failure(NodeCallFailure(.unreachable(.notSent, detail: "benchmark")))
    }
    func probe() async -> Result<NodeProbe, NodeCallFailure> {
        .success(
            NodeProbe(
                session: "session-\(self.head)", health: NodeHealth(head: 1000 + self.head % 2, behind: 0, messagePeers: 8, blockPeers: 8)))
    }
    func lookupID(_ address: String) async -> Result<String, NodeCallFailure> { .success("f01000") }
    func mpoolNonce(_ address: String) async -> Result<UInt64, NodeCallFailure> { .success(0) }
    func push(signedMessage: [UInt8]) async -> NodeReply { .result([]) }
    func knowsMessage(cid: String) async -> Result<Bool, NodeCallFailure> { .success(false) }
    func identify() async -> Result<NetworkIdentity, NodeCallFailure> { .success(NetworkIdentity(genesis: "bafy-genesis", name: "bench")) }
    func reset() async {}
}

private func pool(nodes: Int) async -> Pool {
    var environment = PoolEnvironment()
    environment.nodes = (0..<nodes).map { index in
        NodeEndpoint(
            token: "eyJhbGciOiJIUzI1NiJ9.eyJBbGxvdyI6WyJyZWFkIl19.c2ln",
            address: try! Multiaddr(parsing: "/ip4/127.0.0.1/tcp/\(2000 + index)/http"), name: "node-\(index)")
    }
    let pool = Pool(environment: environment, connect: { endpoint in HealthyNode(head: Int64(endpoint.address.port)) })
    await pool.heartbeat()
    precondition(pool.nodes.allSatisfy { $0.state == .running }, "every node must serve")
    return pool
}

private func decide(_ benchmark: Benchmark, nodes: Int, method: String, facts: CallFacts) async {
    let pool = await pool(nodes: nodes)
    let name = Array(method.utf8)
    precondition(name.withUnsafeBytes { RouteTable.lookup(.v1, wireName: $0) } != nil, "\(method) is not a v1 method")
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations {
        name.withUnsafeBytes { bytes in
            blackHole(pool.decide(RouteTable.lookup(.v1, wireName: bytes), facts: facts)?.first?.index)
        }
    }
    benchmark.stopMeasurement()
}

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal], scalingFactor: .kilo, maxDuration: .seconds(3))
    for nodes in [3, 30] {
        Benchmark("Decision, \(nodes) nodes, OneBySeedRound (StateGetActor) (rows marked *: per decision)", configuration: configuration) {
            benchmark in
            await decide(benchmark, nodes: nodes, method: "Filecoin.StateGetActor", facts: CallFacts())
        }
        Benchmark("Decision, \(nodes) nodes, bound sender (MpoolPushMessage) (rows marked *: per decision)", configuration: configuration) {
            benchmark in
            await decide(benchmark, nodes: nodes, method: "Filecoin.MpoolPushMessage", facts: CallFacts(sender: "f01000"))
        }
        Benchmark("Decision, \(nodes) nodes, OneByChainHeadDesc (ChainHead) (rows marked *: per decision)", configuration: configuration) {
            benchmark in
            await decide(benchmark, nodes: nodes, method: "Filecoin.ChainHead", facts: CallFacts())
        }
    }
}
