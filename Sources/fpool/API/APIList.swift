// `fpool api list`: every method with its category, call count, filter, policy, nohang, timeout.

import ArgumentParser
import Foundation
import GeneratedRoutes
import LotusWire
import RouteModel

extension API {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List every FullNode API method and its routing settings (live from the running pool).")

        @OptionGroup var api: APIVersionOption
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let version = try self.api.parsed()
            let entries = RouteTable.entries(version)
            let rows: [APIListRow]
            if PoolClient.isConfigured() {
                // CallId, policies and overrides as the running pool has them now.
                let live = try await PoolClient.locate().call("APIList", [.string(version.rawValue)])
                let poolDefault = live["DefaultPolicy"]?.string.flatMap(Policy.init(rawValue:)) ?? .oneBySeedRound
                var callIds: [String: UInt64] = [:]
                if case .object(let fields) = live["CallIds"] ?? .null {
                    for (name, count) in fields { callIds[name] = UInt64(max(0, count.int ?? 0)) }
                }
                var overrides: [String: APIOverride] = [:]
                if case .object(let fields) = live["Overrides"] ?? .null {
                    for (name, settings) in fields {
                        overrides[name] = APIOverride(
                            policy: settings["Policy"]?.string ?? "default", nohang: settings["NoHang"]?.bool ?? false,
                            timeout: settings["Timeout"]?.string ?? "0s", filter: settings["Filter"]?.string ?? "all",
                            cache: settings["Cache"]?.string)
                    }
                }
                rows = APIListing.rows(entries, poolDefault: poolDefault, callIds: callIds, overrides: overrides)
            } else {
                FileHandle.standardError.write(
                    Data("no running fpool found (FPOOL_API_INFO or FPOOL_PATH/api): showing the compiled defaults\n".utf8))
                rows = APIListing.rows(entries, poolDefault: .oneBySeedRound, callIds: [:])
            }
            if self.output.json {
                try self.output.printJSON(rows)
            } else {
                print(APIListing.table(rows), terminator: "")
            }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change one API's routing in the running pool.",
            discussion:
                "--key=policy (a policy name or default), nohang (true|false), timeout (a Go duration, 0s = none), filter (all|sealing), hedge, cache (none|content|tipset|default)"
        )
        @Option(name: .long, help: "The method name, e.g. ChainNotify.") var api: String
        @Option(name: .long, help: "policy, nohang, timeout, filter, hedge or cache.") var key: String
        @Option(name: .long, help: "The new value.") var val: String
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let settings = try await PoolClient.locate().call("APISet", [.string(self.api), .string(self.key), .string(self.val)])
            if self.output.json { return try self.output.printJSON(settings) }
            print(
                "\(self.api): Policy \(settings["Policy"]?.string ?? ""), NoHang \(settings["NoHang"]?.bool ?? false), "
                    + "Timeout \(settings["Timeout"]?.string ?? ""), Filter \(settings["Filter"]?.string ?? ""), "
                    + "Cache \(settings["Cache"]?.string ?? "")")
        }
    }

    struct Why: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Explain how the next call of a method would be routed: candidates, their state, and the rule for each.")
        @Argument(help: "The method name, e.g. StateGetActor.") var method: String
        @OptionGroup var api: APIVersionOption
        @Option(name: .long, help: "For pushes: the sender address whose binding to explain.") var sender: String?
        @Option(name: .long, help: "For tipset-aware routing: the epoch the call names.") var height: Int64?
        @Option(name: .long, help: "The call's JSON params, e.g. '[\"f01000\",[{\"/\":\"bafy…\"}]]': says whether it would hit the cache.")
        var params: String?
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let why = try await PoolClient.locate().call(
                "APIWhy",
                [
                    .string(self.method), .string(try self.api.parsed().rawValue), self.sender.map(JSON.string) ?? .null,
                    self.height.map(JSON.int) ?? .null, self.params.map(JSON.string) ?? .null,
                ])
            if self.output.json { return try self.output.printJSON(why) }
            print(
                "\(why["Method"]?.string ?? "") (\(why["Version"]?.string ?? ""), \(why["Effect"]?.string ?? "")): Policy \(why["Policy"]?.string ?? ""), "
                    + "Filter \(why["Filter"]?.string ?? ""), NoHang \(why["NoHang"]?.bool ?? false), Timeout \(why["Timeout"]?.string ?? "")"
            )
            print("Rule: \(why["Rule"]?.string ?? "")")
            print("Hedge: \(why["Hedge"]?.string ?? "")")
            print("Cache: \(why["Cache"]?.string ?? "")")
            var rows = [["Order", "Node", "ID", "State", "Head", "Verdict"]]
            for node in why["Nodes"]?.array ?? [] {
                rows.append([
                    node["Rank"]?.int.map { "#\($0 + 1)" } ?? "-", node["Name"]?.string ?? "", node["ID"]?.string ?? "-",
                    node["State"]?.string ?? "", node["Head"]?.int.map(String.init) ?? "-", node["Reason"]?.string ?? "",
                ])
            }
            print(TextTable.render(rows), terminator: "")
        }
    }
}
