// `fpool log set-level`: change what a running pool logs, without a restart.

import ArgumentParser
import LotusWire

struct Log: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log", abstract: "Control a running pool's logging.", subcommands: [SetLevel.self])

    struct SetLevel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-level", abstract: "Set a log system's level: trace, debug, info, notice, warn(ing), error, critical.")
        @Option(name: .long, help: "fullpool (pool decisions), rpc (client server) or upstream.") var system = "fullpool"
        @Argument(help: "The level.") var level: String
        @OptionGroup var output: OutputOptions

        func run() async throws {
            _ = try await PoolClient.locate().call("LogSetLevel", [.string(self.system), .string(self.level)])
            if self.output.json {
                return try self.output.printJSON(JSON.object([("System", .string(self.system)), ("Level", .string(self.level))]))
            }
            print("\(self.system): \(self.level)")
        }
    }
}
