// The built `fpool` binary, run as an operator runs it.

import FPoolTestSupport
import Foundation
import GeneratedRoutes
import Testing

@Suite struct CLIProcessTests {
    let fpool = ProcessRunner.builtProduct("fpool")

    /// Runs fpool with no pool configured (a repo directory that does not exist).
    func run(_ arguments: [String]) throws -> ProcessOutcome {
        var environment = ProcessInfo.processInfo.environment
        environment["FPOOL_PATH"] = "/nonexistent/fpool-cli-test"
        environment["FPOOL_API_INFO"] = nil
        return try ProcessRunner.runBlocking(self.fpool, arguments, environment: environment)
    }

    /// `fpool --version` names fpool's release and the Lotus release each table was imported
    /// from: what an operator checks against the daemons it runs.
    @Test func versionNamesTheLotusReleaseOfTheTables() throws {
        let result = try run(["--version"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("fpool "))
        #expect(result.stdout.contains("v1 from Lotus \(RouteTable.lotusRelease(.v1))"), "\(result.stdout)")
        #expect(result.stdout.contains("v0 from Lotus \(RouteTable.lotusRelease(.v0))"), "\(result.stdout)")
    }

    @Test(arguments: ["v0", "v1"])
    func apiListJSONHasOneObjectPerMethod(_ version: String) throws {
        let result = try run(["api", "list", "--version", version, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(objects.count == RouteTable.entries(version == "v0" ? .v0 : .v1).count)
        for key in ["category", "api", "perm", "params", "policy", "filter", "nohang", "timeout", "callId", "effect", "result"] {
            #expect(objects.allSatisfy { $0[key] != nil }, "missing \(key)")
        }
        let actor = try #require(objects.first { $0["api"] as? String == "StateGetActor" })
        #expect(actor["params"] as? [String] == ["Address", "TipSetKey"])
        #expect(actor["perm"] as? String == "read")
    }

    @Test func apiListTextStartsWithTheHeader() throws {
        let result = try run(["api", "list"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("Cate "))
        #expect(result.stdout.contains("\nchain "))
    }

    @Test func unknownVersionIsAOneLineErrorNamingTheChoices() throws {
        let result = try run(["api", "list", "--version", "v9"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--version: unknown api version 'v9'; expected one of: v0, v1"))
    }

    @Test func apiTypesPrintsOneCategoryPerLine() throws {
        let result = try run(["api", "types"])
        #expect(result.status == 0)
        #expect(result.stdout.split(separator: "\n").prefix(3) == ["chain", "beacon", "gas"])
    }
}
