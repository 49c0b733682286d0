// `fpool api`: the FullNode API route table and its per-method settings.

import ArgumentParser
import RouteModel

struct API: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "The FullNode API route table and its per-method routing settings.",
        subcommands: [Types.self, List.self, Set.self, Why.self]
    )
}

/// `--version v0|v1`, validated against the versions the tables cover.
struct APIVersionOption: ParsableArguments {
    @Option(name: .long, help: "The FullNode API version: v0 or v1.")
    var version = APIVersion.v1.rawValue

    func parsed() throws -> APIVersion {
        do {
            return try APIVersion.parse(self.version)
        } catch {
            throw ValidationError("--version: \(error)")
        }
    }
}
