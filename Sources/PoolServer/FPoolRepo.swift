// fpool's repo directory (FPOOL_PATH, default ~/.fpool), laid out like a Lotus repo: the JWT
// secret fpool signs tokens with, and the `api` and `token` files its CLI and clients read.

import Foundation

/// The files of one fpool instance.
///
/// Concurrency: a value; file access is not synchronised (one fpool per repo).
public struct FPoolRepo: Sendable {
    /// The repo directory, as given (`FPOOL_PATH` or `~/.fpool`); created on first `loadOrCreateSecret`.
    public let path: String

    /// A repo at `path`; nothing is read or created until a method needs it.
    public init(path: String) {
        self.path = path
    }

    /// `FPOOL_PATH`, else `~/.fpool`.
    public static func path(environment: [String: String]) -> String {
        if let path = environment["FPOOL_PATH"], !path.isEmpty { return path }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return home + "/.fpool"
    }

    var secretFile: String { self.path + "/jwt-secret" }
    /// The `api` file: the listen multiaddr a running fpool writes, which the CLI reads to find it.
    public var apiFile: String { self.path + "/api" }
    /// The `token` file: an admin token a running fpool writes (mode 0600) for the CLI on the same host.
    public var tokenFile: String { self.path + "/token" }

    /// The secret, created (32 random bytes, mode 0600) on first use.
    ///
    /// - Throws: `RepoError` naming the file when it cannot be read, written or is malformed,
    ///   or when the repo directory or an existing secret is open to group or others.
    public func loadOrCreateSecret() throws(RepoError) -> [UInt8] {
        let files = FileManager.default
        do {
            try files.createDirectory(atPath: self.path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw RepoError(file: self.path, reason: "cannot create the repo directory: \(error.localizedDescription)")
        }
        try RepoPermissions.check(directory: self.path)
        if files.fileExists(atPath: self.secretFile) {
            try RepoPermissions.check(secret: self.secretFile)
            guard let text = try? String(contentsOfFile: self.secretFile, encoding: .utf8) else {
                throw RepoError(file: self.secretFile, reason: "cannot read the secret")
            }
            guard let secret = Self.hexBytes(text.trimmingCharacters(in: .whitespacesAndNewlines)), secret.count >= 32 else {
                throw RepoError(
                    file: self.secretFile,
                    reason: "expected at least 32 bytes as hex; delete the file to make a new secret (existing tokens stop working)")
            }
            return secret
        }
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        try self.write(secret.map { String(format: "%02x", $0) }.joined() + "\n", to: self.secretFile)
        return secret
    }

    /// The certificate the pool serves over TLS, which fpool's own commands pin (absent without TLS).
    public var certificateFile: String { self.path + "/api-cert.pem" }

    /// Writes `api` (the listen multiaddr) and `token` (an admin token), as Lotus does at start,
    /// and the served certificate (`api-cert.pem`) when the pool speaks TLS; without TLS an
    /// older certificate is removed, so no stale one is pinned.
    public func writeEndpoint(api: String, token: String, certificatePEM: String? = nil) throws(RepoError) {
        if let certificatePEM {
            try self.write(certificatePEM, to: self.certificateFile)
        } else if FileManager.default.fileExists(atPath: self.certificateFile) {
            do {
                try FileManager.default.removeItem(atPath: self.certificateFile)
            } catch {
                throw RepoError(file: self.certificateFile, reason: "cannot remove the old certificate: \(error.localizedDescription)")
            }
        }
        try self.write(api + "\n", to: self.apiFile)
        try self.write(token + "\n", to: self.tokenFile)
    }

    /// Reads `api` and `token`.
    public func readEndpoint() throws(RepoError) -> (api: String, token: String) {
        func read(_ file: String) throws(RepoError) -> String {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw RepoError(file: file, reason: "not found; is fpool running (`fpool run` or `fpool demo`) with this FPOOL_PATH?")
            }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return (try read(self.apiFile), try read(self.tokenFile))
    }

    /// Writes a file readable by its owner only from the first byte (no window in which a
    /// secret or token sits in a world-readable file), replacing an older one.
    private func write(_ text: String, to file: String) throws(RepoError) {
        unlink(file)
        let descriptor = open(file, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else { throw RepoError(file: file, reason: "cannot create: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw RepoError(file: file, reason: "cannot write: \(String(cString: strerror(errno)))") }
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for pair in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[pair..<pair + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}

/// A repo file that cannot be used, and why.
public struct RepoError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The path of the file or directory that cannot be used.
    public let file: String
    /// What is wrong with it and, where there is one, what to do about it.
    public let reason: String

    /// One line, `<file>: <reason>`.
    public var description: String { "\(self.file): \(self.reason)" }
}
