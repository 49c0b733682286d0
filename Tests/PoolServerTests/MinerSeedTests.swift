// Miners sharing one pool: a token's seed picks that miner's primary daemon for OneBySeedRound
// calls, and `node list` shows Primary as that miner sees it.

import Foundation
import LotusWire
import PoolRuntime
import PoolServer
import FPoolTestSupport
import Testing

@Suite(.timeLimit(.minutes(1))) struct MinerSeedTests {
    /// The daemon (by cluster index) that served each of `count` StateNetworkName calls (a
    /// OneBySeedRound read) made with `token`; heartbeats are manual, so only these calls count.
    static func servingDaemons(_ served: ServedPool, token: String, count: Int = 3) async throws -> Set<Int> {
        // The pool's head feeds open after its first heartbeat; their subscriptions are calls too.
        _ = await holds { served.cluster.subscriptions.reduce(0, +) == served.pool.nodes.filter(\.serving).count }
        var daemons: Set<Int> = []
        for _ in 0..<count {
            let before = served.cluster.daemons.indices.map { served.cluster.calls(daemon: $0) }
            let response = try await served.http("Filecoin.StateNetworkName", token: .some(token))
            #expect(response.json?["result"]?.string == served.cluster.networkName)
            let after = served.cluster.daemons.indices.map { served.cluster.calls(daemon: $0) }
            daemons.formUnion(after.indices.filter { after[$0] > before[$0] })
        }
        return daemons
    }

    /// No hedge: on a loaded host a hedged read would reach a second daemon and blur which one served it.
    static func noHedge(_: inout ServerConfiguration, _ environment: inout PoolEnvironment) {
        environment.settings.hedgeDelay = .off
    }

    /// The cluster index of the node `node list` marks Primary.
    static func primary(in nodes: JSON, _ served: ServedPool) -> Int? {
        guard let address = nodes.array?.first(where: { $0["Primary"]?.bool == true })?["Address"]?.string else { return nil }
        return served.cluster.daemons.firstIndex { "127.0.0.1:\($0.port)" == address }
    }

    @Test func tokensOfDifferentSeedsAreServedByTheirOwnPrimaries() async throws {
        try await withServedPool(configure: Self.noHedge) { served in
            var primaries: [String: Int] = [:]
            for number in 1000..<1012 {
                let seed = "f0\(number)"
                let token = try #require(try await served.admin("AuthNew", ["read", .string(seed)]).string)
                let daemons = try await Self.servingDaemons(served, token: token)
                // Every call of one miner goes to one daemon.
                #expect(daemons.count == 1, "\(seed) was served by daemons \(daemons.sorted())")
                primaries[seed] = daemons.first ?? -1
                // `node list` under the miner's own admin token marks the daemon that served it.
                let admin = try #require(try await served.admin("AuthNew", ["admin", .string(seed)]).string)
                let listed = try await served.http("FPool.NodeList", token: .some(admin)).json?["result"] ?? .null
                #expect(Self.primary(in: listed, served) == primaries[seed], "\(seed)")
                // And `node list --seed` shows the same to the pool's operator.
                #expect(Self.primary(in: try await served.admin("NodeList", [.string(seed)]), served) == primaries[seed])
            }
            // Twelve miners over three daemons spread (all on one: a chance of 1 in 177,147).
            #expect(Set(primaries.values).count >= 2, "\(primaries)")
            // PrimaryOf counts the miners per daemon: the twelve seen, and the pool's own seed.
            let nodes = try #require(try await served.admin("NodeList").array)
            #expect(nodes.compactMap { $0["PrimaryOf"]?.int }.reduce(0, +) == 12 + 1)
            for node in nodes {
                let index = served.cluster.daemons.firstIndex { "127.0.0.1:\($0.port)" == node["Address"]?.string }
                let miners = primaries.values.filter { $0 == index }.count
                let poolSeed = node["Primary"]?.bool == true ? 1 : 0
                #expect(node["PrimaryOf"]?.int == Int64(miners + poolSeed), "\(node)")
            }
        }
    }

    @Test func aMinersPrimaryStaysPutWhenAnotherNodeLeavesAndComesBackAfterAPause() async throws {
        try await withServedPool(configure: Self.noHedge) { served in
            let token = try #require(try await served.admin("AuthNew", ["read", "f01000"]).string)
            let primary = try #require(try await Self.servingDaemons(served, token: token).first)
            // Another node leaving the pool does not move the miner.
            let other = (primary + 1) % 3
            try await served.pool.setNode(served.cluster.daemons[other].name, .exit)
            #expect(try await Self.servingDaemons(served, token: token) == [primary])
            // Its primary paused: the miner goes on with the remaining node, then returns.
            try await served.pool.setNode(served.cluster.daemons[primary].name, .pause)
            let fallback = try await Self.servingDaemons(served, token: token)
            #expect(fallback.count == 1 && !fallback.contains(primary) && !fallback.contains(other))
            try await served.pool.setNode(served.cluster.daemons[primary].name, .resume)
            // A resumed node serves again once a heartbeat has looked at it.
            await served.pool.heartbeat()
            #expect(try await Self.servingDaemons(served, token: token) == [primary])
        }
    }

    @Test func aTokenWhoseSeedIsNoMinerIsRefused() async throws {
        try await withServedPool(configure: Self.noHedge) { served in
            let refused = try await rpcError { try await served.admin("AuthNew", ["read", "f1abcdef"]) }
            #expect(refused?.message == "--seed 'f1abcdef' is not a miner ID address (f0…, t0…) or a number")
            // A token signed with the pool's secret but carrying a bad seed claim is not half-accepted.
            let secret = try #require(FPoolRepoSecret.read(served.instance.repo.path))
            let token = LotusJWT.sign(allow: ["read"], seed: "f1abcdef", secret: secret)
            #expect(try await served.http("Filecoin.ChainHead", token: .some(token)).status == 401)
        }
    }

    @Test func apiInfoNamesTheAddressAnOperatorGives() async throws {
        try await withServedPool(configure: Self.noHedge) { served in
            let info = try #require(try await served.admin("AuthAPIInfo", ["read", "f01000", "pool.example.com"]).string)
            let (token, address) = try #require(info.split(separator: ":", maxSplits: 1).map(String.init).splitPair)
            #expect(address == "/dns/pool.example.com/tcp/\(served.port)/http")
            // The token is a seeded read token of this pool: it reads, and its miner has a primary.
            #expect(try await Self.servingDaemons(served, token: token, count: 2).count == 1)
            let bad = try await rpcError { try await served.admin("AuthAPIInfo", ["read", nil, "not a host"]) }
            #expect(bad?.message == "--address 'not a host' is neither an IP address nor a DNS name")
            let ip = try #require(try await served.admin("AuthAPIInfo", ["read", nil, "10.1.2.3"]).string)
            #expect(ip.hasSuffix(":/ip4/10.1.2.3/tcp/\(served.port)/http"))
        }
    }
}

extension Array where Element == String {
    fileprivate var splitPair: (String, String)? { self.count == 2 ? (self[0], self[1]) : nil }
}
