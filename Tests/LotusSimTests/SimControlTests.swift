// The control endpoint, and a plain HTTP client (Python's urllib) getting Lotus-shaped answers.

import Foundation
import LotusSim
import LotusWire
import FPoolTestSupport
import Testing

@Suite(.timeLimit(.minutes(1))) struct SimControlTests {
    func control(_ cluster: SimCluster, _ path: String, _ body: JSON? = nil, method: String = "POST") async throws
        -> LotusHTTPClient.Response
    {
        try await LotusHTTPClient.post(
            host: "127.0.0.1", port: try #require(cluster.controlPort), path: path, body: body?.encoded() ?? [],
            method: method == "GET" ? .GET : .POST)
    }

    @Test func faultsAndChainFromTheControlEndpoint() async throws {
        try await withCluster(nodes: 2, controlPort: 0) { cluster in
            let lag = try await self.control(cluster, "/daemons/1/lag", ["epochs": 3])
            #expect(lag.status == 200)
            #expect(try await self.control(cluster, "/advance", ["count": 4]).json?["height"]?.int == 4)
            let status4 = try await self.control(cluster, "/status", method: "GET")
            #expect(status4.json?["daemons"]?[1]?["head"]?.int == 1)
            #expect(try await cluster.client(1).call("Filecoin.ChainHead")["Height"]?.int == 1)
            let status = try await self.control(cluster, "/status", method: "GET")
            #expect(status.json?["daemons"]?.array?.count == 2)
            #expect(status.json?["daemons"]?[0]?["apiInfo"]?.string == cluster.daemons[0].poolEntry)
            _ = try await self.control(cluster, "/daemons/0/fail", ["method": "ChainHead", "count": 1, "message": "boom"])
            #expect(try await rpcError { try await cluster.client(0).call("Filecoin.ChainHead") } == RPCError(code: 1, message: "boom"))
            _ = try await self.control(cluster, "/daemons/0/kill")
            #expect(cluster.daemons[0].running == false)
            _ = try await self.control(cluster, "/daemons/0/start")
            _ = try await cluster.client(0).call("Filecoin.ChainHead")
        }
    }

    @Test func anotherNetworkAndNullRoundsFromTheControlEndpoint() async throws {
        try await withCluster(nodes: 3, controlPort: 0) { cluster in
            _ = try await self.control(cluster, "/advance", ["count": 2])
            let session = cluster.daemons[2].session
            let moved = try await self.control(cluster, "/daemons/2/network", ["name": "othernet"])
            #expect(moved.status == 200)
            #expect(moved.json?["network"]?.string == "fpoolsim")
            #expect(moved.json?["daemons"]?.array?.compactMap { $0["network"]?.string } == ["fpoolsim", "fpoolsim", "othernet"])
            #expect(cluster.daemons[2].session != session)
            let other = try await cluster.client(2)
            #expect(try await other.call("Filecoin.StateNetworkName").string == "othernet")
            #expect(try await other.call("Filecoin.ChainHead")["Height"]?.int == 1002)

            let scheduled = try await self.control(cluster, "/null-rounds", ["count": 3])
            #expect(scheduled.status == 200)
            #expect(scheduled.json?["pendingNullRounds"]?.int == 3)
            #expect(try await self.control(cluster, "/advance", ["count": 3]).json?["height"]?.int == 2)
            let aged = try await self.control(cluster, "/status", method: "GET")
            #expect(aged.json?["pendingNullRounds"]?.int == 0)
            #expect(aged.json?["behindMode"]?.string == "head-age")
            #expect(aged.json?["daemons"]?.array?.compactMap { $0["behind"]?.int } == [3, 3, 3])
            #expect(try await self.control(cluster, "/advance").json?["height"]?.int == 6)

            let back = try await self.control(cluster, "/daemons/2/network", ["name": nil])
            #expect(back.json?["daemons"]?[2]?["network"]?.string == "fpoolsim")
            #expect(try await cluster.client(2).call("Filecoin.ChainHead")["Height"]?.int == 6)
        }
    }

    @Test func badControlRequestsSayWhatIsValid() async throws {
        try await withCluster(nodes: 1, controlPort: 0) { cluster in
            let unknown = try await self.control(cluster, "/daemons/0/explode")
            #expect(unknown.status == 400)
            #expect(unknown.json?["error"]?.string?.contains("expected one of: kill, start, restart") == true)
            let missing = try await self.control(cluster, "/daemons/0/lag", ["days": 1])
            #expect(missing.json?["error"]?.string == "lag needs an integer 'epochs'")
            #expect(try await self.control(cluster, "/daemons/7/kill").status == 404)
            let nameless = try await self.control(cluster, "/daemons/0/network", ["network": "othernet"])
            #expect(nameless.status == 400)
            #expect(nameless.json?["error"]?.string == "network needs a non-empty string 'name' (null for the cluster's own network)")
            let noRounds = try await self.control(cluster, "/null-rounds", ["count": 0])
            #expect(noRounds.status == 400)
            #expect(noRounds.json?["error"]?.string == "null-rounds needs an integer 'count' of 1…10000")
            #expect(cluster.pendingNullRounds == 0)
        }
    }

    @Test func reorgFromTheControlEndpoint() async throws {
        try await withCluster(nodes: 1, controlPort: 0) { cluster in
            let empty = try await self.control(cluster, "/reorg", ["depth": 1])
            #expect(empty.status == 400)
            #expect(empty.json?["error"]?.string?.hasPrefix("reorg needs an integer 'depth' of 1…0") == true)
            _ = try await self.control(cluster, "/advance", ["count": 3])
            #expect(try await self.control(cluster, "/reorg", ["depth": 4]).status == 400)
            #expect(try await self.control(cluster, "/reorg", ["depth": 1, "longer": "yes"]).status == 400)
            let head = try await cluster.client().call("Filecoin.ChainHead")
            let reorg = try await self.control(cluster, "/reorg", ["depth": 2, "longer": true])
            #expect(reorg.status == 200)
            #expect(reorg.json?["forkHeight"]?.int == 2 && reorg.json?["height"]?.int == 4)
            #expect(
                reorg.json?["orphaned"]?[0]?["cids"]?.array?.compactMap(\.string) == head["Cids"]?.array?.compactMap { $0["/"]?.string })
            #expect(reorg.json?["applied"]?.array?.compactMap { $0["height"]?.int } == [2, 3, 4])
            let status = try await self.control(cluster, "/status", method: "GET")
            #expect(status.json?["reorgs"]?.int == 1 && status.json?["daemons"]?[0]?["head"]?.int == 4)
        }
    }

    /// The simulator is not only tested by its own Swift client: Python's standard library
    /// talks to it as any HTTP JSON-RPC client would.
    @Test func plainHTTPClientGetsLotusShapedAnswers() async throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "sim_http_check.py")
        try await withCluster(nodes: 2, controlPort: 0) { cluster in
            cluster.advance(2)
            let environment = [
                "SIM_PORT": String(cluster.daemons[0].port), "SIM_TOKEN": cluster.daemons[0].adminToken,
                "SIM_CONTROL_PORT": String(try #require(cluster.controlPort)),
                "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin",
            ]
            // On a plain thread: blocking a Swift concurrency thread here would starve the
            // simulator the script is talking to (the pool has one thread per core).
            let outcome = try await ProcessRunner.run(
                URL(fileURLWithPath: "/usr/bin/env"), ["python3", script.path], environment: environment)
            let text = outcome.stdout + outcome.stderr
            #expect(outcome.status == 0, "\(text)")
            #expect(text.contains("sim http check: ok"))
        }
    }
}
