// One client HTTP/1.1 connection (go-jsonrpc in HTTP mode, curl, scripts): each request is
// read, routed and answered on the connection's event loop, and a read whose node is known goes
// upstream without a task, as over WebSocket. NIO's pipelining handler hands over one request
// at a time, so answers keep the order of the requests.

import NIOCore
import NIOHTTP1
import Synchronization

final class ClientHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let server: PoolRPCServer
    private let activity: ConnectionActivity
    /// The connection's loop as the executor of calls that need a task.
    private let executor: EventLoopTaskExecutor
    /// The call being answered, given up if the connection closes first.
    private let pending = PendingHTTPCall()
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooBig = false
    /// What the request's head asked for.
    private var admission: PoolRPCServer.HTTPAdmission?

    init(server: PoolRPCServer, activity: ConnectionActivity, channel: any Channel) {
        self.server = server
        self.activity = activity
        self.executor = EventLoopTaskExecutor(eventLoop: channel.eventLoop)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let requestHead):
            self.head = requestHead
            self.body = []
            self.tooBig = false
            self.admission = self.server.admit(requestHead)
            self.activity.enter()
        case .body(let buffer):
            guard case .rpc = self.admission, !self.tooBig else { return }
            if self.body.count + buffer.readableBytes > self.server.configuration.maxRequestBytes {
                self.tooBig = true
                self.body = []
            } else {
                self.body += buffer.readableBytesView
            }
        case .end:
            // The request's state is taken before answering: an answer written here lets the
            // pipelining handler deliver the next request at once, into this same handler.
            let (head, admission, body, tooBig) = (self.head, self.admission, self.body, self.tooBig)
            (self.head, self.admission, self.body, self.tooBig) = (nil, nil, [], false)
            let respond = self.responder(for: head, channel: context.channel)
            if let admission {
                // A handle only for an answer still to come (an answer given at once may already
                // have let the next request in, with a handle of its own).
                if let giveUp = self.server.answerHTTP(admission, body: body, tooBig: tooBig, executor: self.executor, respond) {
                    self.pending.set(giveUp)
                }
            } else {
                // NIO keeps the head of a refused WebSocket upgrade; answer as Lotus would.
                let refusal = self.server.listener.withLock { $0 }?.takeRefusal(context.channel)
                respond(.init(status: refusal?.0 ?? .badRequest, text: refusal?.1 ?? "bad request\n", close: true))
            }
        }
    }

    /// Writes one answer (on the loop; one flush), then closes unless the connection stays open.
    private func responder(for head: HTTPRequestHead?, channel: any Channel) -> @Sendable (PoolRPCServer.HTTPAnswer) -> Void {
        let (server, activity, pending) = (self.server, self.activity, self.pending)
        return { answer in
            guard channel.eventLoop.inEventLoop else {
                return channel.eventLoop.execute {
                    pending.set(nil)
                    Self.write(answer, head: head, channel: channel, server: server, activity: activity)
                }
            }
            pending.set(nil)
            Self.write(answer, head: head, channel: channel, server: server, activity: activity)
        }
    }

    private static func write(
        _ answer: PoolRPCServer.HTTPAnswer, head: HTTPRequestHead?, channel: any Channel, server: PoolRPCServer,
        activity: ConnectionActivity
    ) {
        var headers = HTTPHeaders([("Content-Length", String(answer.body.count)), ("Content-Type", answer.contentType)])
        let keepAlive = !answer.close && (head?.isKeepAlive ?? false) && server.listener.withLock({ $0 })?.isAccepting == true
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        channel.write(
            HTTPServerResponsePart.head(HTTPResponseHead(version: head?.version ?? .http1_1, status: answer.status, headers: headers)),
            promise: nil)
        channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: answer.body))), promise: nil)
        let written = channel.writeAndFlush(HTTPServerResponsePart.end(nil))
        if head != nil { activity.leave() }
        written.whenComplete { _ in
            answer.written?()
            if !keepAlive { channel.close(promise: nil) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.pending.giveUp()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// The one call an HTTP connection is waiting for (requests are answered one at a time).
final class PendingHTTPCall: Sendable {
    private let giveUpHandle = Mutex<(@Sendable () -> Void)?>(nil)

    func set(_ handle: (@Sendable () -> Void)?) { self.giveUpHandle.withLock { $0 = handle } }

    func giveUp() {
        self.giveUpHandle.withLock { handle in
            defer { handle = nil }; return handle
        }?()
    }
}
