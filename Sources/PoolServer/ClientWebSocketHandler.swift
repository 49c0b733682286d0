// The channel handler of a client WebSocket: frames to its session, pings and close answered,
// and a client that stays over its write limit closed.

import NIOCore
import NIOWebSocket

/// Feeds a client WebSocket's frames to its session on the event loop; answers pings and close.
final class ClientWebSocketHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    let session: ClientWebSocketSession
    let slowClientGrace: Duration
    /// Closes the client unless it reads below the write limit in time.
    private var slowClientClose: Scheduled<Void>?

    init(session: ClientWebSocketSession, slowClientGrace: Duration) {
        self.session = session
        self.slowClientGrace = slowClientGrace
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            self.session.receive(Self.unmaskedBytes(frame))
        case .ping:
            context.writeAndFlush(Self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .connectionClose:
            // Queued behind the answers already scheduled (writes are their own loop tasks), so
            // the close frame comes last.
            let channel = context.channel
            channel.eventLoop.execute {
                let close = WebSocketFrame(fin: true, opcode: .connectionClose, data: ByteBuffer())
                channel.writeAndFlush(close).whenComplete { _ in channel.close(promise: nil) }
            }
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.slowClientClose?.cancel()
        self.session.tearDown()
        context.fireChannelInactive()
    }

    /// The frame's payload, unmasked straight into the array the session reads (one copy).
    static func unmaskedBytes(_ frame: WebSocketFrame) -> [UInt8] {
        var bytes = Array(frame.data.readableBytesView)
        guard let key = frame.maskKey else { return bytes }
        bytes.withUnsafeMutableBufferPointer { buffer in
            for index in buffer.indices { buffer[index] ^= key[index & 3] }
        }
        return bytes
    }

    /// Past the write limit for longer than the grace, the client has stopped reading its answers.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let channel = context.channel
        if channel.isWritable {
            self.slowClientClose?.cancel()
            self.slowClientClose = nil
        } else if self.slowClientClose == nil {
            let logger = self.session.logger
            let grace = self.slowClientGrace
            let delay = TimeAmount.nanoseconds(grace.components.seconds * 1_000_000_000 + grace.components.attoseconds / 1_000_000_000)
            self.slowClientClose = channel.eventLoop.scheduleTask(in: delay) {
                guard !channel.isWritable else { return }
                logger.warning("a client is not reading its websocket (over its write limit for \(grace)); closing it")
                channel.close(promise: nil)
            }
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
