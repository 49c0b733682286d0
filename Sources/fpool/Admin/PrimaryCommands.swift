// `fpool primary list|set`: which daemon each sender's pushes go to.

import ArgumentParser
import LotusWire

struct Primary: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "primary", abstract: "Show or set the node each sender (seed) pushes through.", subcommands: [List.self, Set.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List senders and their bound node.")
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let bindings = try await PoolClient.locate().call("PrimaryList")
            if self.output.json { return try self.output.printJSON(bindings) }
            var rows = [["Seed", "Node", "Status"]]
            for binding in bindings.array ?? [] {
                let node =
                    "\(binding["Node"]?.string ?? "")(id=\(binding["NodeID"]?.string ?? "-"), addr=\(binding["Address"]?.string ?? ""))"
                rows.append([binding["Seed"]?.string ?? "", node, binding["Status"]?.string ?? ""])
            }
            print(TextTable.render(rows), terminator: "")
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Bind a sender's pushes to a node.")
        @Option(name: .long, help: "The sender's actor ID address, e.g. f01003.") var seed: String
        @Option(name: .long, help: "The node's id (Session UUID) or name.") var nid: String
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let client = try PoolClient.locate()
            _ = try await client.call("PrimarySet", [.string(self.seed), .string(self.nid)])
            let bindings = try await client.call("PrimaryList")
            let binding = bindings.array?.first { $0["Seed"]?.string?.dropFirst(2) == self.seed.dropFirst(2) } ?? .null
            if self.output.json { return try self.output.printJSON(binding) }
            print("\(binding["Seed"]?.string ?? self.seed) → \(binding["Node"]?.string ?? self.nid)")
        }
    }
}
