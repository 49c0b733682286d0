// The channel handler of a client WebSocket: frames read into messages for its session, pings
// and close answered, and a client that stays over its write limit closed.

import LotusWire
import NIOCore

/// Reads a client WebSocket's frames on the event loop: messages to its session, pings and
/// close answered, protocol violations closed with their code.
final class ClientWebSocketHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let session: ClientWebSocketSession
    let slowClientGrace: Duration
    private var reader: WebSocketFrameReader
    /// Closes the client unless it reads below the write limit in time.
    private var slowClientClose: Scheduled<Void>?

    init(session: ClientWebSocketSession, maxRequestBytes: Int, slowClientGrace: Duration) {
        self.session = session
        self.reader = WebSocketFrameReader(maxFrameSize: maxRequestBytes, maxMessageSize: maxRequestBytes)
        self.slowClientGrace = slowClientGrace
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            try self.reader.read(Self.unwrapInboundIn(data)) { event in
                switch event {
                case .message(let bytes):
                    self.session.receive(bytes)
                case .ping(let payload):
                    let pong = payload.withUnsafeBytes {
                        WebSocketFrameWriter.frame(opcode: 0xA, fin: true, payload: $0, masked: false, allocator: context.channel.allocator)
                    }
                    context.writeAndFlush(Self.wrapOutboundOut(pong), promise: nil)
                case .pong:
                    break
                case .close:
                    // Queued behind the answers already scheduled (writes are their own loop
                    // tasks), so the close frame comes last.
                    self.closeAfterQueuedWrites(context.channel, code: nil)
                }
            }
        } catch {
            self.session.logger.notice("closing a client websocket: \(error)")
            self.closeAfterQueuedWrites(context.channel, code: error.closeCode)
        }
    }

    /// Sends a close frame behind what is already queued on the loop, then closes.
    private func closeAfterQueuedWrites(_ channel: any Channel, code: UInt16?) {
        channel.eventLoop.execute {
            let close = WebSocketFrameWriter.close(code: code, masked: false, allocator: channel.allocator)
            channel.writeAndFlush(close).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.slowClientClose?.cancel()
        self.session.tearDown()
        context.fireChannelInactive()
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
