// A plain TCP connection for the hostile patterns: bytes written as the caller likes, what the
// proxy answers kept (its first bytes: a status line), and when the proxy closed it.

import LoadKit
import NIOCore
import NIOPosix
import Synchronization

/// One raw connection to the proxy; thread-safe.
final class RawConnection: Sendable {
    private struct State {
        var received: [UInt8] = []
        var receivedBytes = 0
        var closedAt: UInt64?
    }

    let channel: any Channel
    private let recorder: Recorder

    private init(channel: any Channel, recorder: Recorder) {
        self.channel = channel
        self.recorder = recorder
    }

    /// Connects to `host:port`; with `autoRead` off nothing the proxy sends is read.
    ///
    /// - Throws: when the connection is refused or not made within 5 s.
    static func open(host: String = "127.0.0.1", port: Int, group: any EventLoopGroup, autoRead: Bool = true) async throws
        -> RawConnection
    {
        let recorder = Recorder()
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.autoRead, value: autoRead)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(recorder) }
            }
            .connect(host: host, port: port)
            .get()
        return RawConnection(channel: channel, recorder: recorder)
    }

    /// Writes and flushes `buffer`; returns when the kernel took it.
    ///
    /// - Throws: when the connection is closed or reset first.
    func write(_ buffer: ByteBuffer) async throws {
        try await self.channel.writeAndFlush(buffer).get()
    }

    func write(_ text: String) async throws {
        try await self.write(ByteBuffer(string: text))
    }

    /// When the proxy closed the connection (or it failed), in `nowNanos()` time.
    var closedAt: UInt64? { self.recorder.state.withLock { $0.closedAt } }

    /// The first line the proxy sent, if any (`HTTP/1.1 408 Request Timeout`).
    var statusLine: String? {
        self.recorder.state.withLock { state in
            guard !state.received.isEmpty else { return nil }
            let line = state.received.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }
            return String(decoding: line, as: UTF8.self)
        }
    }

    func close() {
        self.channel.close(promise: nil)
    }

    /// Keeps the first bytes received and notes the close.
    private final class Recorder: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer

        let state = Mutex(State())

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = self.unwrapInboundIn(data)
            self.state.withLock { state in
                state.receivedBytes += buffer.readableBytes
                if state.received.count < 512 { state.received += buffer.readableBytesView.prefix(512 - state.received.count) }
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.state.withLock { state in
                if state.closedAt == nil { state.closedAt = nowNanos() }
            }
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
