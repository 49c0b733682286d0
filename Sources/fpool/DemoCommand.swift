// `fpool demo`: three simulated Lotus daemons and the pool in front of them, for a first look
// without a Filecoin network. Ctrl-C stops both.

import ArgumentParser
import Foundation
import LotusSim
import PoolRuntime
import PoolServer
import RouteModel
import ServiceLifecycle

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Run 3 simulated Lotus daemons and the pool in front of them (Ctrl-C stops).")

    @Option(name: .long, help: "How many simulated daemons.") var nodes = 3
    @Option(name: .customLong("block-time"), help: "Time between tipsets (a Go duration).") var blockTime = "2s"
    @Flag(
        name: .long,
        help: "TLS both ways: the daemons serve /https with certificates of a CA made for the run, and so does the pool (WSS, HTTPS).")
    var tls = false
    @OptionGroup var serve: ServeOptions

    func validate() throws {
        guard (1...16).contains(self.nodes) else { throw ValidationError("--nodes must be 1…16, got \(self.nodes)") }
        guard let duration = try? GoDuration(parsing: self.blockTime), duration.milliseconds >= 100 else {
            throw ValidationError("--block-time: expected a Go duration of at least 100ms, such as 2s; got '\(self.blockTime)'")
        }
    }

    func run() async throws {
        defer { ServeOptions.flushLogs() }
        let environment = ProcessInfo.processInfo.environment
        try self.serve.applyThreads(environment)
        let blockTime = try GoDuration(parsing: self.blockTime)
        var simulation = SimConfiguration(
            nodes: self.nodes, blockTime: .milliseconds(Int(blockTime.milliseconds)), basePort: 0, controlPort: 0)
        let tls = self.tls ? try SimTLSFiles.make() : nil
        defer { tls?.remove() }
        simulation.tls = try tls?.identity()
        var serverConfiguration = try self.serve.configuration(environment)
        if let tls, serverConfiguration.tls == nil { serverConfiguration.tls = try tls.identity() }
        let cluster = try await SimCluster.start(simulation)
        var poolEnvironment = PoolEnvironment()
        poolEnvironment.nodes = try APIInfo.parsePool(cluster.poolInfo)
        poolEnvironment.daemonCAFile = tls?.caFile
        // Heartbeats at the block time, so the demo reacts to what you do within a block.
        try poolEnvironment.settings.set("HeartbeatInterval", to: blockTime.description)
        // A head channel is silent after a block time and a half without a tipset, as on mainnet.
        try poolEnvironment.settings.set(
            "ChannelSilence", to: GoDuration(milliseconds: max(1_000, blockTime.milliseconds * 3 / 2)).description)
        let levels = LogLevels()
        let repo = FPoolRepo(path: FPoolRepo.path(environment: environment))
        let instance = try PoolInstance(
            environment: poolEnvironment, repo: repo, configuration: serverConfiguration, logLevels: levels,
            logSink: ServeOptions.logSink)
        do {
            try await instance.start()
        } catch {
            await cluster.stop()
            throw CLIError(
                "cannot start the pool on \(instance.server.listenAddress): \(error) (another fpool running? try --listen=/ip4/127.0.0.1/tcp/0/http)"
            )
        }
        let control = cluster.controlPort.map { "http://127.0.0.1:\($0)" } ?? "(none)"
        let repoHint = environment["FPOOL_PATH"] == nil ? "" : "FPOOL_PATH=\(repo.path) "
        Console.line(
            "fpool demo: \(self.nodes) simulated Lotus daemons (block time \(self.blockTime)) behind fpool at \(instance.server.listenAddress)"
        )
        for daemon in cluster.daemons { Console.line("  \(daemon.name): \(daemon.multiaddr)") }
        if let tls { Console.line("  FPOOL_DAEMON_CA=\(tls.caFile)    # the run's CA: pass it to curl --cacert") }
        Console.line("")
        Console.line("Try, in another shell:")
        Console.line("  \(repoHint)swift run fpool node list")
        Console.line("  \(repoHint)swift run fpool api why ChainHead")
        Console.line("  \(repoHint)swift run fpool node set --nid=sim-daemon-1 --key=status --val=pause    # its calls and channels move")
        Console.line("  \(repoHint)swift run fpool node set --nid=sim-daemon-1 --key=status --val=resume")
        Console.line("  curl -X POST \(control)/daemons/2/pause-sync -d '{\"paused\":true}'    # a daemon falls behind and is disabled")
        Console.line("  curl -X POST \(control)/null-rounds -d '{\"count\":4}'    # every daemon's Behind grows: the pool runs degraded")
        Console.line("  curl -X POST \(control)/daemons/2/network -d '{\"name\":\"othernet\"}'    # a daemon of another chain is refused")
        Console.line("  curl -X POST \(control)/daemons/0/black-hole -d '{\"enabled\":true}'    # reads hedge to the next daemon")
        let scheme = serverConfiguration.tls == nil ? "http" : "https"
        let cacert = tls.map { " --cacert \($0.caFile)" } ?? ""
        Console.line("  curl -s\(cacert) \(scheme)://127.0.0.1:\(instance.server.port ?? 0)/healthz")
        Console.line("  curl -s\(cacert) \(scheme)://127.0.0.1:\(instance.server.port ?? 0)/metrics")
        Console.line("A Lotus client (lotus-miner, lotus) uses the pool with:")
        Console.line("  export FULLNODE_API_INFO=\(instance.server.auth.token(upTo: .admin)):\(instance.server.listenAddress)")
        Console.line("Ctrl-C stops the pool and the daemons.")
        try await ServiceGroup(
            configuration: .init(
                services: [.init(service: instance)], gracefulShutdownSignals: [.sigterm, .sigint],
                logger: levels.logger("fullpool", sink: ServeOptions.logSink))
        ).run()
        await cluster.stop()
        ServeOptions.flushLogs()
        Console.line("stopped")
    }
}
