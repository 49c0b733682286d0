// `fpool auth api-info|api-pool-info|create-token`: how clients and other miners connect.

import ArgumentParser
import LotusWire

struct Auth: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auth", abstract: "Tokens and connection strings for clients of the pool.",
        subcommands: [APIInfo.self, APIPoolInfo.self, CreateToken.self])

    struct APIInfo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "api-info", abstract: "Print FULLNODE_API_INFO for a client (lotus-miner, workers) of this pool.")
        @Option(name: .long, help: "The token's permission: read, write, sign or admin.") var perm = "admin"
        @Option(name: .long, help: "The client's miner (e.g. f01000): its calls prefer that miner's primary daemon.") var seed: String?
        @Option(
            name: .long,
            help:
                "The IP address or DNS name clients reach the pool at (default: the listen address, or on a wildcard listen the host's first non-loopback address)."
        )
        var address: String?
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let info = try await PoolClient.locate().call(
                "AuthAPIInfo", [.string(self.perm), self.seed.map(JSON.string) ?? .null, self.address.map(JSON.string) ?? .null])
            if self.output.json { return try self.output.printJSON(JSON.object([("FULLNODE_API_INFO", info)])) }
            print("FULLNODE_API_INFO=\(info.string ?? "")")
        }
    }

    struct APIPoolInfo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "api-pool-info", abstract: "Print the pool's daemons as FULLNODE_API_POOL_INFO, to build the same pool elsewhere.")
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let info = try await PoolClient.locate().call("AuthPoolInfo")
            if self.output.json { return try self.output.printJSON(info) }
            print("FULLNODE_API_USE_POOL=\(info["UsePool"]?.bool ?? true)")
            print("FULLNODE_API_POOL_INFO=\(info["PoolInfo"]?.string ?? "")")
        }
    }

    struct CreateToken: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create-token", abstract: "Create a token for this pool.")
        @Option(name: .long, help: "read, write, sign or admin (each includes the ones before it).") var perm: String
        @Option(name: .long, help: "The client's miner (e.g. f01000): its calls prefer that miner's primary daemon.") var seed: String?
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let token = try await PoolClient.locate().call("AuthNew", [.string(self.perm), self.seed.map(JSON.string) ?? .null])
            if self.output.json { return try self.output.printJSON(JSON.object([("Token", token)])) }
            print(token.string ?? "")
        }
    }
}
