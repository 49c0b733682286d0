// The chaos run's report: the invariants table first (what passed, what failed), then the
// figures behind it, as text for the terminal and as Markdown for Benchmarks/.

import Foundation

struct ChaosReport: Sendable {
    let outcome: ChaosOutcome
    let checks: [ChaosCheck]
    /// A line for the header: where the run ran.
    var note: String?

    init(_ outcome: ChaosOutcome) {
        self.outcome = outcome
        self.checks = outcome.checks
    }

    var passed: Bool { self.checks.allSatisfy { $0.passed != false } }

    private var configuration: ChaosConfiguration { self.outcome.configuration }

    private var header: [String] {
        let configuration = self.configuration
        let settings = configuration.poolSettings.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        return [
            "seed \(configuration.seed); replay: \(configuration.replayCommand)",
            "\(configuration.nodes) daemons, block time \(configuration.blockTime.figure), load and faults for \(configuration.duration.figure), "
                + "\(configuration.readers) readers, \(configuration.senders) senders, \(configuration.subscribers) ChainNotify subscribers; \(settings)",
            "ran \(self.outcome.elapsed.figure); the chain reached height \(self.outcome.height)",
        ] + (self.note.map { [$0] } ?? [])
    }

    private var callRows: [[String]] {
        ChaosCall.allCases.map { call in
            let stats = self.outcome.calls.latency[call] ?? LatencyStats()
            return [
                call.rawValue, "\(stats.count)", "\(self.outcome.calls.failed[call] ?? 0)", stats.percentile(0.5).figure,
                stats.percentile(0.99).figure, stats.worst.figure,
            ]
        }
    }

    private var faultRows: [[String]] {
        ChaosFaultKind.allCases.map { kind in
            let records = self.outcome.faults.filter { $0.planned.kind == kind }
            let closing = records.filter { $0.channelsClosedAt != nil && $0.injectedAt != nil }
            let worst = closing.map { $0.channelsClosedAt! - $0.injectedAt! }.max()
            return [kind.rawValue, "\(records.count)", worst.map { $0.figure } ?? "—"]
        }
    }

    private var pushLines: [String] {
        var errors: [String: Int] = [:]
        for sender in self.outcome.senders { errors.merge(sender.tally.errors, uniquingKeysWith: +) }
        let accepted = self.outcome.senders.reduce(0) { $0 + $1.tally.accepted }
        let stale = self.outcome.senders.reduce(0) { $0 + $1.tally.staleNonces }
        var lines = [
            "\(accepted) pushes accepted; MpoolPush refused for a taken nonce (MpoolGetNonce answered before it was seen): \(stale)"
        ]
        for (kind, count) in errors.sorted(by: { $0.value > $1.value }) { lines.append("\(count) × \(kind)") }
        return lines
    }

    /// Resident memory samples over the run (daemons, harness and fpool share the process).
    private var memoryLine: String {
        let samples = self.outcome.memory.samples.map { "\(Int($0.seconds)) s \(ResidentMemory.figure($0.bytes))" }
        return "resident memory over the run: " + (samples.isEmpty ? "not sampled" : samples.joined(separator: ", "))
    }

    /// Each sender's audit findings, the first 20.
    private var pushProblems: [String] { Array(self.outcome.senders.flatMap(\.problems).prefix(20)) }

    private var channelLine: String {
        let channels = self.outcome.channels
        return
            "\(channels.subscriptions) ChainNotify subscriptions, \(channels.closes) closed by fpool, \(channels.refusedSubscriptions) subscribe attempts refused, \(channels.values) head changes"
    }

    /// For the terminal.
    var text: String {
        var out = self.header.joined(separator: "\n") + "\n\n"
        out += TextTable.render(
            [["invariant", "measured", "bound", "result"]] + self.checks.map { [$0.invariant, $0.measured, $0.bound, $0.verdict] })
        out += "\n" + TextTable.render([["call", "count", "failed", "p50", "p99", "max"]] + self.callRows)
        out += "\n" + TextTable.render([["fault", "count", "slowest channel close"]] + self.faultRows)
        out += "\n" + self.pushLines.joined(separator: "\n") + "\n" + self.channelLine + "\n" + self.memoryLine + "\n"
        if !self.pushProblems.isEmpty {
            out += "\npush problems:\n" + self.pushProblems.map { "  " + $0 + "\n" }.joined()
        }
        if !self.outcome.calls.incidents.isEmpty {
            out += "\nfirst incidents (seconds into the run):\n"
            for incident in self.outcome.calls.incidents {
                out += "  \(String(format: "%.2f", incident.at)) \(incident.call) after \(incident.took.figure): \(incident.detail)\n"
            }
        }
        out += "\n" + (self.passed ? "chaos: every invariant held" : "chaos: FAILED (seed \(self.configuration.seed))") + "\n"
        return out
    }

    /// For `--report`: the same, as Markdown tables.
    var markdown: String {
        func table(_ rows: [[String]]) -> String {
            let cells = rows.map { "| " + $0.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |" }
            return ([cells[0], "|" + String(repeating: " --- |", count: rows[0].count)] + cells.dropFirst()).joined(separator: "\n") + "\n"
        }
        var out = "# fpool chaos run\n\n" + self.header.map { "- " + $0 }.joined(separator: "\n") + "\n\n"
        out += "## Invariants\n\n"
        out += table(
            [["invariant", "measured", "bound", "result"]] + self.checks.map { [$0.invariant, $0.measured, $0.bound, $0.verdict] })
        out += "\n## Calls\n\n" + table([["call", "count", "failed", "p50", "p99", "max"]] + self.callRows)
        out += "\n## Faults\n\n" + table([["fault", "count", "slowest channel close"]] + self.faultRows)
        out +=
            "\n## Pushes, channels, memory\n\n" + self.pushLines.map { "- " + $0 }.joined(separator: "\n") + "\n- " + self.channelLine
            + "\n- " + self.memoryLine + "\n"
        if !self.pushProblems.isEmpty {
            out += "\n## Push problems\n\n" + self.pushProblems.map { "- " + $0 + "\n" }.joined()
        }
        if !self.outcome.calls.incidents.isEmpty {
            out += "\n## First incidents\n\n"
            for incident in self.outcome.calls.incidents {
                out += "- \(String(format: "%.2f", incident.at)) s: \(incident.call) after \(incident.took.figure): `\(incident.detail)`\n"
            }
        }
        out += "\n**" + (self.passed ? "Every invariant held." : "FAILED.") + "**\n"
        return out
    }
}
