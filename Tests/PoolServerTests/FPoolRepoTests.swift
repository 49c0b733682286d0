// The repo's secret is refused when others could read or replace it, naming the file and the
// chmod that fixes it; a repo fpool creates itself always passes.

import Foundation
import PoolServer
import Testing

@Suite struct FPoolRepoTests {
    /// A fresh directory that is removed when the test ends.
    func withRepo(_ body: (FPoolRepo) throws -> Void) throws {
        let path = FileManager.default.temporaryDirectory.appending(path: "fpool-repo-\(UUID().uuidString)").path(percentEncoded: false)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(FPoolRepo(path: path))
    }

    func setMode(_ mode: Int, of path: String) throws {
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    func mode(of path: String) throws -> Int? {
        try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
    }

    @Test func aRepoFpoolCreatesIsPrivateAndLoadsAgain() throws {
        try self.withRepo { repo in
            let secret = try repo.loadOrCreateSecret()
            #expect(try self.mode(of: repo.path) == 0o700)
            #expect(try self.mode(of: repo.path + "/jwt-secret") == 0o600)
            #expect(try repo.loadOrCreateSecret() == secret)
        }
    }

    @Test(arguments: [0o644, 0o640, 0o604, 0o620, 0o602, 0o666])
    func aSecretOthersCanReadOrWriteIsRefusedWithTheChmodThatFixesIt(mode: Int) throws {
        try self.withRepo { repo in
            _ = try repo.loadOrCreateSecret()
            let file = repo.path + "/jwt-secret"
            try self.setMode(mode, of: file)
            let error = #expect(throws: RepoError.self) { try repo.loadOrCreateSecret() }
            #expect(error?.file == file)
            #expect(error?.description.contains("Fix: chmod 600 \(file)") == true, "\(error?.description ?? "")")
            #expect(error?.description.contains("mode 0\(String(mode, radix: 8))") == true, "\(error?.description ?? "")")
            try self.setMode(0o600, of: file)
            #expect(throws: Never.self) { try repo.loadOrCreateSecret() }
        }
    }

    @Test(arguments: [0o755, 0o750, 0o705, 0o777, 0o720])
    func aRepoDirectoryOthersCanReadOrWriteIsRefusedWithTheChmodThatFixesIt(mode: Int) throws {
        try self.withRepo { repo in
            _ = try repo.loadOrCreateSecret()
            try self.setMode(mode, of: repo.path)
            let error = #expect(throws: RepoError.self) { try repo.loadOrCreateSecret() }
            #expect(error?.file == repo.path)
            #expect(error?.description.contains("Fix: chmod 700 \(repo.path)") == true, "\(error?.description ?? "")")
            try self.setMode(0o700, of: repo.path)
            #expect(throws: Never.self) { try repo.loadOrCreateSecret() }
        }
    }

    /// Execute bits alone let nobody read or change anything: a 0711 repo (others may pass
    /// through, not list) is accepted.
    @Test func executeOnlyForOthersIsAccepted() throws {
        try self.withRepo { repo in
            _ = try repo.loadOrCreateSecret()
            try self.setMode(0o711, of: repo.path)
            #expect(throws: Never.self) { try repo.loadOrCreateSecret() }
        }
    }
}
