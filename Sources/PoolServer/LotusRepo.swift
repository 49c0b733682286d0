// The legacy way a Lotus client finds its daemon, which the seed says still works: a Lotus
// repo (LOTUS_PATH, default ~/.lotus) whose `api` and `token` files the daemon wrote. Without
// FULLNODE_API_INFO, that daemon joins the pool, named after the repo's folder.

import Foundation

/// A Lotus daemon's repo, read for its `api` and `token`.
public enum LotusRepo {
    /// `environment` with FULLNODE_API_INFO filled in from the Lotus repo, when it is not set
    /// and the repo holds `api` and `token`. The default repo (~/.lotus) may be absent; a
    /// LOTUS_PATH given explicitly must hold both files.
    ///
    /// - Throws: `RepoError` naming the file that is missing or unreadable in an explicit LOTUS_PATH.
    public static func environment(_ environment: [String: String]) throws(RepoError) -> [String: String] {
        if let info = environment["FULLNODE_API_INFO"], !info.trimmingCharacters(in: .whitespaces).isEmpty { return environment }
        let explicit = environment["LOTUS_PATH"].map { !$0.isEmpty } ?? false
        let path = Self.path(environment)
        let apiFile = (path as NSString).appendingPathComponent("api")
        let tokenFile = (path as NSString).appendingPathComponent("token")
        guard explicit || FileManager.default.fileExists(atPath: apiFile) else { return environment }
        let api = try Self.read(apiFile, what: "the daemon's API multiaddr (written by `lotus daemon` at start)")
        let token = try Self.read(tokenFile, what: "the daemon's admin token")
        var result = environment
        result["FULLNODE_API_INFO"] = "\(token):\(api):\(Self.name(of: path))"
        return result
    }

    /// LOTUS_PATH, else `~/.lotus`, as Lotus resolves it (`~` expanded).
    static func path(_ environment: [String: String]) -> String {
        let given = environment["LOTUS_PATH"].flatMap { $0.isEmpty ? nil : $0 } ?? "~/.lotus"
        guard given.hasPrefix("~") else { return given }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return home + given.dropFirst()
    }

    /// The node's name: the repo folder's name without its leading dot (`~/.lotus` → `lotus`).
    static func name(of path: String) -> String {
        let folder = (path as NSString).lastPathComponent
        let name = folder.hasPrefix(".") ? String(folder.dropFirst()) : folder
        return name.isEmpty ? "lotus" : name
    }

    private static func read(_ file: String, what: String) throws(RepoError) -> String {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw RepoError(file: file, reason: "cannot be read; the Lotus repo (LOTUS_PATH) should hold \(what)")
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw RepoError(file: file, reason: "is empty; expected \(what)") }
        return trimmed
    }
}
