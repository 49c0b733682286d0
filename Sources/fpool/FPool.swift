// The fpool command line: one type per command, groups as types (`fpool api list` is API.List).

import ArgumentParser

@main
struct FPool: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fpool",
        abstract: "A Lotus daemon cluster: one FullNode API endpoint served by several Lotus daemons.",
        version: FPoolVersion.description,
        subcommands: [
            Run.self, Demo.self, Chaos.self, Top.self, Node.self, Nodes.self, API.self, Primary.self, Config.self, Auth.self, Log.self, Sim.self,
        ]
    )
}
