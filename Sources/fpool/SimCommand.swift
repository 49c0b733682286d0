// `fpool sim`: simulated Lotus daemons in the foreground, for trying fpool without a network.

import ArgumentParser
import Foundation
import Logging
import LotusSim
import RouteModel

struct Sim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Run simulated Lotus daemons on 127.0.0.1 (Ctrl-C stops them).",
        discussion: """
            Each daemon serves the Lotus FullNode API (v0 and v1, HTTP and WebSocket) with its own \
            token and Session. Faults are injected through the control endpoint, e.g.
              curl -X POST 127.0.0.1:<control-port>/daemons/1/pause-sync -d '{"paused":true}'
              curl -X POST 127.0.0.1:<control-port>/daemons/2/network -d '{"name":"othernet"}'
              curl -X POST 127.0.0.1:<control-port>/null-rounds -d '{"count":3}'
              curl -X POST 127.0.0.1:<control-port>/reorg -d '{"depth":2}'
            A reorg replaces the newest tipsets with a heavier sibling branch at the same heights ("longer":true \
            adds one tipset); daemons following the chain send ChainNotify reverts, then applies, and keep \
            answering for the orphaned tipsets by key.
            """)

    @Option(name: .long, help: "How many daemons.")
    var nodes = 3

    @Option(name: .customLong("block-time"), help: "Time between tipsets, as a Go duration (30s, 500ms).")
    var blockTime = "30s"

    @Option(name: .customLong("base-port"), help: "The first daemon's port; the others follow. 0 picks free ports.")
    var basePort = 1234

    @Option(name: .customLong("control-port"), help: "The control endpoint's port (0 picks a free one).")
    var controlPort = 0

    @Option(name: .customLong("network-name"), help: "The network's name (StateNetworkName); its genesis CID derives from it.")
    var networkName = "fpoolsim"

    @Option(
        name: .long,
        help:
            "How NodeStatus computes SyncStatus.Behind: head-age (the head's age in block times, as Lotus) or true-lag (epochs to the network's head)."
    )
    var behind = Behind.headAge

    @Option(
        name: .customLong("read-cost"),
        help: """
            CPU time each state read burns on its daemon (StateGetActor, StateLookupID, StateMinerInfo, StateSearchMsg, \
            WalletBalance, ChainReadObj, …), as a Go duration of at most 1s (200us, 1ms); 0 for none. A busy loop \
            measured by the thread's CPU clock, not a sleep: a benchmark sees the daemon CPU a proxy saves. \
            GET /status on the control endpoint shows each daemon's total (readCostMicros).
            """)
    var readCost = "0"

    @Flag(
        name: .long,
        help: "Serve the daemons over TLS (/https, wss://) with certificates of a CA made for the run; prints FPOOL_DAEMON_CA=<its file>.")
    var tls = false

    /// `--behind`'s values, as LotusSim's modes.
    enum Behind: String, ExpressibleByArgument, CaseIterable {
        case headAge = "head-age"
        case trueLag = "true-lag"

        var mode: SimBehindMode {
            switch self {
            case .headAge: .headAge
            case .trueLag: .trueLag
            }
        }
    }

    /// A Go duration down to nanoseconds (`0`, `200us`, `1.5ms`, `1s`; `µs` or `us`), which
    /// RouteModel's millisecond `GoDuration` cannot hold; nil for other text.
    static func duration(_ text: String) -> Duration? {
        if text == "0" { return .zero }
        let nanosecondsPerUnit: [Substring: Double] = [
            "ns": 1, "us": 1e3, "µs": 1e3, "μs": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9,
        ]
        var rest = Substring(text)
        var nanoseconds = 0.0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix(while: { $0.isASCII && ($0.isNumber || $0 == ".") })
            rest.removeFirst(number.count)
            let unit = rest.prefix(while: { $0.isLetter })
            rest.removeFirst(unit.count)
            guard let value = Double(number), let scale = nanosecondsPerUnit[unit] else { return nil }
            nanoseconds += value * scale
        }
        guard nanoseconds < 1e15, nanoseconds == nanoseconds.rounded() else { return nil }
        return .nanoseconds(Int64(nanoseconds))
    }

    func validate() throws {
        guard (1...64).contains(self.nodes) else { throw ValidationError("--nodes must be 1…64, got \(self.nodes)") }
        guard (0...65535).contains(self.basePort) else { throw ValidationError("--base-port must be a port number") }
        guard let duration = try? GoDuration(parsing: self.blockTime), duration.milliseconds >= 10 else {
            throw ValidationError("--block-time: expected a Go duration of at least 10ms, such as 30s or 500ms; got '\(self.blockTime)'")
        }
        guard let cost = Self.duration(self.readCost), cost <= .seconds(1) else {
            throw ValidationError(
                "--read-cost: expected a Go duration of at most 1s, such as 200us or 1ms (0 for none); got '\(self.readCost)'")
        }
        guard !self.networkName.isEmpty, !self.networkName.contains(where: { $0.isWhitespace }) else {
            throw ValidationError(
                "--network-name: expected a name without spaces, such as fpoolsim or calibrationnet; got '\(self.networkName)'")
        }
    }

    func run() async throws {
        let blockTime = Duration.milliseconds(Int(try GoDuration(parsing: self.blockTime).milliseconds))
        var configuration = SimConfiguration(
            nodes: self.nodes, blockTime: blockTime, basePort: self.basePort, controlPort: self.controlPort,
            networkName: self.networkName,
            behindMode: self.behind.mode)
        configuration.stateReadCost = Self.duration(self.readCost) ?? .zero
        let tls = self.tls ? try SimTLSFiles.make() : nil
        defer { tls?.remove() }
        configuration.tls = try tls?.identity()
        let cluster = try await SimCluster.start(configuration)
        for daemon in cluster.daemons {
            Console.line("\(daemon.name): \(daemon.poolEntry)")
        }
        Console.line("")
        Console.line("FULLNODE_API_POOL_INFO=\(cluster.poolInfo)")
        if let tls { Console.line("FPOOL_DAEMON_CA=\(tls.caFile)") }
        if let port = cluster.controlPort { Console.line("control endpoint: http://127.0.0.1:\(port)/status") }
        Console.line("network \(cluster.networkName) (genesis \(cluster.genesisCID)); NodeStatus Behind: \(self.behind.rawValue)")
        if configuration.stateReadCost > .zero { Console.line("each state read burns \(self.readCost) of CPU on its daemon") }
        Console.line("block time \(self.blockTime); Ctrl-C stops the daemons")
        await InterruptSignal.wait()
        await cluster.stop()
        Console.line("stopped")
    }
}
