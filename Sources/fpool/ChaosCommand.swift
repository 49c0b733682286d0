// `fpool chaos`: simulated daemons and fpool in this process under a mixed load and a random
// fault every 1–3 s, then the invariants of issue 13 checked and printed as a table. Exits
// non-zero when one fails; the seed, printed first, replays the same faults.

import ArgumentParser
import Foundation
import LotusSim
import RouteModel

struct Chaos: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chaos",
        abstract: "Run fpool in front of simulated daemons under load and random faults, and check its invariants.",
        discussion: """
            Faults: kill, restart, pause, black hole, latency, peer loss, lag, block not found, \
            null rounds, a daemon moved to another network; one daemon is always left alone. \
            Everything runs in this process on 127.0.0.1.
            """)

    @Option(help: "The seed of the fault schedule and the workload (default: random; printed first).") var seed: UInt64?
    @Option(help: "How long load and faults run (a Go duration).") var duration = "30s"
    @Option(help: "How many simulated daemons (3…5).") var nodes = 3
    @Option(name: .customLong("block-time"), help: "Time between tipsets (a Go duration, at least 1s).") var blockTime = "1s"
    @Option(help: "The pool's HeartbeatInterval (a Go duration; default: the block time).") var heartbeat: String?
    @Option(help: "Clients reading in a loop.") var readers = 4
    @Option(help: "Senders pushing messages, each from its own funded account (0…10).") var senders = 10
    @Option(help: "ChainNotify subscribers.") var subscribers = 4
    @Option(help: "Also write the report as Markdown to this file.") var report: String?
    @Option(help: "Write every log line of the pool and the daemons to this file.") var log: String?
    @Option(help: "A line for the report's header (the machine, the commit).") var note: String?
    @Flag(help: "Print the seed's fault schedule and exit, without running it.") var schedule = false

    func validate() throws {
        guard (3...5).contains(self.nodes) else { throw ValidationError("--nodes must be 3…5, got \(self.nodes)") }
        guard let duration = try? GoDuration(parsing: self.duration), duration.milliseconds >= 10_000 else {
            throw ValidationError("--duration: expected a Go duration of at least 10s, such as 30s or 10m; got '\(self.duration)'")
        }
        // The simulator's timestamps and NodeStatus's Behind count whole seconds.
        guard let blockTime = try? GoDuration(parsing: self.blockTime), blockTime.milliseconds >= 1_000,
            blockTime.milliseconds % 1_000 == 0
        else {
            throw ValidationError("--block-time: expected whole seconds, at least 1s, such as 1s or 2s; got '\(self.blockTime)'")
        }
        guard (0...64).contains(self.readers), (0...SimFixtures.accounts.count).contains(self.senders), (0...64).contains(self.subscribers)
        else {
            throw ValidationError("--readers and --subscribers must be 0…64, --senders 0…\(SimFixtures.accounts.count)")
        }
        if let heartbeat = self.heartbeat {
            guard let interval = try? GoDuration(parsing: heartbeat), interval.milliseconds >= 100 else {
                throw ValidationError("--heartbeat: expected a Go duration of at least 100ms, such as 1s; got '\(heartbeat)'")
            }
        }
    }

    func run() async throws {
        let seed = self.seed ?? UInt64.random(in: 0...UInt64.max)
        var configuration = ChaosConfiguration(
            seed: seed, duration: .milliseconds(Int64(try GoDuration(parsing: self.duration).milliseconds)), nodes: self.nodes,
            blockTime: .milliseconds(Int64(try GoDuration(parsing: self.blockTime).milliseconds)))
        configuration.heartbeatOverride = try self.heartbeat.map { .milliseconds(Int64(try GoDuration(parsing: $0).milliseconds)) }
        configuration.readers = self.readers
        configuration.senders = self.senders
        configuration.subscribers = self.subscribers
        // First, so that a run that never finishes can still be replayed.
        Console.line("chaos seed \(seed) (replay: \(configuration.replayCommand))")
        if self.schedule {
            for fault in FaultSchedule(configuration).faults {
                Console.line(String(format: "%7.2f s  ", fault.at.seconds) + fault.description)
            }
            return
        }
        let logs = try ChaosLog(path: self.log)
        defer { logs.close() }
        var report = try await ChaosRun(configuration: configuration, progress: { Console.line($0) }, log: logs.sink).run()
        report.note = self.note
        Console.line("")
        Console.line(report.text)
        if let path = self.report {
            do {
                try Data(report.markdown.utf8).write(to: URL(fileURLWithPath: path))
            } catch {
                throw CLIError("--report: cannot write \(path): \(error)")
            }
        }
        guard report.passed else {
            Console.line("last log lines of the pool and the daemons:")
            for line in logs.lastLines.suffix(80) { Console.line("  " + line) }
            throw ExitCode(1)
        }
    }
}
