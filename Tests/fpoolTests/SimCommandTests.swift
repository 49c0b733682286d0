// `fpool sim` as an operator runs it: prints the pool info, serves Lotus calls, stops on Ctrl-C.

import FPoolTestSupport
import Foundation
import LotusWire
import Testing

@testable import fpool

@Suite(.timeLimit(.minutes(1))) struct SimCommandTests {
    let fpool = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: "fpool")

    @Test func simPrintsPoolInfoServesAndStopsOnInterrupt() async throws {
        let process = try RunningProcess(
            self.fpool,
            ["sim", "--nodes", "2", "--block-time", "200ms", "--base-port", "0", "--network-name", "calibsim", "--behind", "true-lag"],
            environment: ProcessInfo.processInfo.environment)
        defer { process.terminate() }
        let lines = await process.output(containing: "Ctrl-C").split(separator: "\n").map(String.init)
        let poolLine = try #require(lines.first { $0.hasPrefix("FULLNODE_API_POOL_INFO=") })
        let entries = poolLine.dropFirst("FULLNODE_API_POOL_INFO=".count).split(separator: ",")
        #expect(entries.count == 2)
        // token:/ip4/127.0.0.1/tcp/<port>/http:name
        let parts = try #require(entries.first).split(separator: ":")
        #expect(parts.count == 3)
        let portText = parts[1].split(separator: "/").dropFirst(3).first.map(String.init) ?? ""
        let port = try #require(Int(portText))
        let head = try await LotusHTTPClient.call(host: "127.0.0.1", port: port, method: "Filecoin.ChainHead", token: String(parts[0]))
        #expect(head.json?["result"]?["Height"]?.int != nil)
        let network = try await LotusHTTPClient.call(
            host: "127.0.0.1", port: port, method: "Filecoin.StateNetworkName", token: String(parts[0]))
        #expect(network.json?["result"]?.string == "calibsim")
        #expect(lines.contains { $0.hasPrefix("network calibsim (genesis bafy2bzace") && $0.hasSuffix("NodeStatus Behind: true-lag") })

        process.interrupt()
        let status = await process.exitStatus()
        let rest = await process.output(containing: "stopped")
        #expect(status == 0)
        #expect(rest.contains("stopped"))
    }

    /// `fpool sim --tls`: daemons over HTTPS with a CA made for the run, whose file it names.
    @Test func simWithTLSServesHTTPSAndNamesItsCA() async throws {
        let process = try RunningProcess(
            self.fpool, ["sim", "--tls", "--nodes", "1", "--block-time", "1s", "--base-port", "0"], environment: [:])
        defer { process.terminate() }
        let lines = await process.output(containing: "Ctrl-C").split(separator: "\n").map(String.init)
        let caFile = try #require(lines.first { $0.hasPrefix("FPOOL_DAEMON_CA=") }).dropFirst("FPOOL_DAEMON_CA=".count)
        let entry = try #require(lines.first { $0.hasPrefix("FULLNODE_API_POOL_INFO=") }).dropFirst("FULLNODE_API_POOL_INFO=".count)
        let parts = entry.split(separator: ":")
        #expect(parts[1].hasSuffix("/https"))
        let port = try #require(Int(parts[1].split(separator: "/")[3]))
        let tls = try TLSDialer(caFile: String(caFile), source: "FPOOL_DAEMON_CA")
        let head = try await LotusHTTPClient.call(
            host: "127.0.0.1", port: port, method: "Filecoin.ChainHead", token: String(parts[0]), tls: tls)
        #expect(head.json?["result"]?["Height"]?.int != nil)
        process.interrupt()
        #expect(await process.exitStatus() == 0)
        #expect(!FileManager.default.fileExists(atPath: String(caFile)))
    }

    /// Runs fpool with `arguments` and returns its exit status and standard error.
    func failure(of arguments: [String]) throws -> (status: Int32, errors: String) {
        let outcome = try ProcessRunner.runBlocking(self.fpool, arguments)
        return (outcome.status, outcome.stderr)
    }

    @Test func badBlockTimeIsAOneLineError() throws {
        let (status, text) = try self.failure(of: ["sim", "--block-time", "fast"])
        #expect(status != 0)
        #expect(text.contains("--block-time: expected a Go duration of at least 10ms, such as 30s or 500ms; got 'fast'"))
    }

    @Test(arguments: [
        ("0", Duration.zero), ("200us", .microseconds(200)), ("200µs", .microseconds(200)), ("1.5ms", .microseconds(1500)),
        ("1s", .seconds(1)), ("750ns", .nanoseconds(750)), ("1ms500us", .microseconds(1500)),
    ])
    func readCostTakesGoDurationsDownToNanoseconds(text: String, expected: Duration) {
        #expect(Sim.duration(text) == expected)
    }

    @Test func aBadReadCostIsAOneLineError() throws {
        for bad in ["fast", "2s", "", "10"] {
            let (status, text) = try self.failure(of: ["sim", "--read-cost", bad])
            #expect(status != 0)
            #expect(
                text.contains("--read-cost: expected a Go duration of at most 1s, such as 200us or 1ms (0 for none); got '\(bad)'"),
                "\(text)")
        }
    }

    @Test func anUnknownBehindModeNamesTheValidOnes() throws {
        let (status, text) = try self.failure(of: ["sim", "--behind", "age"])
        #expect(status != 0)
        #expect(text.contains("head-age") && text.contains("true-lag"), "\(text)")
    }
}
