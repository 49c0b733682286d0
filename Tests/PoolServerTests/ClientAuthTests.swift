// Who may call what through fpool: fpool's own tokens, Lotus's exact permission match.

import Foundation
import LotusWire
import PoolServer
import FPoolTestSupport
import Testing

@Suite(.timeLimit(.minutes(1))) struct ClientAuthTests {
    @Test func withoutATokenOnlyReadsAreAllowed() async throws {
        try await withServedPool { served in
            let client = try await served.client(token: .some(nil))
            #expect(try await client.call("Filecoin.ChainHead")["Height"] != nil)
            let push = try await rpcError { try await client.call("Filecoin.MpoolPushMessage", [transfer(), nil]) }
            #expect(push?.message == "missing permission to invoke 'MpoolPushMessage' (need 'sign')")
            let admin = try await rpcError { try await client.call("FPool.NodeList") }
            #expect(admin?.message == "missing permission to invoke 'FPool.NodeList' (need 'admin')")
            // Unlisted names are forwarded only for admin tokens.
            let unlisted = try await rpcError { try await client.call("Filecoin.SomethingNew") }
            #expect(unlisted?.message.hasPrefix("missing permission to invoke 'SomethingNew' (need 'admin')") == true)
        }
    }

    @Test func aTokenNotSignedByThisPoolIsRefused() async throws {
        try await withServedPool { served in
            // A daemon's token is not fpool's: HTTP 401, and "bad handshake" for a WebSocket.
            let foreign = served.cluster.daemons[0].adminToken
            let response = try await served.http("Filecoin.ChainHead", token: .some(foreign))
            #expect(response.status == 401)
            await #expect(throws: LotusClientError.badHandshake) { _ = try await served.client(token: .some(foreign)) }
            await #expect(throws: LotusClientError.badHandshake) { _ = try await served.client(token: .some("garbage")) }
        }
    }

    @Test func createdTokensCarryTheirPermissionAndTheOnesBelow() async throws {
        try await withServedPool { served in
            let write = try #require(try await served.admin("AuthNew", ["write"]).string)
            let client = try await served.client(token: .some(write))
            #expect(try await client.call("Filecoin.ChainHead")["Height"] != nil)
            let sign = try await rpcError { try await client.call("Filecoin.MpoolPushMessage", [transfer(), nil]) }
            #expect(sign?.message == "missing permission to invoke 'MpoolPushMessage' (need 'sign')")
            let badPerm = try await rpcError { try await served.admin("AuthNew", ["root"]) }
            #expect(badPerm?.message == "unknown permission 'root'; permissions: read, write, sign, admin")
        }
    }

    /// Lotus matches permissions exactly as listed: a token listing only `admin` may not read.
    @Test func permissionsMatchExactlyAsListed() async throws {
        try await withServedPool { served in
            let secret = try #require(
                FPoolRepoSecret.read(served.instance.repo.path))
            let adminOnly = LotusJWT.sign(allow: ["admin"], secret: secret)
            let client = try await served.client(token: .some(adminOnly))
            let read = try await rpcError { try await client.call("Filecoin.ChainHead") }
            #expect(read?.message == "missing permission to invoke 'ChainHead' (need 'read')")
            #expect(try await client.call("FPool.ConfigGet")["DefaultPolicy"] != nil)
        }
    }

    @Test func theRepoHoldsTheEndpointAndAnAdminToken() async throws {
        try await withServedPool { served in
            let (api, token) = try served.instance.repo.readEndpoint()
            #expect(api == "/ip4/127.0.0.1/tcp/\(served.port)/http")
            let client = try await served.client(token: .some(token))
            #expect(try await client.call("FPool.NodeList").array?.count == 3)
            let attributes = try FileManager.default.attributesOfItem(atPath: served.instance.repo.path + "/jwt-secret")
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
        }
    }
}

/// Reads the hex secret the way fpool stored it.
enum FPoolRepoSecret {
    static func read(_ repo: String) -> [UInt8]? {
        guard let text = try? String(contentsOfFile: repo + "/jwt-secret", encoding: .utf8) else { return nil }
        let hex = Array(text.trimmingCharacters(in: .whitespacesAndNewlines).utf8)
        return stride(from: 0, to: hex.count, by: 2).compactMap { UInt8(String(decoding: hex[$0..<$0 + 2], as: UTF8.self), radix: 16) }
    }
}
