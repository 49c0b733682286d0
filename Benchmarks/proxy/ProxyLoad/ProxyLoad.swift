// ProxyLoad: the load generator and scenario driver behind Benchmarks/proxy/run.sh. run.sh starts
// the simulated daemons, fpool and nginx and passes their ports, tokens and process ids here.

import ArgumentParser
import Foundation
import LoadKit
import NIOCore
import NIOPosix

@main
struct ProxyLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Direct vs fpool vs nginx: calls/s, latency, a miner's read mix, memory, failover and channel gap (driven by proxy/run.sh).",
        subcommands: [Run.self, FreePort.self], defaultSubcommand: Run.self)
}

/// Prints a free TCP port on 127.0.0.1 (for nginx's listen directive).
struct FreePort: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "free-port")

    func run() async throws {
        print(try await freeLocalPort())
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run")

    @Option(help: "Port of the simulated daemon called directly (node 0).") var directPort: Int
    @Option(help: "That daemon's admin token.") var directToken: String?
    @Option(help: "fpool's port.") var fpoolPort: Int
    @Option(help: "A token fpool signed (FPOOL_PATH/token).") var fpoolToken: String
    @Option(help: "fpool's process id.") var fpoolPid: Int32
    @Option(help: "nginx's port.") var nginxPort: Int
    @Option(help: "nginx's master process id.") var nginxPid: Int32
    @Option(help: "A token for calls through nginx (node 0's: nginx sends everything to node 0).") var nginxToken: String?
    @Option(help: "The SwiftNIO byte tunnel's port (a reference target, `nio-tunnel`), if it runs.") var tunnelPort: Int?
    @Option(help: "The tunnel's process id.") var tunnelPid: Int32?
    @Option(help: "The simulator's process id.") var simPid: Int32
    @Option(help: "The simulator's control endpoint port.") var controlPort: Int
    @Option(help: "How many simulated daemons.") var nodes = 3

    @Option(help: "Connections in the loaded runs.") var connections = 32
    @Option(help: "Event-loop threads of this load generator.") var threads = 1
    @Option(help: "Warm-up seconds before each measured window.") var warmup = 1.0
    @Option(help: "Seconds measured per loaded run.") var duration = 4.0
    @Option(help: "Seconds measured per one-connection run.") var latencyDuration = 2.0
    @Option(
        help:
            "Rounds per case: the targets are measured in turn this many times and each row is the round with the median rate (loaded) and median p50 (1 connection), so a drift of the machine's speed hits every target alike."
    ) var rounds = 3
    @Option(help: "Websockets in the memory test.") var memorySockets = 1000
    @Option(help: "fpool's RSS goal with those websockets, MiB.") var memoryGoal = 64.0
    @Option(help: "Comma-separated parts to skip: memory, matrix, mix, gap, failover, nginx-memory.") var skip = ""
    @Option(
        help:
            "Only these methods (ChainHead, StateGetActor at the head, StateGetActorAtTipset at a named tipset: cacheable, StateGetActorPassthrough: at the head, each connection's params spelled its own way, so nothing is coalesced or cached), comma-separated."
    )
    var methods = "ChainHead,StateGetActor,StateGetActorAtTipset,StateGetActorPassthrough"
    @Option(help: "Only these transports (ws, http), comma-separated.") var transports = "ws,http"
    @Option(help: "Only these targets (direct, fpool, nginx, nio-tunnel), comma-separated.") var targets = "direct,fpool,nginx,nio-tunnel"
    @Option(help: "A line for the report's header (repeatable).") var note: [String] = []
    @Option(help: "Write the markdown report here too.") var out: String?
    @OptionGroup(title: "The miner's read mix") var mix: MixOptions

    func run() async throws {
        let skipped = Set(self.skip.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        let setup = Setup(
            direct: Endpoint(name: "direct", host: "127.0.0.1", port: self.directPort, path: "/rpc/v1", token: self.directToken),
            fpool: Endpoint(name: "fpool", host: "127.0.0.1", port: self.fpoolPort, path: "/rpc/v1", token: self.fpoolToken),
            nginx: Endpoint(name: "nginx", host: "127.0.0.1", port: self.nginxPort, path: "/rpc/v1", token: self.nginxToken),
            tunnel: self.tunnelPort.map {
                Endpoint(name: "nio-tunnel", host: "127.0.0.1", port: $0, path: "/rpc/v1", token: self.nginxToken)
            },
            controlPort: self.controlPort, nodes: self.nodes, fpoolPID: self.fpoolPid, nginxPID: self.nginxPid, simPID: self.simPid,
            tunnelPID: self.tunnelPid)
        let mixStack = try self.mix.stack(nodes: self.nodes)
        var report = Report()
        report.memoryGoalMiB = self.memoryGoal
        report.notes = self.note
        report.settings.append(
            "Load: \(self.connections) connections (loaded) and 1 connection, \(self.threads) load-generator thread(s); \(String(format: "%g", self.warmup)) s warm-up, then \(String(format: "%g", self.duration)) s (loaded) / \(String(format: "%g", self.latencyDuration)) s (1 connection) measured per case; \(max(1, self.rounds)) round(s) per case, the targets in turn, each row the median round (loaded: by calls/s; 1 connection: by p50)."
        )

        guard await Control.waitAvailable(setup, timeout: .seconds(30), { $0 == setup.nodes }) != nil else {
            throw BenchError("fpool on port \(self.fpoolPort) does not report \(self.nodes) available nodes within 30 s")
        }
        var methods = [RPCMethod.chainHead, RPCMethod.stateGetActor].filter {
            self.methods.split(separator: ",").contains(Substring($0.label))
        }
        if self.methods.split(separator: ",").contains("StateGetActorAtTipset") {
            // The head now, named by its key: a state read fpool may serve from its cache.
            let ws = try await RPCWebSocket.connect(setup.direct)
            let head = try await ws.call(RPCMethod.chainHead)
            await ws.close()
            guard let cids = (head.result as? [String: Any])?["Cids"],
                let key = try? JSONSerialization.data(withJSONObject: cids)
            else { throw BenchError("ChainHead on the daemon gave no Cids") }
            methods.append(
                RPCMethod(
                    label: "StateGetActorAtTipset", method: "Filecoin.StateGetActor",
                    params: #"["f01000","# + String(decoding: key, as: UTF8.self) + "]"))
        }
        if self.methods.split(separator: ",").contains("StateGetActorPassthrough") {
            methods.append(
                RPCMethod(
                    label: "StateGetActorPassthrough", method: "Filecoin.StateGetActor", params: RPCMethod.stateGetActor.params,
                    distinctPerConnection: true))
        }
        let transports = Transport.allCases.filter { self.transports.contains($0.rawValue) }
        let targets = [setup.direct, setup.fpool, setup.nginx, setup.tunnel].compactMap { $0 }.filter {
            self.targets.split(separator: ",").contains(Substring($0.name))
        }
        try await Self.sanity(targets: targets, methods: methods)
        // The load generator's own event loops (the scenarios' clients use NIO's shared group).
        let group = MultiThreadedEventLoopGroup(numberOfThreads: self.threads)

        if !skipped.contains("memory") {
            log("memory: \(self.memorySockets) ChainNotify websockets through fpool")
            let pid = setup.fpoolPID
            report.memory.append(
                try await MemoryTest.run(endpoint: setup.fpool, sockets: self.memorySockets, pids: { [pid] }, group: group))
            if !skipped.contains("nginx-memory") {
                log("memory: \(self.memorySockets) ChainNotify websockets through nginx")
                let nginx = setup.nginxPID
                report.memory.append(
                    try await MemoryTest.run(
                        endpoint: setup.nginx, sockets: self.memorySockets, pids: { ProcFS.withChildren(nginx) }, group: group))
            }
        }

        if !skipped.contains("matrix") {
            // The mix's processes idle meanwhile: not *others*.
            let idle: @Sendable () -> [Int32] = if let mixStack { Self.mixPIDs(mixStack) } else { { [] } }
            for method in methods {
                for transport in transports {
                    var runs: [String: [(loaded: LoadResult, unloaded: LoadResult)]] = [:]
                    for round in 1...max(1, self.rounds) {
                        for target in targets {
                            let sample = Self.sampler(target: target.name, setup: setup, idle: idle)
                            do {
                                let loaded = try await ClosedLoop.run(
                                    endpoint: target, transport: transport, call: method, connections: self.connections,
                                    warmup: .seconds(self.warmup), duration: .seconds(self.duration), group: group, sample: sample)
                                let unloaded = try await ClosedLoop.run(
                                    endpoint: target, transport: transport, call: method, connections: 1, warmup: .seconds(self.warmup / 2),
                                    duration: .seconds(self.latencyDuration), group: group, sample: sample)
                                runs[target.name, default: []].append((loaded, unloaded))
                                let row = MatrixRow(
                                    method: method.label, transport: transport, target: target.name, loaded: loaded, unloaded: unloaded)
                                log(
                                    "\(method.label) \(transport.rawValue) \(target.name) round \(round): \(formatRate(loaded.rate))/s p50 \(formatMicros(loaded.percentile(50))) p99 \(formatMicros(loaded.percentile(99))) | 1 conn p50 \(formatMicros(unloaded.percentile(50))) p99 \(formatMicros(unloaded.percentile(99))) | others \(String(format: "%.0f%%", max(0, row.othersShare.loaded * 100))) | errors \(row.errors)"
                                )
                                if let error = loaded.totals.firstError ?? unloaded.totals.firstError { log("  first error: \(error)") }
                                // A row shows one round; errors of the others are never dropped.
                                if row.errors > 0 {
                                    report.problems.append(
                                        "\(method.label) \(transport.rawValue) \(target.name) round \(round): \(row.errors) failed or stuck calls"
                                    )
                                }
                            } catch {
                                // One case that cannot run (a connection refused) does not end the others.
                                report.problems.append("\(method.label) \(transport.rawValue) \(target.name) round \(round): \(error)")
                                log("\(method.label) \(transport.rawValue) \(target.name) failed: \(error)")
                            }
                        }
                    }
                    for target in targets {
                        guard let measured = runs[target.name], !measured.isEmpty else { continue }
                        let loaded = measured.map(\.loaded).sorted { $0.rate < $1.rate }[measured.count / 2]
                        let unloaded = measured.map(\.unloaded).sorted { $0.percentile(50) < $1.percentile(50) }[measured.count / 2]
                        report.rows.append(
                            MatrixRow(method: method.label, transport: transport, target: target.name, loaded: loaded, unloaded: unloaded))
                        report.roundRates["\(method.label) \(transport.rawValue) \(target.name)"] = measured.map(\.loaded.rate)
                        report.roundP50s["\(method.label) \(transport.rawValue) \(target.name)"] = measured.map {
                            Double($0.unloaded.percentile(50))
                        }
                    }
                }
            }
        }

        if !skipped.contains("mix") {
            if let stack = mixStack {
                log("miner mix: \(self.mix.mixConnections) ChainNotify websockets per target, \(self.mix.mixTargets)")
                do {
                    report.mix = try await MinerMixCase.run(
                        stack: stack, options: self.mix, rounds: self.rounds, warmup: .seconds(self.warmup),
                        duration: .seconds(self.duration), group: group, knownPIDs: Self.knownPIDs(setup, stack),
                        problems: &report.problems)
                } catch {
                    report.problems.append("miner mix: \(error)")
                    log("miner mix failed: \(error)")
                }
            } else {
                log("miner mix: skipped (no --mix-* stack given; run.sh starts one)")
            }
        }

        if !skipped.contains("gap") {
            log("channel gap: ChainNotify through fpool, serving daemon killed")
            do {
                report.gap = try await ChannelGapTest.run(setup: setup)
            } catch {
                report.problems.append("channel gap: \(error)")
                log("channel gap failed: \(error)")
            }
        }

        if !skipped.contains("failover") {
            log("failover: closed-loop calls through fpool, serving daemon killed")
            do {
                report.failover = try await FailoverTest.run(setup: setup, connectionsPerMethod: 2)
            } catch {
                report.problems.append("failover: \(error)")
                log("failover failed: \(error)")
            }
        }

        try? await group.shutdownGracefully()
        let markdown = report.markdown()
        print(markdown)
        if let out = self.out {
            try (markdown + "\n").write(toFile: out, atomically: true, encoding: .utf8)
            log("report written to \(out)")
        }
    }

    /// CPU readings for one target's runs; `idle`: processes of the benchmark's that this case
    /// does not use (the mix's), left out of *others*.
    static func sampler(target: String, setup: Setup, idle: @escaping @Sendable () -> [Int32]) -> @Sendable () -> CPUSample {
        let me = getpid()
        return {
            let fpool = ProcFS.cpuSeconds(setup.fpoolPID) ?? 0
            let nginx = ProcFS.totalCPU(setup.nginxPIDs)
            let tunnel = setup.tunnelPID.flatMap(ProcFS.cpuSeconds) ?? 0
            let sim = ProcFS.cpuSeconds(setup.simPID) ?? 0
            let loadgen = ProcFS.cpuSeconds(me) ?? 0
            let proxy: Double =
                switch target {
                case "fpool": fpool
                case "nginx": nginx
                case "nio-tunnel": tunnel
                default: 0
                }
            // Everything else the machine ran: another build or test run makes the figures unreliable.
            let others = ProcFS.machineBusySeconds() - fpool - nginx - tunnel - sim - loadgen - ProcFS.totalCPU(idle())
            return CPUSample(proxy: proxy, sim: sim, loadgen: loadgen, others: others)
        }
    }

    /// Every process the benchmark started, and this one: what the *others* column leaves out.
    static func knownPIDs(_ setup: Setup, _ stack: MixStack) -> @Sendable () -> [Int32] {
        let me = getpid()
        let mix = Self.mixPIDs(stack)
        return { [me, setup.fpoolPID, setup.simPID] + [setup.tunnelPID].compactMap { $0 } + setup.nginxPIDs + mix() }
    }

    /// The mix stack's processes.
    static func mixPIDs(_ stack: MixStack) -> @Sendable () -> [Int32] {
        {
            [stack.setup.fpoolPID, stack.setup.simPID, stack.uncachedPID] + [stack.setup.tunnelPID].compactMap { $0 }
                + stack.setup.nginxPIDs
        }
    }

    /// One call of each kind on each target, checked: a tipset with a height, an actor with a code.
    static func sanity(targets: [Endpoint], methods: [RPCMethod]) async throws {
        for target in targets {
            let ws = try await RPCWebSocket.connect(target)
            defer { Task { await ws.close() } }
            for method in methods {
                let wsFrame = try await ws.call(method)
                let http = try await Connect.request(
                    port: target.port, method: .POST, path: target.path, body: String(decoding: method.request(id: 7), as: UTF8.self),
                    token: target.token)
                let httpObject = http.json() as? [String: Any]
                for (transport, result, error) in [
                    ("ws", wsFrame.result, wsFrame.error),
                    (
                        "http", httpObject?["result"],
                        (httpObject?["error"]).map { "\($0)" }
                            ?? (http.status == 200 ? nil : "HTTP \(http.status) \(http.text.prefix(200))")
                    ),
                ] {
                    let object = result as? [String: Any]
                    let valid = method.label == "ChainHead" ? object?["Height"] is NSNumber : object?["Code"] != nil
                    guard error == nil, valid else {
                        throw BenchError("\(target.name) \(transport) \(method.label): unexpected answer (\(error ?? "no valid result"))")
                    }
                }
                log("sanity: \(target.name) \(method.label) ok over ws and http (\(http.body.count) bytes)")
            }
        }
    }
}
