// Every fpool admin command, run as a process against a pool served on loopback in front of
// simulated daemons, found through FPOOL_PATH as an operator's shell would find it.

import FPoolTestSupport
import Foundation
import LotusWire
import PoolRuntime
import Testing

@Suite(.timeLimit(.minutes(1))) struct CLIAgainstPoolTests {
    let fpool = ProcessRunner.builtProduct("fpool")

    func cli(_ served: ServedPool, _ arguments: [String]) async throws -> ProcessOutcome {
        var environment = ProcessInfo.processInfo.environment
        environment["FPOOL_PATH"] = served.instance.repo.path
        environment["FPOOL_API_INFO"] = nil
        return try await ProcessRunner.run(self.fpool, arguments, environment: environment)
    }

    @Test func nodeListShowsTheSeedFormatAndNodesIsItsAlias() async throws {
        try await withServedPool { served in
            served.cluster.advance(2)
            await served.pool.heartbeat()
            let list = try await self.cli(served, ["node", "list"])
            #expect(list.status == 0, "\(list.stderr)")
            let lines = list.stdout.split(separator: "\n")
            #expect(lines.count == 6)
            let daemon = served.cluster.daemons[0]
            #expect(lines[0] == "Node \(daemon.session), host sim-daemon-0[127.0.0.1:\(daemon.port)]")
            // One miner has sim-daemon-0 as primary: the pool's own PrimarySeed, for clients without a seed.
            #expect(lines[1].hasPrefix("Status: {Primary:(true, 1), Calls:("))
            #expect(lines[1].hasSuffix("Epochs:(Head:2, Behind:0), Peers:(Message:5, Block:5), State:(running)}"))
            #expect(try await self.cli(served, ["nodes"]).stdout == list.stdout)
            let json = try await self.cli(served, ["node", "list", "--json"])
            let nodes = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
            #expect(nodes.map { $0["Name"] as? String } == ["sim-daemon-0", "sim-daemon-1", "sim-daemon-2"])
        }
    }

    @Test func nodeSetPausesByIdAndATypoIsOneLineNamingTheChoices() async throws {
        try await withServedPool { served in
            let id = served.cluster.daemons[1].session
            let paused = try await self.cli(served, ["node", "set", "--nid=\(id)", "--key=status", "--val=pause"])
            #expect(paused.status == 0, "\(paused.stderr)")
            #expect(paused.stdout.contains("State:(paused)"))
            #expect(served.pool.nodes[1].state == .paused)
            let typo = try await self.cli(served, ["node", "set", "--nid=\(id)", "--key=stauts", "--val=pause"])
            #expect(typo.status != 0)
            #expect(typo.stderr == "Error: unknown node key 'stauts'; keys: status, sealing\n")
        }
    }

    @Test func nodeAddJoinsADaemon() async throws {
        try await withServedPool(configure: { _, environment in environment.nodes.removeLast() }) { served in
            let daemon = served.cluster.daemons[2]
            let added = try await self.cli(
                served, ["node", "add", "--api=\(daemon.multiaddr)", "--token=\(daemon.adminToken)", "--name=extra"])
            #expect(added.status == 0, "\(added.stderr)")
            #expect(added.stdout.hasPrefix("Node \(daemon.session), host extra[127.0.0.1:\(daemon.port)]"))
            #expect(served.pool.nodes.count == 3)
        }
    }

    @Test func apiListShowsLiveCallIdsAndApiSetChangesOneAPI() async throws {
        try await withServedPool { served in
            for _ in 0..<3 { _ = try await served.http("Filecoin.ChainHead") }
            let set = try await self.cli(served, ["api", "set", "--api=ChainHead", "--key=timeout", "--val=5s"])
            #expect(set.status == 0, "\(set.stderr)")
            #expect(set.stdout == "ChainHead: Policy OneByChainHeadDesc, NoHang false, Timeout 5s, Filter all, Cache none\n")
            let list = try await self.cli(served, ["api", "list"])
            let row = try #require(
                list.stdout.split(separator: "\n").first {
                    $0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first == "ChainHead"
                })
            #expect(
                row.split(separator: " ", omittingEmptySubsequences: true) == [
                    "chain", "ChainHead", "3", "all", "OneByChainHeadDesc", "false", "5s", "none",
                ])
            let json = try await self.cli(served, ["api", "list", "--json"])
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
            #expect(rows.first { $0["api"] as? String == "ChainHead" }?["callId"] as? Int == 3)
            let bad = try await self.cli(served, ["api", "set", "--api=ChainHed", "--key=timeout", "--val=5s"])
            #expect(bad.stderr.hasPrefix("Error: unknown API 'ChainHed'; did you mean ChainHead?"))
        }
    }

    @Test func apiWhyExplainsEachNode() async throws {
        try await withServedPool { served in
            try await served.pool.setNode("sim-daemon-2", .pause)
            let why = try await self.cli(served, ["api", "why", "StateGetActor"])
            #expect(why.status == 0, "\(why.stderr)")
            let lines = why.stdout.split(separator: "\n").map(String.init)
            #expect(lines[0] == "StateGetActor (v1, read): Policy OneBySeedRound, Filter all, NoHang false, Timeout 0s")
            #expect(lines[1] == "Rule: policy OneBySeedRound: PrimarySeed 0 mod 2 available = position 0, then round robin")
            #expect(lines[2] == "Hedge: after 250ms without an answer, the next node too (HedgeDelay auto)")
            #expect(
                lines[3]
                    == "Cache: tipset: a successful answer is kept when every TipSetKey param names a tipset (0 answers held); give --params to check a call"
            )
            #expect(lines[5].hasPrefix("#1") && lines[5].hasSuffix("picked"))
            #expect(lines[7].hasPrefix("-") && lines[7].hasSuffix("excluded: paused"))
        }
    }

    @Test func primarySetAndList() async throws {
        try await withServedPool { served in
            let set = try await self.cli(served, ["primary", "set", "--seed=f0100", "--nid=sim-daemon-2"])
            #expect(set.status == 0, "\(set.stderr)")
            #expect(set.stdout == "f0100 → sim-daemon-2\n")
            let list = try await self.cli(served, ["primary", "list"])
            let rows = list.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
            #expect(rows.first == ["Seed", "Node", "Status"])
            let daemon = served.cluster.daemons[2]
            #expect(
                rows.dropFirst().contains(["f0100", "sim-daemon-2(id=\(daemon.session),", "addr=127.0.0.1:\(daemon.port))", "running"]))
        }
    }

    @Test func configGetAndSet() async throws {
        try await withServedPool { served in
            let set = try await self.cli(served, ["config", "set", "--key=MaxSyncBehind", "--val=5"])
            #expect(set.stdout == "MaxSyncBehind=5\n")
            #expect(served.pool.settings.maxSyncBehind == 5)
            let get = try await self.cli(served, ["config", "get"])
            #expect(
                get.stdout.split(separator: "\n").contains {
                    $0.split(separator: " ", omittingEmptySubsequences: true) == ["MaxSyncBehind", "5"]
                })
            let json = try await self.cli(served, ["config", "get", "--json"])
            let settings = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: String])
            #expect(settings["DefaultPolicy"] == "OneBySeedRound")
            let bad = try await self.cli(served, ["config", "set", "--key=MaxSyncBehind", "--val=many"])
            #expect(bad.status != 0)
            #expect(bad.stderr.hasPrefix("Error: MaxSyncBehind: 'many' is not valid"))
        }
    }

    @Test func authCommandsGiveWorkingConnectionStrings() async throws {
        try await withServedPool { served in
            let info = try await self.cli(served, ["auth", "api-info", "--perm=read"])
            #expect(info.status == 0, "\(info.stderr)")
            let value = try #require(info.stdout.split(separator: "\n").first?.split(separator: "=", maxSplits: 1).last)
            let token = String(value.split(separator: ":").first ?? "")
            #expect(value.hasSuffix(":/ip4/127.0.0.1/tcp/\(served.port)/http"))
            #expect(try await served.http("Filecoin.ChainHead", token: .some(token)).json?["result"]?["Height"] != nil)
            let created = try await self.cli(served, ["auth", "create-token", "--perm=write"])
            let write = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let refused = try await served.http("Filecoin.MpoolPushMessage", [transfer(), nil], token: .some(write))
            #expect(refused.json?["error"]?["message"]?.string == "missing permission to invoke 'MpoolPushMessage' (need 'sign')")
            let pool = try await self.cli(served, ["auth", "api-pool-info"])
            let lines = pool.stdout.split(separator: "\n")
            #expect(lines.first == "FULLNODE_API_USE_POOL=true")
            #expect(lines.last == "FULLNODE_API_POOL_INFO=\(served.cluster.poolInfo)")
        }
    }

    @Test func logSetLevelAndTheAPIInfoVariable() async throws {
        try await withServedPool { served in
            let set = try await self.cli(served, ["log", "set-level", "--system=fullpool", "warn"])
            #expect(set.stdout == "fullpool: warn\n")
            #expect(served.instance.logLevels.level(of: "fullpool") == .warning)
            // FPOOL_API_INFO instead of the repo files.
            var environment = ProcessInfo.processInfo.environment
            environment["FPOOL_PATH"] = "/nonexistent/fpool"
            environment["FPOOL_API_INFO"] = "\(served.adminToken):/ip4/127.0.0.1/tcp/\(served.port)/http"
            let viaVariable = try await ProcessRunner.run(self.fpool, ["config", "get", "--json"], environment: environment)
            #expect(viaVariable.status == 0, "\(viaVariable.stderr)")
            environment["FPOOL_API_INFO"] = nil
            let none = try await ProcessRunner.run(self.fpool, ["node", "list"], environment: environment)
            #expect(
                none.stderr
                    == "Error: /nonexistent/fpool/api: not found; is fpool running (`fpool run` or `fpool demo`) with this FPOOL_PATH?\n")
        }
    }
}
