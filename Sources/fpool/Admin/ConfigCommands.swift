// `fpool config get|set`: the pool's hot settings.

import ArgumentParser
import LotusWire

struct Config: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Read or change the pool's settings at runtime.", subcommands: [Get.self, Set.self])

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print every setting and its value.")
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let settings = try await PoolClient.locate().call("ConfigGet")
            if self.output.json { return try self.output.printJSON(settings) }
            var rows = [["Key", "Value"]]
            if case .object(let fields) = settings {
                for (key, value) in fields { rows.append([key, value.string ?? "\(value)"]) }
            }
            print(TextTable.render(rows), terminator: "")
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change one setting; it applies to the next call and heartbeat.")
        @Option(name: .long, help: "The setting, e.g. MaxSyncBehind (`fpool config get` lists them).") var key: String
        @Option(name: .long, help: "The new value.") var val: String
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let value = try await PoolClient.locate().call("ConfigSet", [.string(self.key), .string(self.val)])
            if self.output.json { return try self.output.printJSON(JSON.object([(self.key, value)])) }
            print("\(self.key)=\(value.string ?? "\(value)")")
        }
    }
}
