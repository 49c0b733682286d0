// The legacy Lotus repo lookup: LOTUS_PATH's `api` and `token` become FULLNODE_API_INFO.

import Foundation
import PoolServer
import Testing

@Suite struct LotusRepoTests {
    func repo(api: String?, token: String?) throws -> String {
        let path = FileManager.default.temporaryDirectory.appending(path: "lotus-\(UUID().uuidString)/.lotus").path(percentEncoded: false)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        if let api { try api.write(toFile: path + "/api", atomically: true, encoding: .utf8) }
        if let token { try token.write(toFile: path + "/token", atomically: true, encoding: .utf8) }
        return path
    }

    @Test func theRepoDaemonJoinsNamedAfterItsFolderUnlessFullNodeAPIInfoIsSet() throws {
        let path = try self.repo(api: "/ip4/10.0.0.9/tcp/1234/http\n", token: "a.b.c\n")
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let filled = try LotusRepo.environment(["LOTUS_PATH": path])
        #expect(filled["FULLNODE_API_INFO"] == "a.b.c:/ip4/10.0.0.9/tcp/1234/http:lotus")
        // The default repo is ~/.lotus.
        let home = (path as NSString).deletingLastPathComponent
        #expect(try LotusRepo.environment(["HOME": home])["FULLNODE_API_INFO"] == "a.b.c:/ip4/10.0.0.9/tcp/1234/http:lotus")
        let given = ["LOTUS_PATH": path, "FULLNODE_API_INFO": "x.y.z:/ip4/10.0.0.1/tcp/1234/http"]
        #expect(try LotusRepo.environment(given) == given)
    }

    @Test func anAbsentDefaultRepoIsNothingButAnExplicitOneMustHoldBothFiles() throws {
        let home = FileManager.default.temporaryDirectory.appending(path: "no-lotus-\(UUID().uuidString)").path(percentEncoded: false)
        #expect(try LotusRepo.environment(["HOME": home])["FULLNODE_API_INFO"] == nil)
        let path = try self.repo(api: "/ip4/10.0.0.9/tcp/1234/http", token: nil)
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let error = #expect(throws: RepoError.self) { try LotusRepo.environment(["LOTUS_PATH": path]) }
        #expect(error?.file == path + "/token")
        #expect(error?.reason.hasPrefix("cannot be read; the Lotus repo (LOTUS_PATH) should hold the daemon's admin token") == true)
    }
}
