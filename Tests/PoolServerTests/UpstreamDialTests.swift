// A daemon whose kernel takes the connection while the process says nothing (frozen, or its
// TLS or upgrade stuck): the dial gives up at its handshake deadline, instead of waiting, with
// every heartbeat behind it, for as long as the socket lives.

import LotusWire
import NIOCore
import NIOPosix
import Testing

@Suite(.timeLimit(.minutes(1))) struct UpstreamDialTests {
    @Test func aDialToAListenerThatNeverAnswersGivesUpAtItsDeadline() async throws {
        // Accepts connections and never writes a byte.
        let silent = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { $0.eventLoop.makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(silent.localAddress?.port)
        await #expect(throws: LotusClientError.handshakeTimedOut(.milliseconds(300))) {
            _ = try await LotusWSClient.connect(host: "127.0.0.1", port: port, handshakeTimeout: .milliseconds(300))
        }
        try await silent.close()
    }
}
