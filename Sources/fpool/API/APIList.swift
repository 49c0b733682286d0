// `fpool api list`: every method with its category, call count, filter, policy, nohang, timeout.

import ArgumentParser
import GeneratedRoutes
import RouteModel

extension API {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every FullNode API method and its routing settings.")

        @OptionGroup var api: APIVersionOption
        @OptionGroup var output: OutputOptions

        func run() async throws {
            // Until a pool answers, the listing shows the compiled defaults (CallId 0).
            let rows = APIListing.rows(RouteTable.entries(try self.api.parsed()), poolDefault: .oneBySeedRound, callIds: [:])
            if self.output.json {
                try self.output.printJSON(rows)
            } else {
                print(APIListing.table(rows), terminator: "")
            }
        }
    }
}
