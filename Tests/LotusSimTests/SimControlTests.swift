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

    @Test func badControlRequestsSayWhatIsValid() async throws {
        try await withCluster(nodes: 1, controlPort: 0) { cluster in
            let unknown = try await self.control(cluster, "/daemons/0/explode")
            #expect(unknown.status == 400)
            #expect(unknown.json?["error"]?.string?.contains("expected one of: kill, start, restart") == true)
            let missing = try await self.control(cluster, "/daemons/0/lag", ["days": 1])
            #expect(missing.json?["error"]?.string == "lag needs an integer 'epochs'")
            #expect(try await self.control(cluster, "/daemons/7/kill").status == 404)
        }
    }

    /// The simulator is not only tested by its own Swift client: Python's standard library
    /// talks to it as any HTTP JSON-RPC client would.
    @Test func plainHTTPClientGetsLotusShapedAnswers() async throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "sim_http_check.py")
        try await withCluster(nodes: 2, controlPort: 0) { cluster in
            cluster.advance(2)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", script.path]
            process.environment = [
                "SIM_PORT": String(cluster.daemons[0].port), "SIM_TOKEN": cluster.daemons[0].adminToken,
                "SIM_CONTROL_PORT": String(try #require(cluster.controlPort)),
                "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin",
            ]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            // Wait on a plain thread: blocking a Swift concurrency thread here would starve the
            // simulator the script is talking to (the pool has one thread per core).
            let text = await withCheckedContinuation { continuation in
                Thread.detachNewThread {
                    let data = output.fileHandleForReading.readDataToEndOfFile()
                    process.waitUntilExit()
                    continuation.resume(returning: String(decoding: data, as: UTF8.self))
                }
            }
            #expect(process.terminationStatus == 0, "\(text)")
            #expect(text.contains("sim http check: ok"))
        }
    }
}
