// `fpool api types`: the API categories, in the seed's order.

import ArgumentParser
import GeneratedRoutes

extension API {
    struct Types: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the API categories (chain, beacon, gas, …).")

        @OptionGroup var api: APIVersionOption
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let categories = APIListing.categories(of: RouteTable.entries(try self.api.parsed()))
            if self.output.json {
                try self.output.printJSON(categories.map(\.rawValue))
            } else {
                for category in categories { print(category.rawValue) }
            }
        }
    }
}
