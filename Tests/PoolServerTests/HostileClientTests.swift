// Clients that try to cost fpool unbounded memory or connections, on loopback: a websocket
// that floods requests and reads nothing, one with too many calls open, a request that never
// finishes, and a flood of connections.

import FPoolTestSupport
import LotusSim
import LotusWire
import NIOCore
import Testing

@testable import PoolServer

// Serialized: the memory a flood costs is read from this process, and the oversized request's
// 20 MB buffers would blur it.
@Suite(.serialized, .timeLimit(.minutes(1))) struct HostileClientTests {
    @Test("a websocket flooding requests and reading nothing costs bounded memory, and gets every answer once it reads")
    func nonReadingFloodIsBounded() async throws {
        // The default cap on calls in flight (2,048) bounds what is started before the first
        // answers come back; the write bound then stops the reading.
        try await withServedPool(nodes: 1, configure: { configuration, _ in configuration.maxQueuedBytes = 1 << 20 }) { served in
            let before = try #require(residentBytes())
            let requests = (1...15_000).map { #"{"jsonrpc":"2.0","id":\#($0),"method":"Filecoin.ChainHead","params":[]}"# }
            let client = try await FloodingWebSocketClient.connect(port: served.port)
            try await client.setReading(false)
            client.flood(requests)
            await served.logs.waitForLine(containing: "not reading its answers fast enough")
            // Nothing marks "fpool read no more": give it time to (it would, unbounded), and
            // stop looking once no new call has started for half a second (most are answered
            // from the head feed, without the daemon).
            let started = await Self.settled(timeLimit: .seconds(10)) { served.pool.callIDs["ChainHead"] ?? 0 }
            let paused = try #require(residentBytes())
            // About 5,000 here: the cap, what the kernel's socket buffers hold, and the bound.
            #expect(started < 12_000, "fpool went on reading: \(started) of 15,000 requests started")
            // Other suites run meanwhile in this process, so only a loose bound: the count above
            // shows fpool stopped reading; Benchmarks/hostile measures fpool's memory alone.
            #expect(paused - before < 256 << 20, "resident memory grew by \(paused - before) bytes")
            #expect(client.answers == 0)
            try await client.setReading(true)
            await client.waitForAnswers(requests.count)
            #expect(client.answers == requests.count)
            await client.close()
        }
    }

    @Test("coalesced reads answered to a client reading nothing wait unframed, sharing one result, and all arrive, goodbye or not")
    func answersToAClientReadingNothingWaitUnframed() async throws {
        try await withServedPool(
            nodes: 1,
            configure: { configuration, environment in
                configuration.maxQueuedBytes = 64 << 10
                environment.settings.cacheBytes = 0
                environment.settings.hedgeDelay = .off
            }
        ) { served in
            // The largest of the miners' states: 2–48 KiB each, base64 in the answer.
            let helper = try await served.client()
            var largest: (cid: JSON, size: Int) = (.null, 0)
            for miner in SimFixtures.miners {
                let head = try #require(try await helper.call("Filecoin.StateGetActor", [.string(miner), []])["Head"])
                let size = try await helper.call("Filecoin.ChainReadObj", [head]).encoded().count
                if size > largest.size { largest = (head, size) }
            }
            // 1,500 identical reads in flight on a slow daemon share one upstream call, then
            // one answer: megabytes more than the socket buffers hold.
            try await served.cluster.inject(.latency(milliseconds: 500), daemon: 0)
            let count = 1_500
            let read =
                #"{"jsonrpc":"2.0","method":"Filecoin.ChainReadObj","params":["# + String(decoding: largest.cid.encoded(), as: UTF8.self)
            let client = try await FloodingWebSocketClient.connect(port: served.port)
            try await client.setReading(false)
            client.flood((1...count).map { read + #"],"id":\#($0)}"# })
            // Before, each caller's copy was framed into the socket's buffer at once.
            let waiting = { served.instance.server.answersWaiting.held }
            let fitting = (8 << 20) / largest.size
            #expect(await holds { waiting() >= count - fitting }, "\(waiting()) answers waiting of \(count) of \(largest.size) bytes")
            let server = served.instance.server
            let scraped = String(decoding: server.metrics.scrape(served.pool, clients: server.clientFigures), as: UTF8.self)
            #expect(scraped.contains("fpool_websocket_answers_waiting \(waiting())"))
            // A graceful stop now: every answer owed still goes before the goodbye.
            let socket = try #require(served.instance.server.listener.withLock { $0 }?.openConnections(websocket: true).first)
            try await socket.eventLoop.submit { socket.pipeline.syncOperations.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent()) }
                .get()
            try await socket.eventLoop.submit {}.get()
            // They are not all framed at once for it: the close frame waits behind them.
            #expect(waiting() >= count - fitting)
            try await client.setReading(true)
            await client.waitForAnswers(count)
            #expect(client.answers == count && waiting() == 0)
            await client.close()
        }
    }

    @Test("a backlog of calls fpool answers at once (ChainHead from the head feed) is served without deepening the stack")
    func backlogAnsweredAtOnce() async throws {
        try await withServedPool(nodes: 1) { served in
            await served.cluster.waitForSubscriptions(total: 1)
            let count = 20_000
            let chainHead = #"{"jsonrpc":"2.0","method":"Filecoin.ChainHead","params":[]"#
            // Over WebSocket: held behind the cap on calls in flight, then started one after another.
            let client = try await FloodingWebSocketClient.connect(port: served.port)
            client.flood((1...count).map { chainHead + #","id":\#($0)}"# })
            await client.waitForAnswers(count)
            #expect(client.answers == count)
            await client.close()
            // Over HTTP: pipelined on one connection, the last asking to close it.
            let peer = try await RawWebSocketPeer.open(port: served.port)
            let body = chainHead + #","id":1}"#
            let request = RawWebSocketPeer.postRequest(body)
            try await peer.sendRaw(
                String(repeating: request, count: count - 1) + request.replacingOccurrences(of: "Host:", with: "Connection: close\r\nHost:")
            )
            let answers = String(decoding: try await peer.bytesUntilClosed(), as: UTF8.self)
            #expect(answers.components(separatedBy: "HTTP/1.1 200 OK").count - 1 == count)
            // None of it reached the daemon, and fpool still serves.
            #expect(served.cluster.calls(daemon: 0) < 100)
            #expect(try await served.client().call("Filecoin.ChainHead")["Height"]?.int == 0)
        }
    }

    /// The value `read` gives once it has not changed for 500 ms (or at the time limit).
    static func settled(timeLimit: Duration, _ read: () -> UInt64) async -> UInt64 {
        let end = ContinuousClock.now + timeLimit
        var last = read()
        var since = ContinuousClock.now
        while ContinuousClock.now < end {
            try? await Task.sleep(for: .milliseconds(100))
            let now = read()
            if now != last {
                (last, since) = (now, .now)
            } else if ContinuousClock.now - since >= .milliseconds(500) {
                break
            }
        }
        return last
    }

    @Test("a websocket at its cap on calls in flight starts no more until one is answered, and loses none")
    func callsInFlightAreCapped() async throws {
        try await withServedPool(nodes: 1, configure: { configuration, _ in configuration.maxCallsInFlight = 20 }) { served in
            let client = try await served.client()
            let pushed = try await client.call("Filecoin.MpoolPushMessage", [transfer(), nil])
            let cid = try #require(pushed["CID"])
            // Waits that end only when the chain moves 100 epochs past the message; each looks back
            // a different depth, so no two are identical reads sharing one upstream call.
            let waits = (0..<30).map { index in client.start("Filecoin.StateWaitMsg", [cid, 100, .int(Int64(200 + index)), true]) }
            await served.cluster.waitForWaiters(daemon: 0, count: 20)
            await served.logs.waitForLine(containing: "20 calls in flight, its limit")
            #expect(served.cluster.waitingCalls(daemon: 0) == 20)
            _ = served.cluster.advance(102)
            for wait in waits { #expect(try await wait.result()["Receipt"]?["ExitCode"]?.int == 0) }
        }
    }

    @Test("an HTTP request whose body never finishes is answered 408 and closed at its deadline")
    func stalledBodyIsClosed() async throws {
        try await withServedPool(nodes: 1, configure: { configuration, _ in configuration.requestTimeout = .milliseconds(500) }) {
            served in
            let peer = try await RawWebSocketPeer.open(port: served.port)
            let body = #"{"jsonrpc":"2.0","id":1,"method":"Filecoin.ChainHead","params":["# + String(repeating: "1,", count: 50_000)
            try await peer.sendRaw(
                "POST /rpc/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n\(body)")
            let answer = String(decoding: try await peer.bytesUntilClosed(), as: UTF8.self)
            #expect(answer.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
            #expect(
                String(decoding: served.instance.server.metrics.registry.emitToBuffer(), as: UTF8.self).contains(
                    "fpool_client_request_timeouts_total 1"))
        }
    }

    @Test("an HTTP client that does not read its answer is closed at the answer's deadline, and the answer goes with it")
    func anHTTPClientThatReadsNothingIsClosed() async throws {
        try await withServedPool(
            nodes: 1,
            configure: { configuration, _ in
                configuration.requestTimeout = .milliseconds(500)
                configuration.minRequestBytesPerSecond = 64 << 20
            }
        ) { served in
            let peer = try await RawWebSocketPeer.open(port: served.port)
            try await peer.setReading(false)
            // An unknown method's name comes back in its error: a 20 MB name is a 20 MB answer,
            // more than the sockets' buffers hold.
            let body = #"{"jsonrpc":"2.0","id":1,"method":""# + String(repeating: "x", count: 20 << 20) + #"","params":[]}"#
            try await peer.sendRaw(RawWebSocketPeer.postRequest(body))
            // Before, the connection and its answer were held for as long as the client lived.
            await served.logs.waitForLine(containing: "did not read its answer in time")
            try await peer.setReading(true)
            let answer = try await peer.bytesUntilClosed()
            #expect(answer.count < 20 << 20)
        }
    }

    @Test("a websocket message left unfinished is closed at its deadline, and its part of the body budget comes back")
    func anUnfinishedWebSocketMessageIsClosed() async throws {
        // Two seconds: long enough that a test task waiting its turn on a loaded machine still
        // sees the budget held before the deadline.
        try await withServedPool(nodes: 1, configure: { configuration, _ in configuration.requestTimeout = .seconds(2) }) {
            served in
            let peer = try await RawWebSocketPeer.connect(port: served.port)
            // A masked text frame announcing 100,000 bytes (a 64-bit length), of which 1,000 come.
            let header: [UInt8] = [0x81, 0xFF, 0, 0, 0, 0, 0, 0x01, 0x86, 0xA0, 1, 2, 3, 4]
            try await peer.sendRaw(bytes: header + [UInt8](repeating: 0x20, count: 1_000))
            #expect(await holds { served.instance.server.bodyBudget.held > 0 })
            // A byte now and then, past the deadline, does not keep it: before, every read reset
            // the only clock there was.
            for _ in 0..<15 {
                try? await peer.sendRaw(bytes: [0x20])
                try? await Task.sleep(for: .milliseconds(200))
            }
            #expect(try await peer.eventsUntilClosed() == [.close(code: 1008)])
            await served.logs.waitForLine(containing: "a message was not finished in time (")
            #expect(await holds { served.instance.server.bodyBudget.held == 0 })
        }
    }

    @Test("at the cap on connections, the longest-idle connection makes room for a new client")
    func connectionCapClosesTheLongestIdle() async throws {
        try await withServedPool(nodes: 1, configure: { configuration, _ in configuration.maxConnections = 4 }) { served in
            // The first has been idle since its answer, before the others were opened.
            let first = try await RawWebSocketPeer.open(port: served.port)
            try await first.sendRaw("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            await first.waitFor("\"status\"")
            var idle = [first]
            for _ in 0..<3 { idle.append(try await RawWebSocketPeer.open(port: served.port)) }
            // Connected is not yet accepted: on a loaded machine the call below could otherwise
            // be admitted before the last of them, and nobody would be over the cap.
            #expect(await holds { served.instance.server.budget.count == 4 })
            let call = try await served.http("Filecoin.ChainHead", token: .some(nil))
            #expect(call.status == 200)
            // The one idle the longest was closed for it (after its answer, nothing more).
            let bytes = String(decoding: try await idle[0].bytesUntilClosed(), as: UTF8.self)
            #expect(bytes.hasPrefix("HTTP/1.1 200 OK") && bytes.hasSuffix("}"))
            #expect(
                String(decoding: served.instance.server.metrics.registry.emitToBuffer(), as: UTF8.self).contains(
                    "fpool_client_connections_evicted_total"))
        }
    }

    @Test("past the cap with no idle connection, /healthz still answers on the reserve, and further connections are closed at once")
    func connectionCapKeepsHealthz() async throws {
        try await withServedPool(
            nodes: 1,
            configure: { configuration, _ in
                configuration.maxConnections = 4
                configuration.connectionReserve = 2
            }
        ) { served in
            // Websockets are busy connections, never closed to make room.
            var busy: [RawWebSocketPeer] = []
            for _ in 0..<4 {
                let peer = try await RawWebSocketPeer.connect(port: served.port)
                await peer.waitFor("101 Switching Protocols")
                busy.append(peer)
            }
            // Over the cap, on the reserve: monitoring answers, a call does not.
            let health = try await served.post([], path: "/healthz", method: "GET")
            #expect(health.status == 200)
            let call = try await served.http("Filecoin.ChainHead", token: .some(nil))
            #expect(call.status == 503)
            // The reserve is taken too: the next connection is closed before anything is read.
            var reserve: [RawWebSocketPeer] = []
            for _ in 0..<2 { reserve.append(try await RawWebSocketPeer.open(port: served.port)) }
            let refused = try await RawWebSocketPeer.open(port: served.port)
            #expect(try await refused.bytesUntilClosed().isEmpty)
            // The daemons are still checked.
            await served.pool.heartbeat()
            #expect(served.pool.health.healthy == 1)
            #expect(
                String(decoding: served.instance.server.metrics.registry.emitToBuffer(), as: UTF8.self).contains(
                    "fpool_client_connections_refused_total"))
            _ = (busy, reserve)
        }
    }

    @Test("a 20 MB request reaches a daemon in frames it accepts: no daemon socket drops, another client's channel goes on")
    func oversizedRequestKeepsDaemonSockets() async throws {
        try await withServedPool { served in
            let watcher = try await served.client()
            let subscription = try await watcher.subscribe("Filecoin.ChainNotify")
            var values = subscription.values.makeAsyncIterator()
            _ = await values.next()
            // One address of 20 MB, from a client without a token: the simulated daemon, as a
            // gorilla server with a frame limit would, drops a socket that sends it as one frame.
            let body =
                #"{"jsonrpc":"2.0","id":1,"method":"Filecoin.WalletBalance","params":[""# + String(repeating: "a", count: 20 << 20)
                + #""]}"#
            let earlier = served.logs.all.count
            let response = try await served.post(Array(body.utf8), token: .some(nil))
            let message = response.json?["error"]?["message"]?.string ?? ""
            #expect(!message.isEmpty && !message.contains("unreachable") && !message.contains("did not answer"), "\(message.prefix(200))")
            _ = served.cluster.advance(1)
            #expect(await values.next() != nil)
            let later = served.logs.all.dropFirst(earlier)
            #expect(!later.contains { $0.contains("unreachable") || $0.contains("client channel") }, "\(later)")
        }
    }

    @Test("large requests are read off the event loop and answered as small ones are, over both transports")
    func largeRequestsAreAnsweredAsSmallOnes() async throws {
        try await withServedPool(nodes: 1) { served in
            let address = String(repeating: "a", count: 1 << 20)
            let client = try await served.client()
            let large = await #expect(throws: RPCError.self) { _ = try await client.call("Filecoin.WalletBalance", [.string(address)]) }
            let small = await #expect(throws: RPCError.self) { _ = try await client.call("Filecoin.WalletBalance", ["x"]) }
            #expect(large?.code == small?.code)
            let body = #"{"jsonrpc":"2.0","id":7,"method":"Filecoin.ChainHead","params":[],"pad":""# + address + #""}"#
            let response = try await served.post(Array(body.utf8), token: .some(nil))
            #expect(response.json?["id"]?.int == 7 && response.json?["result"]?["Height"] != nil)
        }
    }

    @Test("unfinished bodies together are bounded: past the budget one is refused with 503, not buffered")
    func bufferedBodiesAreBounded() async throws {
        try await withServedPool(
            nodes: 1,
            configure: { configuration, _ in
                configuration.maxRequestBytes = 512 << 10
                configuration.maxBufferedRequestBytes = 1 << 20
            }
        ) { served in
            // Three bodies of 400 kB each, none finished: two fit in 1 MiB, the third does not.
            let request =
                "POST /rpc/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 500000\r\n\r\n[" + String(repeating: "1,", count: 200_000)
            var peers: [RawWebSocketPeer] = []
            for _ in 0..<3 {
                let peer = try await RawWebSocketPeer.open(port: served.port)
                try await peer.sendRaw(request)
                peers.append(peer)
            }
            let refused = await withTaskGroup(of: String.self) { group in
                for peer in peers { group.addTask { String(decoding: (try? await peer.bytesUntilClosed()) ?? [], as: UTF8.self) } }
                let first = await group.next() ?? ""
                group.cancelAll()
                return first
            }
            #expect(refused.hasPrefix("HTTP/1.1 503"), "\(refused.prefix(200))")
            #expect(served.instance.server.bodyBudget.held <= 1 << 20)
        }
    }

    @Test("calls waiting for their answer hold the request budget: past it a connection's calls wait for its own, or are refused by name")
    func callsInFlightHoldTheRequestBudget() async throws {
        // Room for four 240 kB waits (each charged with 2 KiB for its call) and under 2 KiB more.
        let blanks = [UInt8](repeating: 0x20, count: 240_000)
        try await withServedPool(
            nodes: 1,
            configure: { configuration, _ in
                configuration.maxRequestBytes = 250_000
                configuration.maxBufferedRequestBytes = 4 * (blanks.count + HeldRequestCharge.perCall + 250) + 1_500
            }
        ) { served in
            let client = try await served.client()
            let cid = try #require(try await client.call("Filecoin.MpoolPushMessage", [transfer(), nil])["CID"])
            // Waits that end when the chain moves 100 epochs on, with blanks in their params,
            // one per connection (a connection's calls hold at most a quarter of the budget):
            // before, a request stopped counting once read, however long its call waited.
            var clients = [client]
            for _ in 1..<4 { clients.append(try await served.client()) }
            let waits = clients.enumerated().map { index, client in
                client.start(
                    "Filecoin.StateWaitMsg", rawParams: Array("[".utf8) + blanks + cid.encoded() + Array(",100,\(200 + index),true]".utf8))
            }
            await served.cluster.waitForWaiters(daemon: 0, count: 4)
            #expect(served.instance.server.bodyBudget.held >= 4 * blanks.count)
            // A connection with no call of its own in flight is refused by name, at once.
            let other = try await served.client()
            let refused = try await rpcError { try await other.call("Filecoin.ChainHead") }
            #expect(refused?.message.contains("its limit (--max-buffered-request-bytes)") == true, "\(String(describing: refused))")
            // One whose own calls will give some back waits for them instead, a request larger
            // than a socket read too, rather than closing with its calls.
            let small = client.start("Filecoin.ChainHead")
            let large = client.start("Filecoin.ChainHead", rawParams: Array("[".utf8) + blanks[..<200_000] + Array("]".utf8))
            await served.logs.waitForLine(containing: "reading a client websocket paused until one of its calls is answered")
            _ = served.cluster.advance(102)
            for wait in waits { #expect(try await wait.result()["Receipt"]?["ExitCode"]?.int == 0) }
            #expect(try await small.result()["Height"] != nil)
            #expect(try await large.result()["Height"] != nil)
            #expect(try await other.call("Filecoin.ChainHead")["Height"] != nil)
            #expect(await holds { served.instance.server.bodyBudget.held == 0 })
            // Over HTTP the body stays charged while its call waits (50 epochs more than the
            // chain has moved), and comes back with the answer.
            let body =
                Array(#"{"jsonrpc":"2.0","id":1,"method":"Filecoin.StateWaitMsg","params":["#.utf8) + blanks + cid.encoded()
                + Array(",150,400,true]}".utf8)
            let answer = Task { try await served.post(body) }
            await served.cluster.waitForWaiters(daemon: 0, count: 1)
            #expect(served.instance.server.bodyBudget.held >= blanks.count)
            _ = served.cluster.advance(102)
            #expect(try await answer.value.json?["result"]?["Receipt"]?["ExitCode"]?.int == 0)
            #expect(await holds { served.instance.server.bodyBudget.held == 0 })
        }
    }

    @Test("channels past a connection's limit, or every connection's, are refused; closing one makes room")
    func channelsAreCapped() async throws {
        try await withServedPool(
            nodes: 1,
            configure: { configuration, _ in
                configuration.maxChannelsPerConnection = 3
                configuration.maxChannels = 4
            }
        ) { served in
            let first = try await served.client()
            var open: [LotusSubscription] = []
            for _ in 0..<3 { open.append(try await first.subscribe("Filecoin.ChainNotify")) }
            let refused = try await rpcError {
                _ = try await first.subscribe("Filecoin.ChainNotify")
                return nil
            }
            #expect(refused?.message.contains("this connection has 3 channels open, its limit") == true, "\(String(describing: refused))")
            let second = try await served.client()
            _ = try await second.subscribe("Filecoin.ChainNotify")
            let shared = try await rpcError {
                _ = try await second.subscribe("Filecoin.ChainNotify")
                return nil
            }
            #expect(shared?.message.contains("4 channels are open across all connections") == true, "\(String(describing: shared))")
            // A channel the client cancels gives its place back.
            first.cancel(requestID: open[0].requestID)
            #expect(await holds { served.instance.server.channelBudget.held == 3 })
            _ = try await second.subscribe("Filecoin.ChainNotify")
            // A connection that closes gives back every place it held.
            await first.close()
            #expect(await holds { served.instance.server.channelBudget.held == 2 })
        }
    }

    @Test("the body budget takes what fits and gives it back")
    func bodyBudgetValue() {
        let budget = SharedBudget(limit: 1000)
        #expect(budget.take(600))
        #expect(!budget.take(600))
        #expect(budget.held == 600)
        budget.giveBack(600)
        #expect(budget.take(1000))
    }
}
