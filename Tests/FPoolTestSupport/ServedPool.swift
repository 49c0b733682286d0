// A pool served on loopback in front of simulated daemons: what a lotus-miner would connect to.

import Foundation
import LotusSim
import LotusWire
import NIOHTTP1
import PoolRuntime
import PoolServer
import RouteModel
import Synchronization

/// Log lines a served pool wrote, for tests that check what an operator would read.
public final class LogCapture: Sendable {
    private let state = Mutex<(lines: [String], waiters: [(needle: String, continuation: CheckedContinuation<Void, Never>)])>(([], []))

    public init() {}

    public var sink: @Sendable (String) -> Void {
        { line in
            let ready = self.state.withLock { state in
                state.lines.append(line)
                let ready = state.waiters.filter { line.contains($0.needle) }
                state.waiters.removeAll { line.contains($0.needle) }
                return ready
            }
            ready.forEach { $0.continuation.resume() }
        }
    }
    public var all: [String] { self.state.withLock { $0.lines } }

    /// Returns once a line containing `needle` was written, or when the test is cancelled
    /// (its time limit passed).
    public func waitForLine(containing needle: String) async {
        await untilCancelled {
            await withCheckedContinuation { continuation in
                let seen = self.state.withLock { state -> Bool in
                    if state.lines.contains(where: { $0.contains(needle) }) { return true }
                    state.waiters.append((needle, continuation))
                    return false
                }
                if seen { continuation.resume() }
            }
        }
    }
}

/// fpool (`PoolInstance`, port chosen by the OS, its own repo) in front of a fresh simulated
/// network whose chain moves only when the test says so. Heartbeats run when the test calls
/// `pool.heartbeat()`, so state changes happen at known points.
public struct ServedPool: Sendable {
    public let cluster: SimCluster
    public let instance: PoolInstance
    public let logs: LogCapture

    public var pool: Pool { self.instance.pool }
    public var port: Int { self.instance.server.port ?? 0 }
    /// The admin token fpool wrote to its repo.
    public var adminToken: String { (try? self.instance.repo.readEndpoint().token) ?? "" }

    /// A WebSocket client of fpool, with the admin token unless told otherwise.
    public func client(path: String = "/rpc/v1", token: String?? = .none) async throws -> LotusWSClient {
        let bearer: String? = token ?? self.adminToken
        return try await LotusWSClient.connect(host: "127.0.0.1", port: self.port, path: path, token: bearer)
    }

    /// One HTTP POST call to fpool.
    public func http(_ method: String, _ params: [JSON] = [], path: String = "/rpc/v1", token: String?? = .none) async throws
        -> LotusHTTPClient.Response
    {
        let bearer: String? = token ?? self.adminToken
        return try await LotusHTTPClient.call(host: "127.0.0.1", port: self.port, path: path, method: method, params: params, token: bearer)
    }

    /// A raw HTTP request to fpool.
    public func post(_ body: [UInt8], path: String = "/rpc/v1", method: String = "POST", token: String?? = .none) async throws
        -> LotusHTTPClient.Response
    {
        let bearer: String? = token ?? self.adminToken
        return try await LotusHTTPClient.post(
            host: "127.0.0.1", port: self.port, path: path, body: body, token: bearer, method: HTTPMethod(rawValue: method))
    }

    /// Calls an `FPool.` admin method over HTTP and returns its result.
    public func admin(_ method: String, _ params: [JSON] = []) async throws -> JSON {
        let response = try await self.http("FPool." + method, params)
        guard let json = response.json else { throw RPCError(code: 0, message: "not JSON: HTTP \(response.status)") }
        if let error = json["error"], !error.isNull {
            throw RPCError(code: error["code"]?.int ?? 0, message: error["message"]?.string ?? "")
        }
        return json["result"] ?? .null
    }
}

/// Runs `body` against fpool in front of `nodes` simulated daemons.
/// `simulation` changes the simulated network before it starts (TLS, …).
public func withServedPool<T>(
    nodes: Int = 3, simulation: (inout SimConfiguration) -> Void = { _ in },
    configure: (inout ServerConfiguration, inout PoolEnvironment) -> Void = { _, _ in }, _ body: (ServedPool) async throws -> T
) async throws -> T {
    var simulated = SimConfiguration(nodes: nodes, blockTime: nil)
    simulation(&simulated)
    let cluster = try await SimCluster.start(simulated)
    let repoPath = FileManager.default.temporaryDirectory.appending(path: "fpool-test-\(UUID().uuidString)").path(percentEncoded: false)
    defer { try? FileManager.default.removeItem(atPath: repoPath) }
    do {
        var environment = try PoolEnvironment.load(["FULLNODE_API_POOL_INFO": cluster.poolInfo])
        environment.settings.tipsetWait = GoDuration(milliseconds: 2_000)
        // Heartbeats run when a test calls them; the interval only bounds each probe. The full
        // suite once stalled a 2-core machine for 15 s, and 3 s probes judged live daemons silent.
        environment.settings.heartbeatInterval = GoDuration(milliseconds: 10_000)
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0, shutdownGrace: .seconds(10))
        configure(&configuration, &environment)
        let logs = LogCapture()
        let instance = try PoolInstance(
            environment: environment, repo: FPoolRepo(path: repoPath), configuration: configuration, logLevels: LogLevels(),
            logSink: logs.sink)
        try await instance.start()
        let served = ServedPool(cluster: cluster, instance: instance, logs: logs)
        let result: T
        do {
            result = try await body(served)
        } catch {
            // What fpool logged is the only account of a failure on a CI machine.
            print("fpool's last log lines before \(error):\n" + served.logs.all.suffix(40).joined(separator: "\n"))
            await instance.server.stop()
            throw error
        }
        await instance.server.stop()
        await cluster.stop()
        return result
    } catch {
        await cluster.stop()
        throw error
    }
}

/// A transfer from fixture account `index`.
public func transfer(from index: Int = 0, value: String = "1") -> JSON {
    [
        "Version": 0, "To": "f1sim2recipientaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "From": .string(SimFixtures.accounts[index].key), "Nonce": 0,
        "Value": .string(value), "GasLimit": 0, "GasFeeCap": "0", "GasPremium": "0", "Method": 0, "Params": "",
    ]
}
