// The mix case: round after round, the targets in turn, each with its mix connections in a
// closed loop while the chain moves; calls/s and latency, CPU per call from /proc, and for fpool
// the cache's hits and misses over the measured window.

import Foundation
import LoadKit
import NIOCore
import NIOPosix

/// One target of the mix and how its work is accounted for.
struct MixTarget: Sendable {
    let endpoint: Endpoint
    /// The proxy's processes (none for direct).
    let pids: @Sendable () -> [Int32]
    /// The port of an fpool whose /metrics has the cache counters.
    let metricsPort: Int?
}

/// One target's measured window.
struct MixRound: Sendable {
    let load: LoadResult
    /// The cache's hits and misses over the window (fpool only).
    let cache: CacheCounts?
    /// Connections that held a head when the loop began.
    let ready: Int
}

/// Every round of every target, and how the mix ran.
struct MixResult: Sendable {
    var settings: [String] = []
    /// Target names, in the order they were measured in each round.
    var targets: [String] = []
    var rounds: [String: [MixRound]] = [:]

    /// The round with the median calls/s.
    func median(_ target: String) -> MixRound? {
        guard let rounds = self.rounds[target], !rounds.isEmpty else { return nil }
        return rounds.sorted { $0.load.rate < $1.load.rate }[rounds.count / 2]
    }

    /// The median over rounds of `measure(subject's round, reference's round)`, with every
    /// round's value; nil unless both were measured in every round. Targets of one round ran
    /// back to back, so a drift of the machine's speed moves this least.
    func paired(_ subject: String, _ reference: String, _ measure: (MixRound, MixRound) -> Double) -> (
        median: Double, rounds: [Double]
    )? {
        let measured = self.rounds[subject] ?? []
        let other = self.rounds[reference] ?? []
        guard !measured.isEmpty, measured.count == other.count else { return nil }
        let values = zip(measured, other).map(measure)
        return (values.sorted()[values.count / 2], values)
    }
}

enum MinerMixCase {
    /// Heights below this make a deadline's challenge epoch genesis: the run first moves the chain past it.
    static let startHeight: Int64 = 120

    /// Runs the mix on every target of `options.mixTargets`, `rounds` times.
    ///
    /// - Parameter knownPIDs: every process of the benchmark, this one included (CPU of the
    ///   rest of the machine is *others*).
    /// - Throws: when the mix's daemons or fpools are not ready or refuse the mix's miners;
    ///   a target that fails in one round is a problem of the report instead.
    static func run(
        stack: MixStack, options: MixOptions, rounds: Int, warmup: Duration, duration: Duration, group: any EventLoopGroup,
        knownPIDs: @escaping @Sendable () -> [Int32], problems: inout [String]
    ) async throws -> MixResult {
        let setup = stack.setup
        for fpool in [setup, stack.uncachedSetup] {
            guard await Control.waitAvailable(fpool, timeout: .seconds(30), { $0 == fpool.nodes }) != nil else {
                throw BenchError("mix: \(fpool.fpool.name) on port \(fpool.fpool.port) does not report \(fpool.nodes) available nodes")
            }
        }
        let height = try await Control.simHeight(setup)
        if height < Self.startHeight {
            try await Control.sim(setup, "/advance", #"{"count":\#(Self.startHeight - height)}"#)
        }
        let miners = try options.miners()
        let actorHeads = try await Self.probe(setup.direct, miners)

        let all: [MixTarget] = [
            MixTarget(endpoint: setup.direct, pids: { [] }, metricsPort: nil),
            MixTarget(endpoint: setup.nginx, pids: { setup.nginxPIDs }, metricsPort: nil),
            MixTarget(endpoint: setup.tunnel!, pids: { [setup.tunnelPID!] }, metricsPort: nil),
            MixTarget(endpoint: stack.uncached, pids: { [stack.uncachedPID] }, metricsPort: stack.uncached.port),
            MixTarget(endpoint: setup.fpool, pids: { [setup.fpoolPID] }, metricsPort: setup.fpool.port),
        ]
        let wanted = options.mixTargets.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let targets = wanted.compactMap { name in all.first { $0.endpoint.name == name } }
        var result = MixResult()
        result.targets = targets.map(\.endpoint.name)
        result.settings = Self.settings(options, miners, actorHeads)

        for round in 1...max(1, rounds) {
            for target in targets {
                let name = target.endpoint.name
                do {
                    let measured = try await Self.measure(
                        target, stack: stack, options: options, miners: miners, actorHeads: actorHeads.readable, warmup: warmup,
                        duration: duration, group: group, knownPIDs: knownPIDs)
                    result.rounds[name, default: []].append(measured)
                    let load = measured.load
                    let hits = measured.cache?.hitRatio.map { String(format: " | cache hits %.2f%%", $0 * 100) } ?? ""
                    log(
                        "mix \(name) round \(round): \(formatRate(load.rate))/s p50 \(formatMicros(load.percentile(50))) p99 \(formatMicros(load.percentile(99)))\(hits) | others \(String(format: "%.0f%%", max(0, load.othersShare * 100))) | errors \(load.errors)"
                    )
                    if let error = load.totals.firstError { log("  first error: \(error)") }
                    if load.errors > 0 { problems.append("mix \(name) round \(round): \(load.errors) failed or stuck calls") }
                    if measured.ready < options.mixConnections {
                        problems.append("mix \(name) round \(round): \(measured.ready) of \(options.mixConnections) connections had a head")
                    }
                } catch {
                    problems.append("mix \(name) round \(round): \(error)")
                    log("mix \(name) failed: \(error)")
                }
            }
        }
        return result
    }

    /// One window on one target: connect and subscribe, start the loop once every connection
    /// holds a head (or after 10 s), add a tipset every `mixHeadInterval` while it runs.
    private static func measure(
        _ target: MixTarget, stack: MixStack, options: MixOptions, miners: [MixMiner], actorHeads: Bool, warmup: Duration,
        duration: Duration, group: any EventLoopGroup, knownPIDs: @escaping @Sendable () -> [Int32]
    ) async throws -> MixRound {
        let collector = Collector()
        let progress = MixProgress()
        let count = options.mixConnections
        let endpoint = target.endpoint
        let channels = try await ClosedLoop.openAll(count) { index in
            // Clients start at different points of the cycle, so the kinds interleave across them.
            let client = MinerMixClient(
                miner: miners[index % miners.count], start: index * MixCall.cycle.count / max(1, count), readsActorHeads: actorHeads)
            let channel = try await Connect.webSocket(endpoint, group: group) { channel in
                try channel.pipeline.syncOperations.addHandler(MinerMixHandler(client: client, collector: collector, progress: progress))
            }
            channel.pipeline.fireUserInboundEventTriggered(MixSubscribe())
            return channel
        }
        defer { for channel in channels { channel.close(promise: nil) } }
        let subscribedBy = nowNanos() + 10_000_000_000
        while progress.ready.load(ordering: .relaxed) < count, nowNanos() < subscribedBy {
            try await Task.sleep(for: .milliseconds(10))
        }
        let ready = progress.ready.load(ordering: .relaxed)

        let advancing = Self.advance(stack.setup, every: options.mixHeadInterval)
        defer { advancing?.cancel() }
        let start = nowNanos() + UInt64(warmup.nanoseconds)
        let end = start + UInt64(duration.nanoseconds)
        let go = Go(measureStart: start, measureEnd: end)
        for channel in channels { channel.pipeline.fireUserInboundEventTriggered(go) }
        let sample = Self.sampler(target, simPID: stack.setup.simPID, knownPIDs: knownPIDs)
        try await Task.sleep(for: .nanoseconds(max(0, Int64(start) - Int64(nowNanos()))))
        // The scrapes lie outside the CPU window: the first before its start, the last after its end.
        var cacheStart: CacheCounts?
        if let port = target.metricsPort { cacheStart = try await CacheCounts.read(port: port) }
        let cpuStart = sample()
        try await Task.sleep(for: .nanoseconds(max(0, Int64(end) - Int64(nowNanos()))))
        let cpuEnd = sample()
        var cacheEnd: CacheCounts?
        if let port = target.metricsPort { cacheEnd = try await CacheCounts.read(port: port) }
        advancing?.cancel()
        let deadline = end + 5_000_000_000
        while collector.snapshot.finished < count, nowNanos() < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let totals = collector.snapshot
        let load = LoadResult(
            connections: count, seconds: duration.seconds, totals: totals, stuck: count - totals.finished, cpuStart: cpuStart,
            cpuEnd: cpuEnd)
        var cache: CacheCounts?
        if let cacheStart, let cacheEnd { cache = cacheEnd - cacheStart }
        return MixRound(load: load, cache: cache, ready: ready)
    }

    /// Adds one tipset every `seconds` until cancelled (nil for 0: the simulator's own block time).
    private static func advance(_ setup: Setup, every seconds: Double) -> Task<Void, Never>? {
        guard seconds > 0 else { return nil }
        return Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(seconds))
                if Task.isCancelled { break }
                do {
                    try await Control.sim(setup, "/advance", #"{"count":1}"#)
                } catch {
                    // Cancelled during the request: the window is over, nothing failed.
                    if Task.isCancelled { break }
                    log("mix: advancing the chain failed: \(error)")
                }
            }
        }
    }

    /// CPU readings for one target's window: its proxy, the mix's daemons, this process, and
    /// the rest of the machine.
    private static func sampler(_ target: MixTarget, simPID: Int32, knownPIDs: @escaping @Sendable () -> [Int32])
        -> @Sendable () -> CPUSample
    {
        let me = getpid()
        return {
            let known = ProcFS.totalCPU(Array(Set(knownPIDs())))
            return CPUSample(
                proxy: ProcFS.totalCPU(target.pids()), sim: ProcFS.cpuSeconds(simPID) ?? 0, loadgen: ProcFS.cpuSeconds(me) ?? 0,
                others: ProcFS.machineBusySeconds() - known)
        }
    }

    /// Checks that every miner is one on these daemons (StateMinerInfo), and whether ChainReadObj
    /// reads the Head StateGetActor gives for a miner actor (the simulator may only read blocks).
    ///
    /// - Returns: whether actor Heads are readable, and the daemon's answer when not.
    private static func probe(_ direct: Endpoint, _ miners: [MixMiner]) async throws -> (readable: Bool, refusal: String?) {
        let ws = try await RPCWebSocket.connect(direct)
        defer { Task { await ws.close() } }
        for miner in miners {
            let info = try await ws.call(
                RPCMethod(label: "StateMinerInfo", method: "Filecoin.StateMinerInfo", params: #"["\#(miner.address)",[]]"#))
            if let error = info.error { throw BenchError("mix: StateMinerInfo of \(miner.address) on the daemon: \(error)") }
        }
        let actor = try await ws.call(
            RPCMethod(label: "StateGetActor", method: "Filecoin.StateGetActor", params: #"["\#(miners[0].address)",[]]"#))
        guard let head = ((actor.result as? [String: Any])?["Head"] as? [String: Any])?["/"] as? String else {
            throw BenchError("mix: StateGetActor of \(miners[0].address) gave no Head (\(actor.error ?? "no result"))")
        }
        let read = try await ws.call(RPCMethod(label: "ChainReadObj", method: "Filecoin.ChainReadObj", params: #"[{"/":"\#(head)"}]"#))
        if let error = read.error { log("mix: the daemon does not read an actor's Head (\(error)); ChainReadObj reads blocks only") }
        return (read.error == nil, read.error)
    }

    private static func settings(_ options: MixOptions, _ miners: [MixMiner], _ actorHeads: (readable: Bool, refusal: String?))
        -> [String]
    {
        let heads =
            options.mixHeadInterval > 0
            ? "the run adds a tipset every \(String(format: "%g", options.mixHeadInterval)) s while a target is measured (POST /advance), so each window sees head changes and the cache misses they bring"
            : "the chain moves only at the simulator's block time"
        let objects =
            actorHeads.readable
            ? "ChainReadObj reads the blocks of the last \(MinerMixClient.keptHeads) heads and, in turn, the Head its last StateGetActor gave"
            : "ChainReadObj reads the blocks of the last \(MinerMixClient.keptHeads) heads only: the daemons refused an actor's Head (`\(actorHeads.refusal ?? "")`)"
        let cost =
            options.mixReadCost.isEmpty
            ? "no CPU cost per state read: this simulator has no --read-cost, or MIX_READ_COST was empty"
            : "`fpool sim --read-cost \(options.mixReadCost)`"
        return [
            "Miner mix: \(options.mixConnections) WebSocket connections, each following the head through its own ChainNotify subscription and reading as one of \(miners.map(\.address).joined(separator: ", ")) (connection i as miner i mod \(miners.count)); calls per 100: \(MixCall.weightsLine); \(objects); \(heads). Its own simulated daemons (3, \(cost)), nginx, SwiftNIO tunnel and two fpools (cache on, and `FPOOL_CACHE_BYTES=0`)."
        ]
    }
}
