// What a client reads when a daemon gives no answer: the node's pool name and the kind of
// failure, never the daemon's address or port (those stay in fpool's log).

import FPoolTestSupport
import Foundation
import LotusSim
import LotusWire
import PoolRuntime
import Testing

@Suite(.timeLimit(.minutes(1))) struct ClientErrorTextTests {
    /// A pass-through pool always sends to its one daemon, so a daemon that is down refuses the
    /// dial itself: the error the client reads names `sim-daemon-0` only. With `dialFailedFirst`
    /// a heartbeat's dial fails before the call, which then meets the redial backoff instead of
    /// dialling: its log line must still say where the daemon is.
    @Test(arguments: ["http", "websocket"], [false, true])
    func aDaemonThatRefusesIsNamedByItsPoolNameOnly(transport: String, dialFailedFirst: Bool) async throws {
        try await withServedPool(nodes: 1, configure: { _, environment in environment.usePool = false }) { served in
            let port = served.cluster.daemons[0].port
            try await served.cluster.inject(.kill, daemon: 0)
            if dialFailedFirst { await served.pool.heartbeat() }
            let message: String
            if transport == "http" {
                let response = try await served.http("Filecoin.ChainHead")
                message = try #require(
                    response.json?["error"]?["message"]?.string, "answer: \(String(decoding: response.body, as: UTF8.self))")
            } else {
                let client = try await served.client()
                message = try #require(await rpcError { try await client.call("Filecoin.ChainHead") }).message
                await client.close()
            }
            #expect(message.contains("sim-daemon-0"), "\(message)")
            #expect(!message.contains("127.0.0.1"), "\(message)")
            #expect(!message.contains(String(port)), "\(message)")
            // The operator still reads where the daemon was and what the connection said.
            // Logged as the failure is judged, which may come just after the client's answer.
            #expect(
                await holds {
                    served.logs.all.contains { $0.contains("Filecoin.ChainHead") && $0.contains("sim-daemon-0") && $0.contains(":\(port)") }
                },
                "\(served.logs.all)")
        }
    }
}
