// What a go-jsonrpc client sees of fpool's server: calls over both transports, answers out of
// order on one socket, cancel, fragments, pings, and the protocol errors Lotus would give.

import Foundation
import LotusSim
import LotusWire
import PoolServer
import FPoolTestSupport
import Testing

@Suite(.timeLimit(.minutes(1))) struct ClientProtocolTests {
    @Test func chainHeadOverBothTransportsIsTheDaemonsHead() async throws {
        try await withServedPool { served in
            served.cluster.advance(3)
            await served.pool.heartbeat()
            let client = try await served.client()
            #expect(try await client.call("Filecoin.ChainHead")["Height"]?.int == 3)
            let response = try await served.http("Filecoin.ChainHead")
            #expect(response.status == 200)
            #expect(response.json?["result"]?["Height"]?.int == 3)
            #expect(response.json?["id"]?.int == 1)
            // v0 too.
            let v0 = try await served.client(path: "/rpc/v0")
            #expect(try await v0.call("Filecoin.ChainHead")["Height"]?.int == 3)
        }
    }

    /// HTTP reads take the immediate path too once their loop's upstream socket is open (the
    /// first call on each event loop opens it through a task).
    @Test func httpReadsGoUpstreamWithoutATask() async throws {
        try await withServedPool { served in
            let before = served.pool.callsStartedImmediately
            // Each call is a new connection, on the next event loop: once every loop has its
            // socket to the daemon, calls start at once (bounded for hosts with many cores).
            var calls = 0
            while served.pool.callsStartedImmediately == before, calls < max(64, 4 * ProcessInfo.processInfo.activeProcessorCount) {
                let response = try await served.http("Filecoin.StateGetActor", ["f0100", []])
                #expect(response.json?["result"]?["Nonce"]?.int == 0)
                calls += 1
            }
            #expect(served.pool.callsStartedImmediately > before)
        }
    }

    @Test func paramsAndResultsPassThroughExactly() async throws {
        try await withServedPool { served in
            // Direct to the daemon and through fpool: byte-identical results.
            let direct = try await LotusWSClient.connect(
                host: "127.0.0.1", port: served.cluster.daemons[0].port, token: served.cluster.daemons[0].adminToken)
            let pooled = try await served.client()
            let viaPool = try await pooled.start("Filecoin.StateGetActor", rawParams: Array(#"[ "f0100" , [ ] ]"#.utf8)).rawResult()
            let viaDaemon = try await direct.start("Filecoin.StateGetActor", rawParams: Array(#"["f0100",[]]"#.utf8)).rawResult()
            #expect(viaPool == viaDaemon)
        }
    }

    /// A call waiting on the chain does not hold up the calls behind it on the same socket.
    @Test func callsOnOneSocketAreAnsweredOutOfOrder() async throws {
        try await withServedPool { served in
            let client = try await served.client()
            let pushed = try await client.call("Filecoin.MpoolPushMessage", [transfer(), nil])
            let cid = try #require(pushed["CID"])
            let waiting = client.start("Filecoin.StateWaitMsg", [cid, 1, 100, true])
            // Answered while StateWaitMsg is still waiting.
            for _ in 0..<20 { _ = try await client.call("Filecoin.ChainHead") }
            // Included at 1, executed at 2, one epoch of confidence on top.
            served.cluster.advance(3)
            let receipt = try await waiting.result()
            #expect(receipt["Receipt"]?["ExitCode"]?.int == 0)
        }
    }

    @Test func aCancelledCallIsStillAnswered() async throws {
        try await withServedPool { served in
            let client = try await served.client()
            let pushed = try await client.call("Filecoin.MpoolPushMessage", [transfer(), nil])
            let waiting = client.start("Filecoin.StateWaitMsg", [try #require(pushed["CID"]), 1, 100, true])
            client.cancel(requestID: waiting.id)
            let error = try await rpcError { try await waiting.result() }
            #expect(error == RPCError.canceled)
            // The socket goes on serving.
            #expect(try await client.call("Filecoin.ChainHead")["Height"] != nil)
        }
    }

    /// A read sent upstream at once (no task: its daemon's socket is open on the client's
    /// loop) and then cancelled by the client is answered, and given up on the daemon too.
    @Test func aCancelledCallIsCancelledOnItsDaemon() async throws {
        try await withServedPool { served in
            for api in ["StateGetActor", "StateWaitMsg"] { try served.pool.setAPI(api, key: "policy", to: "OneByIndexAsc") }
            let client = try await served.client()
            // Opens daemon 0's socket on this connection's loop.
            _ = try await client.call("Filecoin.StateGetActor", ["f0100", []])
            let pushed = try await client.call("Filecoin.MpoolPushMessage", [transfer(), nil])
            let before = served.pool.callsStartedImmediately
            let waiting = client.start("Filecoin.StateWaitMsg", [try #require(pushed["CID"]), 1, 100, true])
            await served.cluster.waitForWaiters(daemon: 0, count: 1)
            #expect(served.pool.callsStartedImmediately == before + 1)
            client.cancel(requestID: waiting.id)
            #expect(try await rpcError { try await waiting.result() } == RPCError.canceled)
            await served.cluster.waitForWaiters(daemon: 0, atMost: 0)
            #expect(try await client.call("Filecoin.ChainHead")["Height"] != nil)
        }
    }

    @Test func fragmentedRequestsAndPingsAreHandled() async throws {
        try await withServedPool { served in
            let client = try await served.client()
            let id = client.nextRequestID
            let padding = String(repeating: "x", count: 9000)
            let request =
                #"{"jsonrpc":"2.0","id":\#(id),"method":"Filecoin.StateGetActor","params":["f0100",[]],"meta":{"pad":"\#(padding)"}}"#
            let actor = try await client.call(rawRequest: request, id: id, fragments: 4)
            #expect(actor["Nonce"]?.int == 0)
            await client.ping()
            #expect(!client.isClosed)
        }
    }

    @Test func protocolErrorsAreLotusErrorsAndTheServerStaysUp() async throws {
        try await withServedPool(configure: { configuration, _ in configuration.maxRequestBytes = 8192 }) { served in
            let client = try await served.client()
            // Not JSON: code -32700 with an integer id (0), never null.
            client.sendRaw("{not json")
            // Unknown method: the daemon's own -32601 (admin tokens forward unlisted names).
            let unknown = try await rpcError { try await client.call("Filecoin.NoSuchMethod") }
            #expect(unknown == RPCError.methodNotFound("Filecoin.NoSuchMethod"))
            let outside = try await rpcError { try await client.call("Eth.Foo") }
            #expect(outside == RPCError.methodNotFound("Eth.Foo"))
            let wrongCount = try await rpcError { try await client.call("Filecoin.ChainHead", [1]) }
            #expect(wrongCount?.code == -32602)
            #expect(wrongCount?.message == "wrong param count (method 'Filecoin.ChainHead'): 1 != 0")
            #expect(client.strayFrames.contains { $0["error"]?["code"]?.int == -32700 && $0["id"]?.int == 0 })

            let bad = try await served.post(Array("{not json".utf8))
            #expect(bad.status == 500)
            #expect(bad.json?["error"]?["code"]?.int == -32700)
            let big = try await served.post(
                Array(#"{"jsonrpc":"2.0","id":1,"method":"Filecoin.ChainHead","params":["\#(String(repeating: "y", count: 9000))"]}"#.utf8))
            #expect(big.status == 500)
            #expect(big.json?["error"]?["message"]?.string == "request bigger than maximum 8192 allowed")
            let channelOverHTTP = try await served.http("Filecoin.ChainNotify")
            #expect(channelOverHTTP.json?["error"]?["message"]?.string == RPCError.noChannelSupport("Filecoin.ChainNotify").message)

            // An oversized WebSocket message closes that socket only, with close code 1009,
            // whether it comes as one frame or as fragments.
            let doomed = try await served.client()
            doomed.sendRaw(String(repeating: " ", count: 20000) + "{}")
            await doomed.waitUntilClosed()
            #expect(doomed.closeCode == 1009)
            let fragmented = try await served.client()
            fragmented.sendRaw(String(repeating: " ", count: 9000) + "{}", fragments: 4)
            await fragmented.waitUntilClosed()
            #expect(fragmented.closeCode == 1009)
            #expect(try await client.call("Filecoin.ChainHead")["Height"] != nil)
            #expect(try await served.http("Filecoin.ChainHead").status == 200)
        }
    }

    /// A client frame without a mask breaks RFC 6455, and Lotus's own server closes on it:
    /// fpool closes with 1002 (protocol error) and answers nothing; the next client is served.
    @Test func anUnmaskedClientFrameClosesTheConnection() async throws {
        try await withServedPool { served in
            let peer = try await RawWebSocketPeer.connect(port: served.port)
            try await peer.send(#"{"jsonrpc":"2.0","id":1,"method":"Filecoin.ChainHead","params":[]}"#, masked: false)
            #expect(try await peer.eventsUntilClosed() == [.close(code: 1002)])
            #expect(try await served.client().call("Filecoin.ChainHead")["Height"] != nil)
        }
    }

    /// Lotus (Go's net/http) upgrades any request of a connection, so a reverse proxy in front
    /// of fpool may send the upgrade over a pooled connection that already carried a POST: it
    /// is served as a websocket, and a graceful stop says goodbye to it like to any other.
    @Test func aWebSocketUpgradeAfterAnHTTPCallOnTheSameConnectionIsServed() async throws {
        try await withServedPool { served in
            let peer = try await RawWebSocketPeer.open(port: served.port)
            try await peer.sendRaw(RawWebSocketPeer.postRequest(#"{"jsonrpc":"2.0","id":1,"method":"Filecoin.ChainHead","params":[]}"#))
            await peer.waitFor(#","id":1}"#)
            try await peer.upgrade()
            await peer.waitFor("101 Switching Protocols")
            try await peer.send(#"{"jsonrpc":"2.0","id":2,"method":"Filecoin.ChainHead","params":[]}"#)
            await peer.waitFor(#","id":2}"#)
            await served.instance.server.stop()
            let events = try await peer.eventsUntilClosed()
            guard events.count == 2, case .message(let answer) = events[0] else {
                Issue.record("expected the answer, then the goodbye; got \(events)")
                return
            }
            let json = try JSON.parse(answer)
            #expect(json["id"]?.int == 2)
            #expect(json["result"]?["Height"] != nil)
            #expect(events[1] == .close(code: 1001))
        }
    }

    /// A later upgrade is refused as a first one is (401 for a bad token), and the connection
    /// closes: after an upgrade request nothing more on it is read as HTTP.
    @Test func aLaterUpgradeWithABadTokenIsRefusedAndClosed() async throws {
        try await withServedPool { served in
            let peer = try await RawWebSocketPeer.open(port: served.port)
            // Sent together: the upgrade waits in the server behind the POST's answer.
            try await peer.sendRaw(
                RawWebSocketPeer.postRequest(#"{"jsonrpc":"2.0","id":1,"method":"Filecoin.ChainHead","params":[]}"#)
                    + RawWebSocketPeer.upgradeRequest(token: "not-a-token"))
            let text = String(decoding: try await peer.bytesUntilClosed(), as: UTF8.self)
            #expect(text.contains(#","id":1}"#))
            #expect(text.contains("HTTP/1.1 401 Unauthorized"))
            #expect(!text.contains("101 Switching Protocols"))
        }
    }

    /// NIO's HTTP decoder reads nothing after a request that asks to switch protocols. A POST
    /// asking for h2c (as `curl --http2` sends it), first on its connection or after other
    /// requests, is answered as HTTP/1.1, and the connection closes rather than leave the
    /// client's next request unread. (NIO's upgrade handler, which fpool no longer uses, dropped
    /// such a first request's head: it was answered 400.)
    @Test func aRequestAskingForAnotherProtocolIsAnsweredThenTheConnectionCloses() async throws {
        let body = #"{"jsonrpc":"2.0","id":2,"method":"Filecoin.ChainHead","params":[]}"#
        let h2c =
            "POST /rpc/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
            + "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        try await withServedPool { served in
            let later = try await RawWebSocketPeer.open(port: served.port)
            try await later.sendRaw(RawWebSocketPeer.postRequest(#"{"jsonrpc":"2.0","id":1,"method":"Filecoin.ChainHead","params":[]}"#))
            await later.waitFor(#","id":1}"#)
            try await later.sendRaw(h2c)
            let first = try await RawWebSocketPeer.open(port: served.port)
            try await first.sendRaw(h2c)
            for peer in [later, first] {
                let text = String(decoding: try await peer.bytesUntilClosed(), as: UTF8.self)
                let last = try #require(text.range(of: "HTTP/1.1", options: .backwards))
                #expect(text[last.lowerBound...].hasPrefix("HTTP/1.1 200 OK"))
                #expect(text[last.lowerBound...].lowercased().contains("connection: close"))
                #expect(text.hasSuffix(#","id":2}"#))
            }
        }
    }

    /// A websocket opened while fpool stops would never get its goodbye: an upgrade on a
    /// keep-alive connection during the graceful stop is refused (503) and the connection closes.
    @Test func aLaterUpgradeDuringAGracefulStopIsRefused() async throws {
        try await withServedPool { served in
            let peer = try await RawWebSocketPeer.open(port: served.port)
            try await peer.sendRaw(RawWebSocketPeer.postRequest(#"{"jsonrpc":"2.0","id":1,"method":"Filecoin.ChainHead","params":[]}"#))
            await peer.waitFor(#","id":1}"#)
            // A call that waits on the chain holds the stop open.
            let client = try await served.client()
            let pushed = try await client.call("Filecoin.MpoolPushMessage", [transfer(), nil])
            let waiting = client.start("Filecoin.StateWaitMsg", [try #require(pushed["CID"]), 1, 100, true])
            await served.cluster.waitForWaiters(daemon: 0, count: 1)
            let stopped = Task { await served.instance.server.stop() }
            await served.logs.waitForLine(containing: "waiting for 1 call(s) in flight before stopping")
            try await peer.upgrade()
            let text = String(decoding: try await peer.bytesUntilClosed(), as: UTF8.self)
            #expect(text.contains("HTTP/1.1 503 Service Unavailable"))
            #expect(!text.contains("101 Switching Protocols"))
            served.cluster.advance(3)
            #expect(try await waiting.result()["Receipt"]?["ExitCode"]?.int == 0)
            await stopped.value
        }
    }

    @Test func unknownPathsAndMethodsGetHTTPErrors() async throws {
        try await withServedPool { served in
            let wrongPath = try await served.post(Array("{}".utf8), path: "/rpc/v9")
            #expect(wrongPath.status == 404)
            let wrongMethod = try await served.post([], path: "/rpc/v1", method: "GET")
            #expect(wrongMethod.status == 405)
        }
    }

    @Test func healthAndMetricsAreServed() async throws {
        try await withServedPool { served in
            _ = try await served.http("Filecoin.ChainHead")
            _ = try await served.http("Filecoin.NoSuchThing")
            let health = try await served.post([], path: "/healthz", method: "GET", token: .some(nil))
            #expect(health.status == 200)
            #expect(health.json?["available"]?.int == 3)
            let metrics = String(
                decoding: try await served.post([], path: "/metrics", method: "GET", token: .some(nil)).body, as: UTF8.self)
            #expect(metrics.contains(#"fpool_calls_total{method="ChainHead",outcome="ok"} 1"#))
            #expect(metrics.contains(#"fpool_calls_total{method="unlisted",outcome="error"} 1"#))
            #expect(metrics.contains(#"fpool_node_up{node="sim-daemon-0"} 1"#))
            #expect(metrics.contains("fpool_call_duration_seconds_bucket"))
            for node in served.pool.nodes { try await served.pool.setNode(node.name, .pause) }
            let down = try await served.post([], path: "/healthz", method: "GET", token: .some(nil))
            #expect(down.status == 503)
            #expect(down.json?["status"]?.string == "unavailable")
        }
    }

    /// Calls answered at once from several sockets (both event loops, every node) are each
    /// counted once, in the calls counter and in the duration histogram.
    @Test func concurrentCallsAreEachCountedOnce() async throws {
        try await withServedPool { served in
            var clients: [LotusWSClient] = []
            for _ in 0..<4 { clients.append(try await served.client()) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (number, client) in clients.enumerated() {
                    group.addTask {
                        let calls = (0..<50).map { call in
                            // Spelled apart (spaces), so each is a flight of its own.
                            client.start(
                                "Filecoin.StateGetActor",
                                rawParams: Array(#"["f0100",\#(String(repeating: " ", count: number * 50 + call))[]]"#.utf8))
                        }
                        for call in calls { _ = try await call.rawResult() }
                    }
                }
                try await group.waitForAll()
            }
            let metrics = String(
                decoding: try await served.post([], path: "/metrics", method: "GET", token: .some(nil)).body, as: UTF8.self)
            #expect(metrics.contains(#"fpool_calls_total{method="StateGetActor",outcome="ok"} 200"#))
            let timed = metrics.split(separator: "\n").filter { $0.hasPrefix(#"fpool_call_duration_seconds_count{method="StateGetActor""#) }
            #expect(timed.compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }.reduce(0, +) == 200, "\(timed)")
        }
    }

    @Test func gracefulStopAnswersCallsInFlight() async throws {
        try await withServedPool { served in
            let client = try await served.client()
            let pushed = try await client.call("Filecoin.MpoolPushMessage", [transfer(), nil])
            let waiting = client.start("Filecoin.StateWaitMsg", [try #require(pushed["CID"]), 1, 100, true])
            // The wait has reached its daemon (node 0: PrimarySeed 0) before the stop begins.
            await served.cluster.waitForWaiters(daemon: 0, count: 1)
            let stopping = Task { await served.instance.server.stop() }
            served.cluster.advance(3)
            #expect(try await waiting.result()["Receipt"]?["ExitCode"]?.int == 0)
            await stopping.value
            // Stopped: its connections are closed and no new one is served.
            await client.waitUntilClosed()
            await #expect(throws: (any Error).self) { _ = try await served.http("Filecoin.ChainHead") }
        }
    }
}
