// Lotus's permission rules: read without a token, exact permission match, refused tokens.

import LotusSim
import LotusWire
import FPoolTestSupport
import Testing

@Suite(.timeLimit(.minutes(1))) struct SimAuthTests {
    @Test func noTokenMayReadButNotWrite() async throws {
        try await withCluster(nodes: 1) { cluster in
            let anonymous = try await cluster.client(0, token: .some(nil))
            _ = try await anonymous.call("Filecoin.ChainHead")
            let refused = try await rpcError { try await anonymous.call("Filecoin.MpoolPushMessage", [transfer(), nil]) }
            #expect(refused == RPCError(code: 1, message: "missing permission to invoke 'MpoolPushMessage' (need 'sign')"))
            let http = try await cluster.http(0, "Filecoin.MpoolGetNonce", [.string(SimFixtures.accounts[0].id)], token: .some(nil))
            #expect(http.json?["result"]?.int == 0)
        }
    }

    @Test func permissionsMatchExactly() async throws {
        try await withCluster(nodes: 1) { cluster in
            // An admin-only token is not allowed read methods (Lotus matches the list as written).
            let adminOnly = try await cluster.client(0, token: .some(cluster.token(daemon: 0, allow: ["admin"])))
            #expect(
                try await rpcError { try await adminOnly.call("Filecoin.ChainHead") }?.message
                    == "missing permission to invoke 'ChainHead' (need 'read')")
            let signer = try await cluster.client(0, token: .some(cluster.token(daemon: 0, allow: ["read", "sign"])))
            _ = try await signer.call("Filecoin.MpoolPushMessage", [transfer(), nil])
        }
    }

    @Test func foreignTokensAreRefusedAtTheDoor() async throws {
        try await withCluster(nodes: 2) { cluster in
            // Daemon 1's token means nothing to daemon 0.
            let foreign = cluster.daemons[1].adminToken
            let http = try await cluster.http(0, "Filecoin.ChainHead", token: .some(foreign))
            #expect(http.status == 401)
            // go-jsonrpc's client sees a refused upgrade as "bad handshake".
            await #expect(throws: LotusClientError.badHandshake) { try await cluster.client(0, token: .some(foreign)) }
            await #expect(throws: LotusClientError.badHandshake) { try await cluster.client(0, token: .some("garbage")) }
            // A wrong path is not an RPC endpoint.
            await #expect(throws: LotusClientError.badHandshake) { try await cluster.client(0, path: "/rpc/v9") }
            // The refusals left the daemon serving.
            _ = try await cluster.client(0).call("Filecoin.ChainHead")
        }
    }
}
