// The built `fpool` binary, run as an operator runs it.

import Foundation
import GeneratedRoutes
import Testing

@Suite struct CLIProcessTests {
    let fpool = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: "fpool")

    func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = self.fpool
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
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
