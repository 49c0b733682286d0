// `fpool run`: the pool from the environment, until SIGINT or SIGTERM.

import ArgumentParser
import Foundation
import Logging
import PoolRuntime
import PoolServer
import ServiceLifecycle

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Start the pool from the environment (FULLNODE_API_POOL_INFO, FULLNODE_API_INFO or a LOTUS_PATH repo, FPOOL_*).",
        discussion: """
            Clients connect as to a Lotus daemon: FULLNODE_API_INFO=<token>:<listen multiaddr> (`fpool auth api-info`). \
            The pool's secret, api and token files are in FPOOL_PATH (default ~/.fpool). SIGINT/SIGTERM answer the calls \
            in flight, then stop.
            """)

    @OptionGroup var serve: ServeOptions

    func run() async throws {
        defer { ServeOptions.flushLogs() }
        let environment = ProcessInfo.processInfo.environment
        try self.serve.applyThreads(environment)
        let poolEnvironment: PoolEnvironment
        do {
            // The seed's legacy lookup: a Lotus repo's daemon joins unless FULLNODE_API_INFO is set.
            poolEnvironment = try PoolEnvironment.load(try LotusRepo.environment(environment))
        } catch {
            throw CLIError("the environment does not describe a pool:\n\(error)")
        }
        let levels = LogLevels()
        let instance = try PoolInstance(
            environment: poolEnvironment, repo: FPoolRepo(path: FPoolRepo.path(environment: environment)),
            configuration: try self.serve.configuration(environment), logLevels: levels, logSink: ServeOptions.logSink)
        try await instance.start()
        try await ServiceGroup(
            configuration: .init(
                services: [.init(service: instance)], gracefulShutdownSignals: [.sigterm, .sigint],
                logger: levels.logger("fullpool", sink: ServeOptions.logSink))
        ).run()
    }
}
