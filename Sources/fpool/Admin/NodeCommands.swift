// `fpool node list|nodes|add|set`: the daemons in a running pool.

import ArgumentParser
import LotusWire

struct Node: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node", abstract: "List, add, pause, resume or remove daemons of a running pool.",
        subcommands: [List.self, Add.self, Set.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the daemons with their state, head and peers.")
        @Option(
            name: .long,
            help: "Show Primary as the miner with this seed (a token's --seed, e.g. f01000) sees it; default the pool's PrimarySeed.")
        var seed: String?
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let nodes = try await PoolClient.locate().call("NodeList", [self.seed.map(JSON.string) ?? .null])
            if self.output.json { return try self.output.printJSON(nodes) }
            print(NodeListing.text(nodes), terminator: "")
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a daemon to the running pool.")
        @Option(name: .long, help: "The daemon's API multiaddr, e.g. /ip4/10.0.0.5/tcp/1234/http.") var api: String
        @Option(name: .long, help: "A token of the daemon (admin, as in FULLNODE_API_POOL_INFO).") var token: String
        @Option(name: .long, help: "A name for the node (default host:port).") var name: String?
        @Flag(name: .long, help: "Mark the node as a sealing node.") var sealing = false
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let node = try await PoolClient.locate().call(
                "NodeAdd", [.string(self.api), .string(self.token), self.name.map(JSON.string) ?? .null, .bool(self.sealing)])
            if self.output.json { return try self.output.printJSON(node) }
            print(NodeListing.text(.array([node])), terminator: "")
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pause, resume or remove a node, or mark it sealing.",
            discussion: "--key=status --val=pause|resume|exit, or --key=sealing --val=true|false")
        @Option(name: .long, help: "The node's id (its Session UUID, from `fpool node list`) or name.") var nid: String
        @Option(name: .long, help: "status or sealing.") var key: String
        @Option(name: .long, help: "pause, resume, exit (status); true, false (sealing).") var val: String
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let client = try PoolClient.locate()
            _ = try await client.call("NodeSet", [.string(self.nid), .string(self.key), .string(self.val)])
            let nodes = try await client.call("NodeList")
            // An exited node has left the list.
            guard let node = nodes.array?.first(where: { $0["ID"]?.string == self.nid || $0["Name"]?.string == self.nid }) else {
                if self.output.json { return try self.output.printJSON(["Removed": .string(self.nid)]) }
                return print("node \(self.nid) removed from the pool (its senders moved to their next node)")
            }
            if self.output.json { return try self.output.printJSON(node) }
            print(NodeListing.text(.array([node])), terminator: "")
        }
    }
}

/// The seed's two-line node format.
enum NodeListing {
    static func text(_ nodes: JSON) -> String {
        var out = ""
        for node in nodes.array ?? [] {
            func number(_ key: String) -> String { node[key]?.int.map(String.init) ?? "-" }
            let primary = node["Primary"]?.bool ?? false
            out +=
                "Node \(node["ID"]?.string ?? "(not reached yet)"), host \(node["Name"]?.string ?? "")[\(node["Address"]?.string ?? "")]\n"
            out +=
                "Status: {Primary:(\(primary), \(number("PrimaryOf"))), Calls:(\(number("Calls"))), "
                + "Epochs:(Head:\(number("Head")), Behind:\(number("Behind"))), Peers:(Message:\(number("MessagePeers")), Block:\(number("BlockPeers"))), "
                + "State:(\(node["State"]?.string ?? "")\(node["Sealing"]?.bool == true ? ", sealing" : "")"
                + "\(node["DegradedFallback"]?.bool == true ? ", serving: pool degraded, no node passes the checks" : ""))}\n"
        }
        return out
    }
}

/// `fpool nodes`: the seed's short form of `fpool node list`.
struct Nodes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "nodes", abstract: "Same as `fpool node list`.")
    @Option(name: .long, help: "Show Primary as the miner with this seed sees it (see `fpool node list`).") var seed: String?
    @OptionGroup var output: OutputOptions

    func run() async throws {
        var list = Node.List()
        list.seed = self.seed
        list.output = self.output
        try await list.run()
    }
}
