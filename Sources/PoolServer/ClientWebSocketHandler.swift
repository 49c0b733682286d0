// The channel handler of a client WebSocket: frames read into messages for its session, pings
// and close answered, an idle connection closed, and a client that stays over its write limit
// closed.

import LotusWire
import NIOCore

/// Reads a client WebSocket's frames on the event loop: messages to its session, pings and
/// close answered, protocol violations closed with their code.
///
/// It keeps its own idle clock (the HTTP pipeline's `IdleStateHandler` and `IdleCloser` are
/// removed at the upgrade): two handlers fewer for every frame read and every answer written.
final class ClientWebSocketHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let session: ClientWebSocketSession
    let idleTimeout: TimeAmount
    let slowClientGrace: Duration
    private var reader: WebSocketFrameReader
    /// Set once the connection is closing (the client's close, or the server stopping): no
    /// request is read any more.
    private var closing = false
    private var lastRead = NIODeadline.now()
    private var idleCheck: Scheduled<Void>?
    /// Closes the client unless it reads below the write limit in time.
    private var slowClientClose: Scheduled<Void>?

    init(session: ClientWebSocketSession, maxRequestBytes: Int, idleTimeout: Duration, slowClientGrace: Duration) {
        self.session = session
        // One frame up to 16 MiB (gorilla clients split anything over 4 KiB), a message up to
        // the request limit in up to 2^20 frames, as NIO's decoder and aggregator allowed;
        // every frame masked, as a client's must be (Lotus's own server refuses others too).
        self.reader = WebSocketFrameReader(
            maxFrameSize: min(maxRequestBytes, 1 << 24), maxMessageSize: maxRequestBytes, maxFragments: 1 << 20,
            peerMasking: .masked)
        self.idleTimeout = TimeAmount(idleTimeout)
        self.slowClientGrace = slowClientGrace
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.lastRead = .now()
        self.checkIdle(context, at: self.lastRead + self.idleTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.idleCheck?.cancel()
        self.slowClientClose?.cancel()
    }

    /// Closes the connection when nothing was read for the idle timeout and no call or channel
    /// is open on it; a busy connection is looked at again one timeout later.
    private func checkIdle(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        self.idleCheck = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            let quietSince = self.lastRead + self.idleTimeout
            let now = NIODeadline.now()
            guard now >= quietSince else { return self.checkIdle(context, at: quietSince) }
            if self.session.activity.isIdle {
                self.session.logger.debug("closing a client websocket idle for \(self.idleTimeout)")
                context.close(promise: nil)
            } else {
                self.checkIdle(context, at: now + self.idleTimeout)
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Bytes after a close or a violation are dropped and keep nothing alive; requests that
        // arrive after fpool said goodbye were never started, so the client may send them again.
        guard !self.reader.isFinished, !self.closing else { return }
        self.lastRead = .now()
        do {
            try self.reader.read(Self.unwrapInboundIn(data)) { event in
                switch event {
                case .message(let bytes):
                    self.session.receive(bytes)
                case .ping(let payload):
                    let pong = WebSocketFrameWriter.pong(echoing: payload, masked: false, allocator: context.channel.allocator)
                    context.writeAndFlush(Self.wrapOutboundOut(pong), promise: nil)
                case .pong:
                    break
                case .close:
                    self.closing = true
                    Self.writeClose(context.channel, code: nil, session: self.session)
                }
            }
        } catch {
            // Closed at once: a client that broke the protocol is owed nothing more, and one
            // that stopped reading would otherwise hold the socket open.
            self.session.logger.notice("closing a client websocket: \(error)")
            WebSocketFrameWriter.hangUp(context.channel, after: error, masked: false)
        }
    }

    /// The server is stopping: no new request is read (the client may send it again elsewhere,
    /// it was never started), the calls already started are answered, then the goodbye (1001,
    /// going away) follows every queued answer, so no answer is cut short.
    struct GoingAway {}

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is GoingAway else { return context.fireUserInboundEventTriggered(event) }
        guard !self.closing else { return }
        self.closing = true
        // The stop's own deadline bounds the goodbye: the idle clock must not cut it short.
        self.idleCheck?.cancel()
        let (channel, session) = (context.channel, self.session)
        session.whenCallsAnswered { Self.writeClose(channel, code: 1001, session: session) }
    }

    /// Writes this side's close frame behind the answers already scheduled (writes off the loop
    /// are loop tasks of their own, so the close frame comes last; nothing is written after
    /// it), then closes once it is written: everything before it has then reached the socket.
    private static func writeClose(_ channel: any Channel, code: UInt16?, session: ClientWebSocketSession) {
        channel.eventLoop.execute {
            session.stopWriting()
            let close = WebSocketFrameWriter.close(code: code, masked: false, allocator: channel.allocator)
            channel.writeAndFlush(close).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.idleCheck?.cancel()
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
            self.slowClientClose = channel.eventLoop.scheduleTask(in: TimeAmount(grace)) {
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
