// A client websocket told that fpool is stopping while its calls are still being answered: it
// reads no new request, answers what it started, and only then says goodbye (1001).

import FPoolTestSupport
import LotusWire
import Testing

@testable import PoolServer

@Suite(.timeLimit(.minutes(1))) struct GoingAwayTests {
    /// The goodbye waits for a call still waiting at its daemon (the stop's wait for calls in
    /// flight can end before a call that started just after it), with a channel open; a
    /// request sent after the goodbye began is never started.
    @Test func aWebSocketGoingAwayAnswersItsCallsThenSaysGoodbye() async throws {
        try await withServedPool { served in
            let client = try await served.client()
            let subscription = try await client.subscribe("Filecoin.ChainNotify")
            let pushed = try await client.call("Filecoin.MpoolPushMessage", [transfer(), nil])
            let waiting = client.start("Filecoin.StateWaitMsg", [try #require(pushed["CID"]), 1, 100, true])
            await served.cluster.waitForWaiters(daemon: 0, count: 1)
            let sockets = served.instance.server.listener.withLock { $0 }?.openConnections(websocket: true) ?? []
            #expect(sockets.count == 1)
            for socket in sockets {
                try await socket.eventLoop.submit {
                    socket.pipeline.syncOperations.fireUserInboundEventTriggered(ClientWebSocketHandler.GoingAway())
                }.get()
            }
            let late = client.start("Filecoin.ChainHead")
            served.cluster.advance(3)
            #expect(try await waiting.result()["Receipt"]?["ExitCode"]?.int == 0)
            await client.waitUntilClosed()
            #expect(client.closeCode == 1001)
            await #expect(throws: LotusClientError.connectionClosed) { _ = try await late.result() }
            // The channel ends with the connection.
            var values = subscription.values.makeAsyncIterator()
            while await values.next() != nil {}
        }
    }
}
