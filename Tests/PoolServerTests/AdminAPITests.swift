// fpool's admin API (`FPool.`), which the CLI drives: node changes, routing explained,
// bindings, settings, log levels, each with errors that name the valid choices.

import LotusWire
import PoolRuntime
import PoolServer
import FPoolTestSupport
import Testing

@Suite(.timeLimit(.minutes(1))) struct AdminAPITests {
    @Test func pausingANodeMovesItsCallsAndResumingBringsItBack() async throws {
        try await withServedPool { served in
            let nodes = try await served.admin("NodeList")
            let first = try #require(nodes[0]?["ID"]?.string)
            #expect(first == served.cluster.daemons[0].session)
            #expect(nodes[0]?["Primary"]?.bool == true)
            _ = try await served.admin("NodeSet", [.string(first), "status", "pause"])
            #expect(try await served.admin("NodeList")[0]?["State"]?.string == "paused")
            let before = served.cluster.calls(daemon: 0)
            _ = try await served.http("Filecoin.StateGetActor", ["f0100", []])
            #expect(served.cluster.calls(daemon: 0) == before)
            _ = try await served.admin("NodeSet", ["sim-daemon-0", "status", "resume"])
            await served.pool.heartbeat()
            #expect(try await served.admin("NodeList")[0]?["State"]?.string == "running")
            let typo = try await rpcError { try await served.admin("NodeSet", ["sim-daemon-0", "status", "paws"]) }
            #expect(typo?.message == "--val for status: expected pause, resume or exit; got 'paws'")
            let unknown = try await rpcError { try await served.admin("NodeSet", ["sim-daemon-9", "status", "pause"]) }
            #expect(unknown?.message.hasPrefix("unknown node 'sim-daemon-9'") == true)
        }
    }

    @Test func whyNamesThePickTheFallbacksAndTheExcluded() async throws {
        try await withServedPool { served in
            try await served.pool.setNode("sim-daemon-1", .pause)
            let why = try await served.admin("APIWhy", ["StateGetActor", "v1"])
            #expect(why["Policy"]?.string == "OneBySeedRound")
            #expect(why["Rule"]?.string == "policy OneBySeedRound: PrimarySeed 0 mod 2 available = position 0, then round robin")
            let nodes = try #require(why["Nodes"]?.array)
            #expect(nodes.map { $0["Reason"]?.string } == ["picked", "excluded: paused", "fallback 1"])
            let push = try await served.admin("APIWhy", ["MpoolPushMessage", "v1", "f0101"])
            let rule = try #require(push["Rule"]?.string)
            #expect(rule.hasPrefix("push bound to its sender f0101: node sim-daemon-"))
            #expect(rule.contains("(rendezvous hashing of the sender over 3 nodes); if it cannot serve, the sender's next node"))
            let unknown = try await rpcError { try await served.admin("APIWhy", ["ChainHed"]) }
            #expect(unknown?.message.hasPrefix("unknown API 'ChainHed'; did you mean ChainHead?") == true)
        }
    }

    @Test func primarySetMovesASendersPushes() async throws {
        try await withServedPool { served in
            _ = try await served.admin("PrimarySet", ["f0100", "sim-daemon-2"])
            let client = try await served.client()
            let before = served.cluster.calls(daemon: 2)
            _ = try await client.call("Filecoin.MpoolPushMessage", [transfer(), nil])
            #expect(served.cluster.calls(daemon: 2) > before)
            let bindings = try await served.admin("PrimaryList")
            let binding = try #require(bindings.array?.first { $0["Seed"]?.string == "f0100" })
            #expect(binding["Node"]?.string == "sim-daemon-2")
            #expect(binding["Explicit"]?.bool == true)
            let bad = try await rpcError { try await served.admin("PrimarySet", ["f1abc", "sim-daemon-2"]) }
            #expect(bad?.message == "seed 'f1abc' is not an actor ID address (f0… or t0…)")
        }
    }

    @Test func apiSetChangesOneAPIAndRefusesAPolicyForPushes() async throws {
        try await withServedPool { served in
            let set = try await served.admin("APISet", ["ChainHead", "timeout", "5s"])
            #expect(set["Timeout"]?.string == "5s")
            let list = try await served.admin("APIList", ["v1"])
            #expect(list["Overrides"]?["ChainHead"]?["Timeout"]?.string == "5s")
            let push = try await rpcError { try await served.admin("APISet", ["MpoolPushMessage", "policy", "OneByIndexAsc"]) }
            #expect(push?.message.hasPrefix("MpoolPushMessage pushes messages: it goes to its sender's bound node") == true)
            let badPolicy = try await rpcError { try await served.admin("APISet", ["ChainHead", "policy", "Fastest"]) }
            #expect(badPolicy?.message.contains("OneByIndexAsc") == true)
        }
    }

    @Test func nodeAddJoinsADaemonAndPoolInfoListsIt() async throws {
        try await withServedPool(nodes: 3, configure: { _, environment in environment.nodes.removeLast() }) { served in
            #expect(served.pool.nodes.count == 2)
            let daemon = served.cluster.daemons[2]
            let added = try await served.admin("NodeAdd", [.string(daemon.multiaddr), .string(daemon.adminToken), "third", false])
            #expect(added["Name"]?.string == "third")
            #expect(added["State"]?.string == "running")
            let info = try await served.admin("AuthPoolInfo")
            #expect(info["PoolInfo"]?.string?.hasSuffix(":\(daemon.multiaddr):third") == true)
            let duplicate = try await rpcError {
                try await served.admin("NodeAdd", [.string(daemon.multiaddr), .string(daemon.adminToken), "third"])
            }
            #expect(duplicate?.message == "127.0.0.1:\(daemon.port) is already in the pool as node third")
            let renamed = try await rpcError {
                try await served.admin("NodeAdd", [.string(daemon.multiaddr), .string(daemon.adminToken), "fourth"])
            }
            #expect(renamed?.message == "127.0.0.1:\(daemon.port) is already in the pool as node third")
            // A daemon given as /https is dialled over TLS: a plain port (here fpool's own) is disabled saying so.
            let tls = try await served.admin(
                "NodeAdd", [.string("/ip4/127.0.0.1/tcp/\(served.port)/https"), .string(daemon.adminToken), "remote"])
            #expect(tls["State"]?.string?.contains("TLS: 127.0.0.1:\(served.port) does not speak TLS") == true, "\(tls)")
            #expect(served.pool.nodes.count == 4)
        }
    }

    @Test func logLevelsChangeAtRuntime() async throws {
        try await withServedPool { served in
            _ = try await served.admin("LogSetLevel", ["fullpool", "warn"])
            #expect(served.instance.logLevels.level(of: "fullpool") == .warning)
            let bad = try await rpcError { try await served.admin("LogSetLevel", ["pool", "debug"]) }
            #expect(bad?.message == "unknown log system 'pool'; systems: fullpool, rpc, upstream")
            let unknownMethod = try await rpcError { try await served.admin("NodeLst") }
            #expect(unknownMethod?.message == "method 'FPool.NodeLst' not found; did you mean FPool.NodeList?")
        }
    }
}
