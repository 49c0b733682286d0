// `fpool run` and `fpool demo` as an operator starts them: they serve Lotus clients, write
// the repo files the CLI reads, and stop cleanly on Ctrl-C.

import FPoolTestSupport
import Foundation
import LotusSim
import LotusWire
import PoolRuntime
import Testing

@Suite(.timeLimit(.minutes(1))) struct ServeCommandTests {
    let fpool = ProcessRunner.builtProduct("fpool")

    func environment(repo: String) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["FPOOL_PATH"] = repo
        for variable in ["FPOOL_API_INFO", "FULLNODE_API_INFO", "FULLNODE_API_POOL_INFO", "FPOOL_LISTEN", "LOTUS_PATH"] {
            environment[variable] = nil
        }
        // No ~/.lotus of this machine's user joins the pools under test.
        environment["HOME"] = repo
        return environment
    }

    func temporaryRepo() -> String {
        FileManager.default.temporaryDirectory.appending(path: "fpool-cli-\(UUID().uuidString)").path(percentEncoded: false)
    }

    /// The daemons of FULLNODE_API_POOL_INFO, and the one of a Lotus repo (LOTUS_PATH), as the
    /// seed's legacy lookup still finds it.
    @Test func runServesThePoolFromTheEnvironmentAndStopsOnInterrupt() async throws {
        let cluster = try await SimCluster.start(SimConfiguration(nodes: 3, blockTime: nil))
        let repo = self.temporaryRepo()
        defer { try? FileManager.default.removeItem(atPath: repo) }
        var environment = self.environment(repo: repo)
        environment["FULLNODE_API_POOL_INFO"] = cluster.daemons.prefix(2).map(\.poolEntry).joined(separator: ",")
        let lotusRepo = self.temporaryRepo() + "/lotus-mainnet"
        defer { try? FileManager.default.removeItem(atPath: (lotusRepo as NSString).deletingLastPathComponent) }
        try FileManager.default.createDirectory(atPath: lotusRepo, withIntermediateDirectories: true)
        try (cluster.daemons[2].multiaddr + "\n").write(toFile: lotusRepo + "/api", atomically: true, encoding: .utf8)
        try cluster.daemons[2].adminToken.write(toFile: lotusRepo + "/token", atomically: true, encoding: .utf8)
        environment["LOTUS_PATH"] = lotusRepo
        let process = try RunningProcess(
            self.fpool, ["run", "--listen=/ip4/127.0.0.1/tcp/0/http", "--threads=1"], environment: environment)
        defer { process.terminate() }
        let started = await process.output(containing: "serving the Lotus API on")
        #expect(started.contains("with 1 event-loop thread;"))
        #expect(started.contains("node sim-daemon-1 [127.0.0.1:\(cluster.daemons[1].port)]: running"))
        #expect(started.contains("node lotus-mainnet [127.0.0.1:\(cluster.daemons[2].port)]: running"))
        let api = try String(contentsOfFile: repo + "/api", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let port = try #require(Int(api.split(separator: "/")[3]))
        cluster.advance(2)
        // ChainHead comes from fpool's head feeds, which hear of the new head a moment later.
        #expect(
            await holds(asking: {
                let head = try? await LotusHTTPClient.call(host: "127.0.0.1", port: port, method: "Filecoin.ChainHead")
                return head?.json?["result"]?["Height"]?.int == 2
            }))
        let nodes = try await ProcessRunner.run(self.fpool, ["node", "list"], environment: environment)
        #expect(nodes.stdout.contains("host sim-daemon-0[127.0.0.1:\(cluster.daemons[0].port)]"))
        process.interrupt()
        #expect(await process.exitStatus() == 0)
        #expect(await process.output(containing: "shutting down").contains("shutting down"))
        await cluster.stop()
    }

    @Test func runRefusesABadEnvironmentNamingTheEntry() async throws {
        var environment = self.environment(repo: self.temporaryRepo())
        environment["FULLNODE_API_POOL_INFO"] = "eyJhbGciOiJIUzI1NiJ9.e30.c2VjcmV0LXNpZw:/ip4/127.0.0.1/tcp/99999/http:bad"
        let outcome = try await ProcessRunner.run(self.fpool, ["run"], environment: environment)
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("FULLNODE_API_POOL_INFO entry 1"))
        #expect(outcome.stderr.contains("bad port '99999'"))
        #expect(!outcome.stderr.contains("c2VjcmV0LXNpZw"))
    }

    /// Lotus refuses key files looser than 0600; so does `fpool run`, before it serves anything,
    /// saying which file and which chmod.
    @Test func runRefusesASecretOthersCanRead() async throws {
        let repo = self.temporaryRepo()
        defer { try? FileManager.default.removeItem(atPath: repo) }
        try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let secret = repo + "/jwt-secret"
        try (String(repeating: "ab", count: 32) + "\n").write(toFile: secret, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: secret)
        var environment = self.environment(repo: repo)
        environment["FULLNODE_API_POOL_INFO"] = "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl:/ip4/127.0.0.1/tcp/1234/http:node"
        let outcome = try await ProcessRunner.run(self.fpool, ["run", "--listen=/ip4/127.0.0.1/tcp/0/http"], environment: environment)
        #expect(outcome.status != 0)
        #expect(
            outcome.stderr.contains("\(secret): the JWT secret is readable or writable by group or others (mode 0644)"),
            "stderr: \(outcome.stderr)")
        #expect(outcome.stderr.contains("Fix: chmod 600 \(secret)"), "stderr: \(outcome.stderr)")
        #expect(!FileManager.default.fileExists(atPath: repo + "/api"))
    }

    /// A thread count out of range, or an FPOOL_THREADS that is no number, is refused before
    /// anything starts, naming what was expected.
    @Test(arguments: [
        (["--threads=0"], [String: String](), "--threads / FPOOL_THREADS: expected 1…256 event-loop threads, got 0"),
        ([], ["FPOOL_THREADS": "two"], "FPOOL_THREADS: expected a number of threads (1…256), got 'two'"),
    ])
    func runRefusesABadThreadCount(arguments: [String], variables: [String: String], message: String) async throws {
        var environment = self.environment(repo: self.temporaryRepo())
        environment["FULLNODE_API_POOL_INFO"] = "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl:/ip4/127.0.0.1/tcp/1234/http:node"
        environment.merge(variables) { $1 }
        let outcome = try await ProcessRunner.run(self.fpool, ["run"] + arguments, environment: environment)
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains(message), "stderr: \(outcome.stderr)")
    }

    @Test func demoServesThreeDaemonsTellsWhatToTryAndStopsOnInterrupt() async throws {
        let repo = self.temporaryRepo()
        defer { try? FileManager.default.removeItem(atPath: repo) }
        var environment = self.environment(repo: repo)
        environment["FPOOL_THREADS"] = "3"
        let process = try RunningProcess(
            self.fpool, ["demo", "--listen=/ip4/127.0.0.1/tcp/0/http", "--block-time=200ms"], environment: environment)
        defer { process.terminate() }
        let banner = await process.output(containing: "Ctrl-C stops")
        // Logged from a queue of its own: not ordered with the banner.
        #expect(await process.output(containing: "event-loop thread").contains("with 3 event-loop threads;"))
        #expect(banner.contains("fpool demo: 3 simulated Lotus daemons"))
        #expect(banner.contains("fpool node list"))
        #expect(banner.contains("export FULLNODE_API_INFO="))
        let nodes = try await ProcessRunner.run(self.fpool, ["node", "list", "--json"], environment: environment)
        let list = try #require(try JSONSerialization.jsonObject(with: Data(nodes.stdout.utf8)) as? [[String: Any]])
        #expect(list.count == 3)
        #expect(list.allSatisfy { $0["State"] as? String == "running" })
        process.interrupt()
        #expect(await process.exitStatus() == 0)
        let output = await process.output(containing: "stopped")
        #expect(output.hasSuffix("stopped\n"), "output ends: \(output.suffix(400))")
    }

    /// `fpool demo --tls`: daemons behind TLS, and the pool serving WSS to a client that trusts the run's CA; the CLI
    /// reaches the pool over HTTPS by the certificate in its repo.
    @Test func demoWithTLSServesWSSInFrontOfTLSDaemons() async throws {
        let repo = self.temporaryRepo()
        defer { try? FileManager.default.removeItem(atPath: repo) }
        let environment = self.environment(repo: repo)
        let process = try RunningProcess(
            self.fpool, ["demo", "--tls", "--listen=/ip4/127.0.0.1/tcp/0/http", "--block-time=500ms"], environment: environment)
        defer { process.terminate() }
        let banner = await process.output(containing: "Ctrl-C stops")
        let lines = banner.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.filter { $0.hasPrefix("sim-daemon-") }.allSatisfy { $0.hasSuffix("/https") })
        let caFile = try #require(
            lines.first { $0.hasPrefix("FPOOL_DAEMON_CA=") }?.dropFirst("FPOOL_DAEMON_CA=".count).split(separator: " ").first)
        let info = try #require(lines.first { $0.hasPrefix("export FULLNODE_API_INFO=") }?.dropFirst("export FULLNODE_API_INFO=".count))
        let address = try Multiaddr(parsing: String(info.split(separator: ":", maxSplits: 1)[1]))
        #expect(address.secure)
        let client = try await LotusWSClient.connect(
            host: address.host, port: address.port, token: String(info.split(separator: ":")[0]),
            tls: try TLSDialer(caFile: String(caFile), source: "the demo's CA"))
        #expect(try await client.call("Filecoin.ChainHead")["Height"]?.int != nil)
        await client.close()
        let nodes = try await ProcessRunner.run(self.fpool, ["node", "list", "--json"], environment: environment)
        #expect(nodes.status == 0, "\(nodes.stderr)")
        let list = try #require(try JSONSerialization.jsonObject(with: Data(nodes.stdout.utf8)) as? [[String: Any]])
        #expect(list.count == 3 && list.allSatisfy { $0["State"] as? String == "running" })
        process.interrupt()
        #expect(await process.exitStatus() == 0)
        // The run's CA goes with it.
        #expect(!FileManager.default.fileExists(atPath: String(caFile)))
    }
}
