// The example proxy against three simulated Lotus daemons, over real sockets on 127.0.0.1:
// calls answered through the embedded pool, a killed daemon hidden, bad calls refused as
// Lotus refuses them.

import EmbeddedProxy
import Foundation
import Hummingbird
import HummingbirdTesting
import LotusSim
import PoolRuntime
import PoolServer
import Testing

@Suite(.timeLimit(.minutes(2))) struct EmbeddedProxyTests {
    @Test func readsAreAnsweredThroughThePoolAndAKilledDaemonIsHidden() async throws {
        try await withProxy { client, cluster in
            cluster.advance(3)
            let head = try await client.call("Filecoin.ChainHead")
            #expect((head["result"] as? [String: Any])?["Height"] as? Int == 3)
            // A pinned read: routed with its epoch (the generated route marks the param).
            let pinned = try await client.call("Filecoin.ChainGetTipSetByHeight", params: "[2,[]]")
            #expect((pinned["result"] as? [String: Any])?["Height"] as? Int == 2)
            // Two of three daemons die: every call still finds the third.
            try await cluster.inject(.kill, daemon: 0)
            try await cluster.inject(.kill, daemon: 1)
            for _ in 0..<5 {
                let again = try await client.call("Filecoin.ChainHead")
                #expect((again["result"] as? [String: Any])?["Height"] as? Int == 3, "\(again)")
            }
        }
    }

    @Test func badCallsAreRefusedAsLotusRefusesThem() async throws {
        try await withProxy { client, _ in
            let unknown = try await client.call("Filecoin.ChainHeadd")
            #expect(Self.error(unknown)?.code == -32601)
            #expect(Self.error(unknown)?.message == "method 'Filecoin.ChainHeadd' not found")
            let signing = try await client.call("Filecoin.MpoolPushMessage", params: "[{},null]")
            #expect(Self.error(signing)?.message == "missing permission to invoke 'MpoolPushMessage' (need 'sign')")
            let channel = try await client.call("Filecoin.ChainNotify")
            #expect(Self.error(channel)?.message == "ChainNotify returns a channel: it needs a WebSocket")
            let garbage = try await client.post("{\"method\":")
            #expect(Self.error(garbage)?.code == -32700)
            // A daemon's own error comes back with its code and text.
            let bad = try await client.call("Filecoin.StateGetActor", params: "[\"t0999999\",[]]")
            #expect(Self.error(bad)?.message.contains("actor not found") == true, "\(bad)")
        }
    }

    private static func error(_ answer: [String: Any]) -> (code: Int, message: String)? {
        guard let error = answer["error"] as? [String: Any], let code = error["code"] as? Int, let message = error["message"] as? String
        else { return nil }
        return (code, message)
    }
}

/// Three simulated daemons (the chain moves when the test says), a pool of them, and the
/// proxy served on a free port of 127.0.0.1.
private func withProxy(_ body: @Sendable (ProxyClient, SimCluster) async throws -> Void) async throws {
    let cluster = try await SimCluster.start(SimConfiguration(nodes: 3, blockTime: nil))
    do {
        let pool = Pool.lotus(try PoolEnvironment.load(["FULLNODE_API_POOL_INFO": cluster.poolInfo]))
        await pool.heartbeat()
        // As a proxy runs it: the heartbeats learn each daemon's head (a read pinned to a
        // newer height waits for one that has it) and redial the daemons that drop.
        let heartbeats = Task { await pool.runHeartbeats() }
        defer { heartbeats.cancel() }
        let router = Router()
        LotusRPCProxy(pool: pool).addRoutes(to: router)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in try await body(ProxyClient(client: client), cluster) }
        await pool.closeConnections()
    } catch {
        await cluster.stop()
        throw error
    }
    await cluster.stop()
}

/// JSON-RPC over the test framework's HTTP client.
private struct ProxyClient: Sendable {
    let client: any TestClientProtocol

    func call(_ method: String, params: String = "[]") async throws -> [String: Any] {
        try await self.post(#"{"jsonrpc":"2.0","id":7,"method":"\#(method)","params":\#(params)}"#)
    }

    func post(_ body: String) async throws -> [String: Any] {
        let response = try await self.client.execute(
            uri: "/rpc/v1", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: body))
        #expect(response.status == .ok)
        return try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
    }
}
