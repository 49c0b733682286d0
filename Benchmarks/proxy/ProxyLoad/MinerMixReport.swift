// The mix case in the markdown report: its goal rows (judged round by round against the
// target measured next to it) and its table of calls/s, latency, CPU per call and cache hits.

import Foundation
import LoadKit

extension Report {
    /// The mix's goals: fpool with its cache at least twice nginx's calls/s; the daemons' CPU per
    /// client call through it at most half of direct's; fpool without its cache at least the
    /// SwiftNIO tunnel's calls/s.
    func mixGoals(_ mix: MixResult) -> [String] {
        var out: [String] = []
        func rounds(_ paired: (median: Double, rounds: [Double])?) -> String {
            guard let paired, paired.rounds.count > 1 else { return "" }
            return ", median of the rounds' " + paired.rounds.map { String(format: "%.2f", $0) }.joined(separator: ", ")
        }
        let rate: (MixRound, MixRound) -> Double = { $0.load.rate / max(1, $1.load.rate) }
        if let fpool = mix.median("fpool"), let nginx = mix.median("nginx") {
            let paired = mix.paired("fpool", "nginx", rate)
            let ratio = paired?.median ?? rate(fpool, nginx)
            out.append(
                "| mix calls/s ≥ 2× nginx | miner mix ws | \(formatRate(fpool.load.rate))/s | nginx \(formatRate(nginx.load.rate))/s (fpool ×\(String(format: "%.2f", ratio))\(rounds(paired))) | \(ratio >= 2 ? "yes" : "**no**") |"
            )
        }
        if let fpool = mix.median("fpool"), let direct = mix.median("direct") {
            let daemons: (MixRound, MixRound) -> Double = { $0.load.cpuPerCall.sim / max(0.001, $1.load.cpuPerCall.sim) }
            let paired = mix.paired("fpool", "direct", daemons)
            let ratio = paired?.median ?? daemons(fpool, direct)
            // Without answered calls on both, there is no CPU per call to compare.
            let measured = fpool.load.totals.ok > 0 && direct.load.totals.ok > 0
            out.append(
                "| daemons' CPU per client call ≤ 0.5× direct's | miner mix ws | \(String(format: "%.1f µs", fpool.load.cpuPerCall.sim)) | direct \(String(format: "%.1f µs", direct.load.cpuPerCall.sim)) (fpool ×\(String(format: "%.2f", ratio))\(rounds(paired))) | \(measured && ratio <= 0.5 ? "yes" : "**no**") |"
            )
        }
        if let uncached = mix.median("fpool-nocache"), let tunnel = mix.median("nio-tunnel") {
            let paired = mix.paired("fpool-nocache", "nio-tunnel", rate)
            let ratio = paired?.median ?? rate(uncached, tunnel)
            out.append(
                "| mix calls/s, cache off ≥ SwiftNIO tunnel | miner mix ws | \(formatRate(uncached.load.rate))/s | nio-tunnel \(formatRate(tunnel.load.rate))/s (fpool-nocache ×\(String(format: "%.2f", ratio))\(rounds(paired))) | \(ratio >= 1 ? "yes" : "**no**") |"
            )
        }
        return out
    }

    func mixTable(_ mix: MixResult) -> [String] {
        var out = [
            "## A miner's read mix", "",
            "Closed loop over WebSocket: every connection keeps one call of the mix in flight, at the head its own ChainNotify channel announced. Each row is the round with the median calls/s. CPU µs per answered call from /proc (10 ms ticks): the proxy (fpool, nginx's master and workers, or the SwiftNIO byte tunnel; none for direct), the mix's simulated daemons (one process), and this load generator; *others*: the share of the machine's cores other processes used. *Cache hits*: fpool's `fpool_cache_hits_total` / (hits + `fpool_cache_misses_total`) over the window, all methods (a head-relative call, ChainHead, is never looked up).",
            "",
        ]
        for setting in mix.settings { out.append("- \(setting)") }
        out += [
            "",
            "| target | calls/s | p50 | p99 | CPU µs/call proxy | daemons | load gen | others | cache hits (hits / misses) | errors, all rounds | calls/s, every round |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for target in mix.targets {
            guard let row = mix.median(target) else { continue }
            let load = row.load
            let cpu = load.cpuPerCall
            let cache =
                row.cache.map { counts in
                    let ratio = counts.hitRatio.map { String(format: "%.2f %%", $0 * 100) } ?? "–"
                    return "\(ratio) (\(formatRate(counts.hits)) / \(formatRate(counts.misses)))"
                } ?? "–"
            let errors = (mix.rounds[target] ?? []).reduce(0) { $0 + $1.load.errors }
            let every = (mix.rounds[target] ?? []).map { formatRate($0.load.rate) }.joined(separator: ", ")
            out.append(
                "| \(target) | \(formatRate(load.rate)) | \(formatMicros(load.percentile(50))) | \(formatMicros(load.percentile(99))) | \(target == "direct" ? "–" : String(format: "%.1f", cpu.proxy)) | \(String(format: "%.1f", cpu.sim)) | \(String(format: "%.1f", cpu.loadgen)) | \(String(format: "%.0f%%", max(0, load.othersShare * 100))) | \(cache) | \(errors) | \(every) |"
            )
        }
        let firstErrors = mix.targets.compactMap { target in
            (mix.rounds[target] ?? []).lazy.compactMap(\.load.totals.firstError).first.map { "\(target): \($0)" }
        }
        if !firstErrors.isEmpty {
            out.append("")
            out.append("First error per target:")
            for error in firstErrors { out.append("- \(error)") }
        }
        out.append("")
        return out
    }
}
