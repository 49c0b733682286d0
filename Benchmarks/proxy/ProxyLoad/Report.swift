// The markdown report: goals first, then the load matrix, the miner mix, memory, failover and
// channel gap.

import Foundation
import LoadKit

struct MatrixRow: Sendable {
    let method: String
    let transport: Transport
    let target: String
    let loaded: LoadResult
    let unloaded: LoadResult

    /// CPU microseconds per call in the loaded window: (proxy, daemons, load generator).
    var cpuPerCall: (proxy: Double, sim: Double, loadgen: Double) { self.loaded.cpuPerCall }

    /// Share of the machine's cores other processes used during the loaded and 1-connection windows.
    var othersShare: (loaded: Double, unloaded: Double) { (self.loaded.othersShare, self.unloaded.othersShare) }

    var errors: Int { self.loaded.errors + self.unloaded.errors }
}

struct Report {
    var notes: [String] = []
    var settings: [String] = []
    var rows: [MatrixRow] = []
    var memory: [MemoryResult] = []
    var memoryGoalMiB = 64.0
    var failover: FailoverResult?
    /// The miner's read mix, when it ran.
    var mix: MixResult?
    var gap: GapResult?
    var problems: [String] = []
    /// Loaded calls/s of every round, by "method transport target" (the row shows the median round).
    var roundRates: [String: [Double]] = [:]
    /// 1-connection p50 (ns) of every round, by "method transport target".
    var roundP50s: [String: [Double]] = [:]

    /// The median over rounds of `measure(subject's round, reference's round)`, with every
    /// round's value; nil unless both were measured in every round. A round's targets ran back
    /// to back on the same machine, so a drift of the VM's speed moves this least.
    func paired(
        _ series: [String: [Double]], _ method: String, _ transport: Transport, subject: String = "fpool", reference: String,
        _ measure: (Double, Double) -> Double
    ) -> (median: Double, rounds: [Double])? {
        let measured = series["\(method) \(transport.rawValue) \(subject)"] ?? []
        let other = series["\(method) \(transport.rawValue) \(reference)"] ?? []
        guard !measured.isEmpty, measured.count == other.count else { return nil }
        let rounds = zip(measured, other).map(measure)
        return (rounds.sorted()[rounds.count / 2], rounds)
    }

    /// The methods measured, in the order they ran.
    var methods: [String] {
        self.rows.reduce(into: []) { methods, row in if !methods.contains(row.method) { methods.append(row.method) } }
    }

    func row(_ method: String, _ transport: Transport, _ target: String) -> MatrixRow? {
        self.rows.first { $0.method == method && $0.transport == transport && $0.target == target }
    }

    func markdown() -> String {
        var out: [String] = []
        let date = ISO8601DateFormatter().string(from: Date())
        out.append("# fpool proxy benchmark — \(date)")
        out.append("")
        for note in self.notes { out.append("- \(note)") }
        for setting in self.settings { out.append("- \(setting)") }
        out.append("")
        out += self.goals()
        if !self.rows.isEmpty { out += self.matrix() }
        if let mix = self.mix { out += self.mixTable(mix) }
        if !self.memory.isEmpty { out += self.memoryTable() }
        if let failover = self.failover { out += Self.failoverTable(failover) }
        if let gap = self.gap { out += Self.gapTable(gap) }
        if !self.problems.isEmpty {
            out.append("## Problems during the run")
            out.append("")
            for problem in self.problems { out.append("- \(problem)") }
            out.append("")
        }
        return out.joined(separator: "\n")
    }

    private func goals() -> [String] {
        var out = ["## Goals", "", "| goal | case | fpool | reference | met |", "| --- | --- | --- | --- | --- |"]
        for method in self.methods {
            for transport in Transport.allCases {
                guard let fpool = self.row(method, transport, "fpool") else { continue }
                if let nginx = self.row(method, transport, "nginx") {
                    let paired = self.paired(self.roundRates, method, transport, reference: "nginx") { $0 / max(1, $1) }
                    let ratio = paired?.median ?? fpool.loaded.rate / max(1, nginx.loaded.rate)
                    let detail =
                        (paired?.rounds.count ?? 0) > 1
                        ? ", median of the rounds' \(paired!.rounds.map { String(format: "%.2f", $0) }.joined(separator: ", "))" : ""
                    // The least a SwiftNIO proxy does per call, against the same nginx rounds.
                    var floor = ""
                    if self.row(method, transport, "nio-tunnel") != nil,
                        let tunnel = self.paired(
                            self.roundRates, method, transport, subject: "nio-tunnel", reference: "nginx", { $0 / max(1, $1) })
                    {
                        floor = "; SwiftNIO byte tunnel ×\(String(format: "%.2f", tunnel.median)) of nginx"
                    }
                    out.append(
                        "| throughput ≥ nginx | \(method) \(transport.rawValue) | \(formatRate(fpool.loaded.rate))/s | nginx \(formatRate(nginx.loaded.rate))/s (fpool ×\(String(format: "%.2f", ratio))\(detail)\(floor)) | \(ratio >= 1 ? "yes" : "**no**") |"
                    )
                }
            }
        }
        // Pass-through (nothing coalesced or cached): at least what a SwiftNIO byte tunnel does.
        for method in self.methods where method.hasSuffix("Passthrough") {
            for transport in Transport.allCases {
                guard let fpool = self.row(method, transport, "fpool"), let tunnel = self.row(method, transport, "nio-tunnel"),
                    let paired = self.paired(self.roundRates, method, transport, reference: "nio-tunnel", { $0 / max(1, $1) })
                else { continue }
                let rounds = paired.rounds.map { String(format: "%.2f", $0) }.joined(separator: ", ")
                out.append(
                    "| pass-through ≥ SwiftNIO tunnel | \(method) \(transport.rawValue) | \(formatRate(fpool.loaded.rate))/s | nio-tunnel \(formatRate(tunnel.loaded.rate))/s (fpool ×\(String(format: "%.2f", paired.median)), median of the rounds' \(rounds)) | \(paired.median >= 1 ? "yes" : "**no**") |"
                )
            }
        }
        for method in self.methods {
            for transport in Transport.allCases {
                guard let fpool = self.row(method, transport, "fpool"), let direct = self.row(method, transport, "direct") else { continue }
                let pairedAdded = self.paired(self.roundP50s, method, transport, reference: "direct", -)
                let added = pairedAdded?.median ?? Double(fpool.unloaded.percentile(50)) - Double(direct.unloaded.percentile(50))
                var reference = "direct \(formatMicros(direct.unloaded.percentile(50)))"
                if let rounds = pairedAdded?.rounds, rounds.count > 1 {
                    reference += "; fpool adds per round \(rounds.map(formatSigned).joined(separator: ", "))"
                }
                if let nginx = self.row(method, transport, "nginx") {
                    let nginxAdded =
                        self.paired(self.roundP50s, method, transport, subject: "nginx", reference: "direct", -)?.median
                        ?? Double(nginx.unloaded.percentile(50)) - Double(direct.unloaded.percentile(50))
                    reference += "; nginx adds \(formatSigned(nginxAdded))"
                }
                out.append(
                    "| added p50 ≤ 100 µs (1 connection) | \(method) \(transport.rawValue) | \(formatMicros(fpool.unloaded.percentile(50))) (adds \(formatSigned(added))) | \(reference) | \(added <= 100_000 ? "yes" : "**no**") |"
                )
            }
        }
        if let mix = self.mix { out += self.mixGoals(mix) }
        if let fpool = self.memory.first(where: { $0.target == "fpool" }) {
            let mib = Double(fpool.rssOpenKiB) / 1024
            var reference = "before: \(formatMiB(fpool.rssBeforeKiB))"
            if let nginx = self.memory.first(where: { $0.target == "nginx" }) {
                reference += "; nginx \(formatMiB(nginx.rssOpenKiB)) (\(nginx.processes) processes)"
            }
            out.append(
                "| RSS ≤ \(Int(self.memoryGoalMiB)) MiB with \(fpool.sockets) ChainNotify websockets | \(fpool.subscribed) subscribed | \(formatMiB(fpool.rssOpenKiB)) | \(reference) | \(mib <= self.memoryGoalMiB && fpool.subscribed == fpool.sockets ? "yes" : "**no**") |"
            )
        }
        if let failover = self.failover {
            for method in failover.methods {
                out.append(
                    "| failed client calls on failover = 0 | \(method.method) ws | \(method.failed) of \(method.calls) | failover \(method.failoverNanos.map(formatMicros) ?? "none") | \(method.failed == 0 ? "yes" : "**no**") |"
                )
            }
        }
        out.append("")
        return out
    }

    private func matrix() -> [String] {
        let loadedConnections = self.rows.first?.loaded.connections ?? 0
        var out = [
            "## Calls per second and latency", "",
            "Closed loop: every connection keeps one call in flight. *Loaded*: \(loadedConnections) connections; *1 conn*: one connection, one call at a time (the latency a single caller sees). CPU µs per call in the loaded window, from /proc (10 ms ticks): the proxy (fpool, nginx's master and workers, or the SwiftNIO byte tunnel), the simulated daemons (all three, one process), and this load generator. *Others*: the share of the machine's cores that other processes used in the loaded / 1-connection windows — more than a few % means something else ran (a build, a test run) and the row is not reliable.",
            "",
            "| method | transport | target | loaded calls/s | p50 | p99 | 1 conn calls/s | p50 | p99 | CPU µs/call proxy | daemons | load gen | others | errors | loaded calls/s, every round |",
            "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in self.rows {
            let cpu = row.cpuPerCall
            out.append(
                "| \(row.method) | \(row.transport.rawValue) | \(row.target) | \(formatRate(row.loaded.rate)) | \(formatMicros(row.loaded.percentile(50))) | \(formatMicros(row.loaded.percentile(99))) | \(formatRate(row.unloaded.rate)) | \(formatMicros(row.unloaded.percentile(50))) | \(formatMicros(row.unloaded.percentile(99))) | \(row.target == "direct" ? "–" : String(format: "%.1f", cpu.proxy)) | \(String(format: "%.1f", cpu.sim)) | \(String(format: "%.1f", cpu.loadgen)) | \(String(format: "%.0f%% / %.0f%%", max(0, row.othersShare.loaded * 100), max(0, row.othersShare.unloaded * 100))) | \(row.errors) | \((self.roundRates["\(row.method) \(row.transport.rawValue) \(row.target)"] ?? []).map(formatRate).joined(separator: ", ")) |"
            )
        }
        let firstErrors = self.rows.compactMap { row in
            (row.loaded.totals.firstError ?? row.unloaded.totals.firstError).map {
                "\(row.method) \(row.transport.rawValue) \(row.target): \($0)"
            }
        }
        if !firstErrors.isEmpty {
            out.append("")
            out.append("First error per case:")
            for error in firstErrors { out.append("- \(error)") }
        }
        out.append("")
        return out
    }

    private func memoryTable() -> [String] {
        var out = [
            "## Memory with open ChainNotify websockets", "",
            "Each websocket calls Filecoin.ChainNotify and receives its first value (`current`); resident memory (VmRSS) of the proxy's processes, 1 s after the last one subscribed.",
            "",
            "| target | websockets subscribed | RSS before | RSS with all open | per websocket | RSS after closing | open + subscribe time |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for result in self.memory {
            out.append(
                "| \(result.target) | \(result.subscribed) / \(result.sockets) | \(formatMiB(result.rssBeforeKiB)) | \(formatMiB(result.rssOpenKiB)) | \(String(format: "%.1f KiB", result.perSocketKiB)) | \(formatMiB(result.rssAfterCloseKiB)) | \(String(format: "%.2f s", result.openSeconds)) |"
            )
        }
        for result in self.memory where !result.failures.isEmpty {
            out.append("")
            out.append("\(result.target): \(result.failures.count) websockets did not open; first: `\(result.failures[0].prefix(300))`")
        }
        out.append("")
        return out
    }

    private static func failoverTable(_ result: FailoverResult) -> [String] {
        var out = [
            "## Failover", "",
            "Closed-loop websocket clients through fpool (StateGetActor and ChainHead, each on its own connections); node \(result.killed), which served StateGetActor, is killed through the simulator's control endpoint (its listener and every connection closed). The kill request took \(formatMicros(result.killTookNanos)); fpool's /healthz showed one node fewer \(result.noticedNanos.map { formatMicros($0) + " after the kill" } ?? "never (15 s)") (heartbeat every 3 s). *Failover*: kill sent → first successful answer completed after the daemon was down. *Longest gap*: the longest time one client connection waited between two successful answers across the kill (what a caller notices). *Worst call*: the slowest call in flight at the kill or started before the pool noticed (+1 s). *p50 until noticed*: calls started after the kill and answered before /healthz changed (the pool may still try the dead node first).",
            "",
            "| method | served by | calls | failed | failover | longest gap | worst call | p50 before kill | p50 until noticed (calls) |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for method in result.methods {
            out.append(
                "| \(method.method) | node \(method.servedBy) | \(method.calls) | \(method.failed) | \(method.failoverNanos.map(formatMicros) ?? "none") | \(formatMicros(method.longestGapNanos)) | \(formatMicros(method.worstNanos)) | \(formatMicros(method.p50Before)) | \(method.p50Between.map(formatMicros) ?? "–") (\(method.callsBetween)) |"
            )
        }
        for method in result.methods where method.firstError != nil {
            out.append("")
            out.append("First failed \(method.method) call: `\(method.firstError!.prefix(300))`")
        }
        out.append("")
        return out
    }

    private static func gapTable(_ result: GapResult) -> [String] {
        var out = [
            "## ChainNotify channel gap", "",
            "One websocket client through fpool subscribes to ChainNotify; the simulator's chain advances one tipset every \(result.intervalMs) ms (POST /advance, \(result.advances) times); after 10 advances the daemon holding the channel (node \(result.servingNode)) is killed. The client subscribes again as soon as its channel closes. Heights are compared with the chain from the first `current` to the network's final height. With Lotus's 30 s block time, a gap needs a re-subscribe slower than a block.",
            "",
            "| heights | missed | seen twice | re-subscribes | kill → channel closed | closed → new channel's first value | errors |",
            "| --- | --- | --- | ---: | ---: | ---: | ---: |",
        ]
        let missed = result.missed.isEmpty ? "0" : "\(result.missed.count) (\(result.missed.map(String.init).joined(separator: ", ")))"
        let duplicates =
            result.duplicates.isEmpty ? "0" : "\(result.duplicates.count) (\(result.duplicates.map(String.init).joined(separator: ", ")))"
        out.append(
            "| \(result.firstHeight)…\(result.lastHeight) | \(missed) | \(duplicates) | \(result.resubscribes) | \(result.closeAfterKillNanos.map(formatMicros) ?? "never") | \(result.resubscribeNanos.map(formatMicros) ?? "–") | \(result.errors.count) |"
        )
        for error in result.errors.prefix(5) { out.append("- error: \(error)") }
        out.append("")
        return out
    }
}

func formatSigned(_ nanos: Double) -> String { (nanos < 0 ? "−" : "+") + formatMicros(abs(nanos)) }
