// How CLI commands reach a running fpool: FPOOL_API_INFO (`token:multiaddr`), else the `api`
// and `token` files in FPOOL_PATH (default ~/.fpool), and its `FPool.` admin API over HTTP. A
// pool serving TLS is reached over HTTPS: pinned to the certificate it wrote to its repo, or
// (FPOOL_API_INFO) verified against FPOOL_DAEMON_CA or the system's roots.

import ArgumentParser
import Foundation
import LotusWire
import PoolRuntime
import PoolServer

/// A running fpool's admin API.
struct PoolClient {
    let host: String
    let port: Int
    let token: String
    /// Where the endpoint came from, for error messages.
    let source: String
    /// TLS, when the endpoint says `/https`.
    var tls: TLSDialer? = nil

    /// Finds the pool from the environment.
    ///
    /// - Throws: `CLIError` saying what is missing or malformed and where it was read.
    static func locate(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> PoolClient {
        let token: String
        let address: String
        let source: String
        var pinnedCertificate: String?
        if let info = environment["FPOOL_API_INFO"], !info.isEmpty {
            guard let colon = info.firstIndex(of: ":") else {
                throw CLIError("FPOOL_API_INFO: expected <token>:<multiaddr>, as `fpool auth api-info` prints")
            }
            token = String(info[..<colon])
            address = String(info[info.index(after: colon)...])
            source = "FPOOL_API_INFO"
        } else {
            let repo = FPoolRepo(path: FPoolRepo.path(environment: environment))
            do {
                (address, token) = try repo.readEndpoint()
            } catch {
                throw CLIError("\(error)")
            }
            source = repo.apiFile
            pinnedCertificate = repo.certificateFile
        }
        let multiaddr: Multiaddr
        do {
            multiaddr = try Multiaddr(parsing: address)
        } catch {
            throw CLIError("\(source): \(error)")
        }
        var client = PoolClient(host: multiaddr.host, port: multiaddr.port, token: token, source: source)
        if multiaddr.secure {
            do {
                client.tls =
                    try pinnedCertificate.map { try TLSDialer(pinning: $0) }
                    ?? TLSDialer(caFile: environment["FPOOL_DAEMON_CA"], source: "FPOOL_DAEMON_CA")
            } catch {
                throw CLIError("\(source) says \(address): \(error)")
            }
        }
        return client
    }

    /// Whether a pool is configured at all (an `api` file or FPOOL_API_INFO), without reaching it.
    static func isConfigured(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        if let info = environment["FPOOL_API_INFO"], !info.isEmpty { return true }
        return FileManager.default.fileExists(atPath: FPoolRepo(path: FPoolRepo.path(environment: environment)).apiFile)
    }

    /// Calls `FPool.<method>` and returns its result.
    ///
    /// - Throws: `CLIError` with the pool's error text, or saying it cannot be reached.
    func call(_ method: String, _ params: [JSON] = []) async throws -> JSON {
        let response: LotusHTTPClient.Response
        do {
            response = try await LotusHTTPClient.call(
                host: self.host, port: self.port, method: "FPool.\(method)", params: params, token: self.token, tls: self.tls)
        } catch {
            throw CLIError(
                "cannot reach fpool at \(self.host):\(self.port) (from \(self.source)): \(error); is `fpool run` or `fpool demo` running?")
        }
        guard let json = response.json else {
            throw CLIError(
                "fpool at \(self.host):\(self.port) answered HTTP \(response.status): \(String(decoding: response.body, as: UTF8.self))")
        }
        if let error = json["error"], !error.isNull {
            throw CLIError(error["message"]?.string ?? "\(error)")
        }
        return json["result"] ?? .null
    }
}

/// A one-line error for the operator (exit status 1).
struct CLIError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
