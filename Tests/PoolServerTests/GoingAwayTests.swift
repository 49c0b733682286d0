// A client websocket told that fpool is stopping while its calls are still being answered: it
// reads no new request, answers what it started, and only then says goodbye (1001).

import FPoolTestSupport
import LotusWire
import NIOCore
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
                    socket.pipeline.syncOperations.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
                }.get()
            }
            let late = client.start("Filecoin.ChainHead")
            served.cluster.advance(3)
            #expect(try await waiting.result()["Receipt"]?["ExitCode"]?.int == 0)
            await client.waitUntilClosed()
            #expect(client.closeCode == 1001)
            #expect(await #expect(throws: LotusClientError.self) { _ = try await late.result() }?.isConnectionClosed == true)
            // The channel ends with the connection.
            var values = subscription.values.makeAsyncIterator()
            while await values.next() != nil {}
        }
    }
}

extension GoingAwayTests {
    /// Nothing follows the close frame (RFC 6455 §5.5.1): channel values that come while the
    /// goodbye waits behind a slow reader's answers are dropped, not sent after it. Read from
    /// the raw socket: a frame-level client stops reading at the close frame and would not see.
    @Test func nothingFollowsTheCloseFrame() async throws {
        try await withServedPool { served in
            // The goodbye then waits for no answer, only for the client to read.
            let (peer, lastID) = try await unreadSocketWithTwoChannels(served)
            let socket = try #require(served.instance.server.listener.withLock { $0 }?.openConnections(websocket: true).first)
            try await socket.eventLoop.submit {
                socket.pipeline.syncOperations.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
            }.get()
            try await socket.eventLoop.submit {}.get()
            // New tipsets for both channels while the goodbye waits behind 16 MiB: more than a
            // channel may have unwritten (16), yet no channel takes its client for a slow reader.
            served.cluster.advance(20)
            try await peer.setReading(true)
            let bytes = try await peer.bytesUntilClosed()
            var answered: Set<Int64> = []
            var closeCode: UInt16?
            for event in try await peer.eventsUntilClosed() {
                switch event {
                case .message(let message):
                    if let id = (try? RawRPCFrame(message))?.intID { answered.insert(id) }
                case .close(let code): closeCode = code
                case .ping, .pong, .oversized: break
                }
            }
            #expect(answered.isSuperset(of: Set(1...Int64(lastID))))
            #expect(closeCode == 1001)
            #expect(Array(bytes.suffix(4)) == [0x88, 0x02, 0x03, 0xE9], "the stream ends with the close frame")
            #expect(!served.logs.all.contains { $0.contains("values behind") })
        }
    }
}
