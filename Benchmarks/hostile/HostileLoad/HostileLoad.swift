// HostileLoad: runs one hostile pattern against fpool or nginx while well-behaved clients call
// through the same proxy, and records the proxy's memory and what the good clients saw; then
// writes the report from every run's record. Driven by Benchmarks/hostile/run.sh.

import ArgumentParser
import Foundation
import LoadKit
import NIOCore
import NIOPosix

@main
struct HostileLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Hostile clients against fpool and nginx: memory and a good client's latency (driven by hostile/run.sh).",
        subcommands: [RunPattern.self, WriteReport.self, FreePort.self], defaultSubcommand: RunPattern.self)
}

/// Prints a free TCP port on 127.0.0.1 (for nginx's listen directive).
struct FreePort: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "free-port")

    func run() async throws {
        print(try await freeLocalPort())
    }
}

struct RunPattern: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "One pattern against one proxy; appends a record.")

    @Option(help: "The pattern: \(Pattern.allCases.map(\.rawValue).joined(separator: ", ")).") var pattern: Pattern
    @Option(help: "The proxy's name in the report (fpool, nginx).") var target: String
    @Option(help: "The proxy's port on 127.0.0.1.") var port: Int
    @Option(help: "A token for the good clients' calls.") var token: String?
    @Option(help: "The proxy's process id (nginx: the master; its workers are summed).") var pid: Int32
    @Option(help: "The simulated daemons' process id.") var simPid: Int32
    @Option(help: "Daemons in the pool: /healthz's `available` is checked against it (fpool).") var nodes: Int?
    @Option(help: "A folder whose files count as the proxy's disk use (nginx's request-body temp files).") var tempDir: String?
    @Option(help: "Seconds of good-client calls before the pattern.") var quiet = 3.0
    @Option(help: "Seconds after the pattern's connections closed before memory is read again.") var settle = 5.0
    @Option(help: "Longest hold of a pattern's connections, seconds.") var hold = 45.0
    @Option(help: "ws-flood: websockets.") var floodSockets = 4
    @Option(help: "ws-flood: calls per websocket.") var floodCalls = 40_000
    @Option(help: "stalled-body: connections.") var bodyConnections = 10
    @Option(help: "stalled-body: body bytes sent before the stall.") var bodyBytes = 90_000_000
    @Option(help: "stalled-body: Content-Length announced.") var bodyDeclared = 100_000_000
    @Option(help: "trickled-headers: connections.") var trickleConnections = 20
    @Option(help: "trickled-headers: seconds between header lines.") var trickleInterval = 2.0
    @Option(help: "connection-flood: idle connections.") var idleConnections = 6000
    @Option(help: "pipeline: calls on the one websocket.") var pipelineCalls = 60_000
    @Option(help: "Append the run's record (one JSON line) to this file.") var results: String

    func run() async throws {
        let good = Endpoint(name: self.target, host: "127.0.0.1", port: self.port, path: "/rpc/v1", token: self.token)
        let hostile = Endpoint(name: self.target, host: "127.0.0.1", port: self.port, path: "/rpc/v1", token: nil)
        let sizes = PatternSizes(
            floodSockets: self.floodSockets, floodCalls: self.floodCalls, bodyConnections: self.bodyConnections,
            bodyBytes: self.bodyBytes, bodyDeclared: self.bodyDeclared, trickleConnections: self.trickleConnections,
            trickleInterval: .milliseconds(Int64(self.trickleInterval * 1000)), idleConnections: self.idleConnections,
            pipelineCalls: self.pipelineCalls, hold: .milliseconds(Int64(self.hold * 1000)))
        let master = self.pid
        let proxyPIDs: @Sendable () -> [Int32] = { ProcFS.withChildren(master) }
        let memory = MemoryWatch(proxyPIDs: proxyPIDs, simPID: self.simPid, tempDirectory: self.tempDir)
        let clock = PhaseClock()
        let wsLog = CallLog()
        let httpLog = CallLog()
        let health = HealthLog()
        // The good clients have an event loop of their own; the hostile ones share NIO's.
        let goodGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let hostileGroup = MultiThreadedEventLoopGroup.singleton
        let nodes = self.nodes

        try await Self.waitReady(port: self.port, nodes: nodes)
        log("\(self.pattern.rawValue) against \(self.target): \(Int(self.quiet)) s quiet")
        let watchers = [
            Task { await memory.run() },
            Task {
                await WellBehaved.webSocketLoop(
                    good, interval: .milliseconds(50), timeout: .seconds(5), clock: clock, log: wsLog, group: goodGroup)
            },
            Task { await WellBehaved.httpLoop(good, interval: .milliseconds(100), timeout: .seconds(5), clock: clock, log: httpLog) },
            Task {
                await WellBehaved.healthLoop(
                    port: good.port, nodes: nodes, interval: .milliseconds(500), timeout: .seconds(2), clock: clock, log: health)
            },
        ]
        try await Task.sleep(for: .milliseconds(Int64(self.quiet * 1000)))

        memory.resetPeaks()
        let before = memory.figures
        clock.enter(.hostile)
        let started = nowNanos()
        let outcome: Outcome
        do {
            switch self.pattern {
            case .wsFlood: outcome = try await WebSocketPatterns.flood(hostile, sizes: sizes, group: hostileGroup)
            case .stalledBody: outcome = try await HTTPPatterns.stalledBody(hostile, sizes: sizes, group: hostileGroup)
            case .trickledHeaders: outcome = try await HTTPPatterns.trickledHeaders(hostile, sizes: sizes, group: hostileGroup)
            case .connectionFlood: outcome = try await ConnectionFlood.run(hostile, sizes: sizes, group: hostileGroup)
            case .pipeline: outcome = try await WebSocketPatterns.pipeline(hostile, sizes: sizes, group: hostileGroup)
            }
        } catch {
            outcome = Outcome(summary: "the pattern failed: \(error)")
        }
        let hostileSeconds = Double(nowNanos() - started) / 1e9
        memory.sample()
        let highWater = memory.highWaterMark
        let peak = memory.figures
        clock.enter(.after)
        log("\(self.pattern.rawValue) against \(self.target): \(outcome.summary)")
        try await Task.sleep(for: .milliseconds(Int64(self.settle * 1000)))
        memory.sample()
        let after = memory.figures
        for watcher in watchers { watcher.cancel() }
        for watcher in watchers { await watcher.value }
        try? await goodGroup.shutdownGracefully()

        let record = RunRecord(
            pattern: self.pattern, target: self.target, summary: outcome.summary, hostileSeconds: hostileSeconds,
            rssBeforeKiB: before.proxy, rssPeakKiB: max(peak.proxyPeak, peak.proxy), rssAfterKiB: after.proxy,
            highWaterKiB: highWater, simBeforeKiB: before.sim, simPeakKiB: max(after.simPeak, peak.simPeak),
            simAfterKiB: after.sim, diskPeakBytes: self.tempDir == nil ? nil : after.diskPeak,
            webSocket: ClientFigures(quiet: wsLog.totals(.quiet), during: wsLog.totals(.hostile), after: wsLog.totals(.after)),
            http: ClientFigures(quiet: httpLog.totals(.quiet), during: httpLog.totals(.hostile), after: httpLog.totals(.after)),
            healthDuring: health.totals(.hostile), healthAfter: health.totals(.after))
        log(record.logLine)
        let line = String(decoding: try JSONEncoder().encode(record), as: UTF8.self) + "\n"
        guard let file = FileHandle(forWritingAtPath: self.results) ?? Self.create(self.results) else {
            throw BenchError("cannot write \(self.results)")
        }
        try file.seekToEnd()
        try file.write(contentsOf: Data(line.utf8))
        try file.close()
    }

    /// Waits (at most 60 s) until /healthz answers 200 and, with `nodes`, reports them all available.
    ///
    /// - Throws: when it does not.
    private static func waitReady(port: Int, nodes: Int?) async throws {
        let deadline = nowNanos() + 60_000_000_000
        while nowNanos() < deadline {
            if let response = try? await Connect.request(port: port, path: "/healthz", timeout: .seconds(2)), response.status == 200 {
                let available = ((response.json() as? [String: Any])?["available"] as? NSNumber)?.intValue
                if nodes == nil || available == nodes { return }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BenchError("the proxy on port \(port) was not ready (/healthz) within 60 s")
    }

    private static func create(_ path: String) -> FileHandle? {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        return FileHandle(forWritingAtPath: path)
    }
}

struct WriteReport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "report", abstract: "The markdown report from the runs' records.")

    @Option(help: "The records (one JSON line per run).") var results: String
    @Option(help: "A line for the report's header (repeatable).") var note: [String] = []
    @Option(help: "Write the report here too.") var out: String?

    func run() async throws {
        let text = try String(contentsOfFile: self.results, encoding: .utf8)
        let records = try text.split(separator: "\n").map { try JSONDecoder().decode(RunRecord.self, from: Data($0.utf8)) }
        let markdown = HostileReport(records: records, notes: self.note).markdown()
        print(markdown)
        if let out = self.out { try (markdown + "\n").write(toFile: out, atomically: true, encoding: .utf8) }
    }
}
