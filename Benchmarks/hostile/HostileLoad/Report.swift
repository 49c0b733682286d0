// One run's record (a JSON line that run.sh collects) and the markdown report built from them.

import Foundation
import LoadKit

/// A good client's calls in one phase.
struct PhaseFigures: Codable, Sendable {
    var ok: Int
    var errors: Int
    var p50: UInt64
    var p99: UInt64
    var max: UInt64
    var firstError: String?

    init(_ totals: CallLog.Totals) {
        self.ok = totals.ok
        self.errors = totals.errors
        self.p50 = totals.ok > 0 ? totals.histogram.valueAtPercentile(50) : 0
        self.p99 = totals.ok > 0 ? totals.histogram.valueAtPercentile(99) : 0
        self.max = totals.ok > 0 ? totals.histogram.max : 0
        self.firstError = totals.firstError
    }
}

/// A good client before, during and after the pattern.
struct ClientFigures: Codable, Sendable {
    var quiet: PhaseFigures
    var during: PhaseFigures
    var after: PhaseFigures

    init(quiet: CallLog.Totals, during: CallLog.Totals, after: CallLog.Totals) {
        self.quiet = PhaseFigures(quiet)
        self.during = PhaseFigures(during)
        self.after = PhaseFigures(after)
    }

    /// "p50 / p99 (max), errors/calls" during the pattern, then the quiet p50.
    var cell: String {
        let during = self.during
        var text =
            during.ok > 0
            ? "\(formatMicros(during.p50)) / \(formatMicros(during.p99)) (max \(formatMicros(during.max)))" : "no answer"
        text += "; \(during.errors) err / \(during.ok + during.errors)"
        if let first = during.firstError { text += " (\(brief(first)))" }
        text += "; quiet p50 \(formatMicros(self.quiet.p50))"
        if self.after.errors > 0 { text += "; after: \(self.after.errors) err" }
        return text
    }
}

struct RunRecord: Codable, Sendable {
    var pattern: Pattern
    var target: String
    var summary: String
    var hostileSeconds: Double
    var rssBeforeKiB: Int
    var rssPeakKiB: Int
    var rssAfterKiB: Int
    var highWaterKiB: Int
    var simBeforeKiB: Int
    var simPeakKiB: Int
    var simAfterKiB: Int
    var diskPeakBytes: Int?
    var webSocket: ClientFigures
    var http: ClientFigures
    var healthDuring: HealthLog.Totals
    var healthAfter: HealthLog.Totals

    var memoryCell: String {
        "\(Self.mib(self.rssBeforeKiB)) → **\(Self.mib(max(self.rssPeakKiB, self.highWaterKiB)))** → \(Self.mib(self.rssAfterKiB))"
    }

    var simCell: String { "\(Self.mib(self.simBeforeKiB)) → \(Self.mib(self.simPeakKiB)) → \(Self.mib(self.simAfterKiB))" }

    var healthCell: String {
        let during = self.healthDuring
        var text = "\(during.failures)/\(during.probes) failed"
        if let first = during.firstFailure { text += " (\(brief(first)))" }
        if let least = during.minAvailable { text += "; daemons available ≥ \(least) (\(during.degraded) probes short)" }
        if self.healthAfter.failures > 0 { text += "; after: \(self.healthAfter.failures)/\(self.healthAfter.probes) failed" }
        return text
    }

    var logLine: String {
        "\(self.pattern.rawValue) \(self.target): RSS \(self.memoryCell) (VmHWM \(Self.mib(self.highWaterKiB))); daemons \(self.simCell); ws \(self.webSocket.cell); http \(self.http.cell); healthz \(self.healthCell)"
    }

    static func mib(_ kib: Int) -> String { String(format: "%.0f MiB", Double(kib) / 1024) }
}

/// A failure in a few words for a table cell (the full text is in the list below it).
func brief(_ error: String) -> String {
    for (marker, words) in [
        ("Connection reset by peer", "connection reset"), ("Connection refused", "connection refused"),
        ("no answer within", "timed out"), ("I/O on closed channel", "connection closed"), ("connection closed", "connection closed"),
    ] where error.contains(marker) {
        return words
    }
    return String(error.prefix(60))
}

struct HostileReport {
    let records: [RunRecord]
    let notes: [String]

    func markdown() -> String {
        var lines = ["# Hostile clients: fpool vs nginx", ""]
        for note in self.notes { lines.append("- " + note) }
        lines += [
            "",
            "Memory: resident set of the proxy (nginx: master and workers summed) before the pattern → peak (sampled every 100 ms, or the kernel's VmHWM since the pattern began if higher) → 5 s after the pattern's connections closed. Good clients: one ChainHead every 50 ms over one websocket (ws) and every 100 ms over HTTP with a new connection per call (http), each call allowed 5 s; p50 / p99 (max) of the calls sent while the pattern ran, errors / calls, and the p50 before it. /healthz: probed every 500 ms (2 s allowed).",
            "",
            "| pattern | proxy | RSS before → peak → after | daemons' RSS | good ws client | good http client (new connection per call) | /healthz during |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for record in self.records {
            var memory = record.memoryCell
            if let disk = record.diskPeakBytes, disk > 0 {
                memory += String(format: " (+ %.0f MB of body temp files on disk)", Double(disk) / 1e6)
            }
            lines.append(
                "| \(record.pattern.title) | \(record.target) | \(memory) | \(record.simCell) | \(record.webSocket.cell) | \(record.http.cell) | \(record.healthCell) |"
            )
        }
        lines += ["", "What each pattern did:", ""]
        for record in self.records {
            lines.append(
                "- **\(record.pattern.title), \(record.target)** (\(String(format: "%.0f s", record.hostileSeconds))): \(record.summary).")
            for (name, figures) in [("ws", record.webSocket), ("http", record.http)] {
                if let error = figures.during.firstError {
                    lines.append("  - first \(name) error during it: `\(error.replacingOccurrences(of: "`", with: "'"))`")
                }
            }
            if let failure = record.healthDuring.firstFailure {
                lines.append("  - first /healthz failure during it: `\(failure.replacingOccurrences(of: "`", with: "'"))`")
            }
        }
        return lines.joined(separator: "\n")
    }
}
