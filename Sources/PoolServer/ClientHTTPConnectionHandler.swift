// The first handler of a client HTTP connection: sees the raw bytes arrive, keeps the
// connection's clock (idle between requests, a deadline for each request) as
// `ClientHTTPStateMachine` decides, and answers a request that is too slow with 408.

import NIOCore

final class ClientHTTPConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var machine: ClientHTTPStateMachine
    private var context: ChannelHandlerContext?
    private var clock: Scheduled<Void>?
    private var clockTime: NIODeadline?
    /// Told of every request answered 408 (the metrics).
    private let timedOut: () -> Void
    /// Told of every connection closed for not reading its answer in time (a log line).
    private let slowReader: () -> Void
    /// Told when the connection starts waiting for a request (true) and when it stops: the
    /// connection cap closes the longest-idle connection to make room.
    private let idle: (Bool) -> Void
    private var reportedIdle = false

    init(
        limits: ClientHTTPLimits, timedOut: @escaping () -> Void = {}, slowReader: @escaping () -> Void = {},
        idle: @escaping (Bool) -> Void = { _ in }
    ) {
        self.machine = ClientHTTPStateMachine(limits: limits, now: .now())
        self.timedOut = timedOut
        self.slowReader = slowReader
        self.idle = idle
    }

    /// Reports a change between waiting for a request and anything else.
    private func reportIdleness() {
        let waiting: Bool
        if case .idle = self.machine.state { waiting = true } else { waiting = false }
        guard waiting != self.reportedIdle else { return }
        self.reportedIdle = waiting
        self.idle(waiting)
    }

    var state: ClientHTTPStateMachine.State { self.machine.state }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.machine = ClientHTTPStateMachine(limits: self.machine.limits, now: context.eventLoop.now)
        self.rearm()
        self.reportIdleness()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.clock?.cancel()
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = Self.unwrapInboundIn(data).readableBytes
        self.machine.bytesArrived(bytes, at: context.eventLoop.now)
        self.rearm()
        if self.reportedIdle { self.reportIdleness() }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.machine.closed()
        self.clock?.cancel()
        context.fireChannelInactive()
    }

    /// From the request handler: a request's head was handed over.
    func requestBegan() {
        self.machine.requestBegan(at: self.now)
        self.rearm()
        self.reportIdleness()
    }

    /// From the request handler: the whole request is read.
    func requestRead() {
        self.machine.requestRead()
    }

    /// From the request handler, as it writes an answer of `bytes`: the client must read it in time.
    func answerWriting(bytes: Int) {
        self.machine.answerWriting(bytes: bytes, at: self.now)
        self.rearm()
    }

    /// From the request handler, once the answer is written and the connection stays open.
    func answered() {
        self.machine.answered(at: self.now)
        self.rearm()
        self.reportIdleness()
    }

    /// From the request handler, as it switches the connection to WebSocket: this handler
    /// leaves with the HTTP ones.
    func upgraded() {
        self.machine.upgraded()
        self.clock?.cancel()
        self.reportIdleness()
    }

    /// The loop's time (virtual on a test's embedded loop).
    private var now: NIODeadline { self.context?.eventLoop.now ?? .now() }

    /// Keeps one scheduled clock, moved earlier when a new state's deadline is; a later
    /// deadline is found when the clock rings.
    private func rearm() {
        guard let context = self.context, let deadline = self.machine.deadline else { return }
        if let scheduled = self.clockTime, scheduled <= deadline, self.clock != nil { return }
        self.clock?.cancel()
        self.clockTime = deadline
        self.clock = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.clock = nil
            self.clockTime = nil
            self.clockRang()
        }
    }

    private func clockRang() {
        guard let context = self.context else { return }
        switch self.machine.clockRang(at: context.eventLoop.now) {
        case .none:
            break
        case .checkAgain:
            self.rearm()
        case .closeIdle:
            context.close(promise: nil)
        case .closeSlowReader:
            // The answer it holds goes with it: a client that reads nothing keeps no memory.
            self.slowReader()
            context.close(promise: nil)
        case .timeOut:
            self.timedOut()
            // Written here, before the HTTP encoder: the request may not even have a head yet.
            let limits = self.machine.limits
            let text =
                "request not received in time: a request must arrive within \(Self.seconds(limits.requestTimeout)) s, plus 1 s per \(limits.minBytesPerSecond) bytes of it\n"
            var buffer = context.channel.allocator.buffer(capacity: 160 + text.utf8.count)
            buffer.writeString(
                "HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: \(text.utf8.count)\r\nConnection: close\r\n\r\n"
            )
            buffer.writeString(text)
            let channel = context.channel
            context.writeAndFlush(Self.wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    private static func seconds(_ amount: TimeAmount) -> String {
        let tenths = amount.nanoseconds / 100_000_000
        return tenths % 10 == 0 ? String(tenths / 10) : String(Double(tenths) / 10)
    }
}
