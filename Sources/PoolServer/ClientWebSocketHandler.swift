// The channel handler of a client WebSocket: frames read into requests for its session, pings
// and close answered, and the connection's lifecycle (back-pressure, idle, slow reader, graceful
// stop) carried out as `ClientWebSocketStateMachine` decides.

import LotusWire
import Logging
import NIOCore

/// What a client websocket's requests are served by (`ClientWebSocketSession`; a stand-in in
/// the handler's tests). Each request given to `receive` is reported back exactly once, on the
/// connection's loop, through `ClientWebSocketHandler.requestAnswered(releasing:)`.
protocol ClientWebSocketRequests: AnyObject, Sendable {
    var logger: Logger { get }
    /// Whether a channel (ChainNotify, …) is open: the connection is then busy, not idle.
    var hasOpenChannels: Bool { get }
    /// Called once the handler is in the pipeline, on the loop.
    func attach(_ handler: ClientWebSocketHandler)
    /// One request's bytes, on the loop, with `charge` taken from the request budget: it is
    /// given back when the request is answered.
    func receive(_ bytes: [UInt8], charge: Int)
    /// A request (small enough to read on the loop) that the request budget has no room for,
    /// on a connection with no call of its own in flight: answered with an error at once.
    func refuse(_ bytes: [UInt8])
    /// Nothing may be written after this side's close frame (RFC 6455 §5.5.1).
    func stopWriting()
    /// The connection closed: give up calls, close channels.
    func tearDown()
    /// An unfinished request was refused: every connection's together were over the budget.
    func requestBodyRefused()
    /// Frames and writes an answer that waited while the client was over its write bound.
    func write(_ answer: DeferredAnswer)
}

/// Reads a client WebSocket's frames on the event loop and carries out its state machine.
///
/// It keeps its own idle clock (the HTTP pipeline's idle handling is removed at the upgrade),
/// and withholds the pipeline's reads while the client is over its write bound or its cap on
/// calls in flight: the client's socket buffer fills and TCP slows the client down, instead of
/// fpool queueing its requests or their answers without limit.
final class ClientWebSocketHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let requests: any ClientWebSocketRequests
    private var machine: ClientWebSocketStateMachine
    private var reader: WebSocketFrameReader
    private var context: ChannelHandlerContext?
    private var idleClock: Scheduled<Void>?
    private var slowClientClock: Scheduled<Void>?
    /// When the message now unfinished began (the last one finished), and its deadline's clock.
    private var unfinishedSince: NIODeadline?
    private var unfinishedClock: Scheduled<Void>?
    private let limits: ClientWebSocketLimits
    /// Requests read past the cap on calls in flight, or while the request budget is spent (at
    /// most one socket read's worth; each keeps what it held unfinished).
    private var heldRequests = CircularBuffer<HeldRequest>()
    /// `startHeld` is on the stack.
    private var startingHeld = false
    /// Each pause is logged once per connection: the first time says which client misbehaves.
    private var loggedPauses: Set<ClientWebSocketStateMachine.PauseReason> = []
    /// Unfinished messages of every connection, HTTP bodies included, share one budget.
    private let bodyBudget: SharedBudget
    /// What this connection's unfinished frames and message hold of it.
    private var bytesCharged = 0
    /// What this connection's requests started and not yet answered hold of it.
    private var callsCharge = 0
    /// A connection's calls in flight hold at most this part of the request budget; while they
    /// hold under a quarter of that (a few long waits such as StateWaitMsg), one request of any
    /// size may still start, so small calls in flight never hold a large one back for hours.
    static let budgetShare = 4
    /// Answers owed while the client is over its write bound: empty whenever the socket is
    /// writable, drained as it becomes so.
    private var deferred = DeferredAnswers()
    /// `drainDeferred` is on the stack (a write it makes can make the socket writable again).
    private var draining = false
    /// Answers waiting across every connection (`fpool_websocket_answers_waiting`).
    private let answersWaiting: SharedBudget

    init(
        requests: any ClientWebSocketRequests, limits: ClientWebSocketLimits, bodyBudget: SharedBudget,
        answersWaiting: SharedBudget = SharedBudget(limit: .max)
    ) {
        self.requests = requests
        self.bodyBudget = bodyBudget
        self.answersWaiting = answersWaiting
        self.limits = limits
        self.machine = ClientWebSocketStateMachine(
            maxCallsInFlight: limits.maxCallsInFlight, idleTimeout: TimeAmount(limits.idleTimeout),
            slowClientGrace: TimeAmount(limits.slowClientGrace), now: .now())
        // One frame up to 16 MiB (gorilla clients split anything over 4 KiB), a message up to
        // the request limit in up to 2^20 frames, as NIO's decoder and aggregator allowed;
        // every frame masked, as a client's must be (Lotus's own server refuses others too).
        self.reader = WebSocketFrameReader(
            maxFrameSize: min(limits.maxRequestBytes, 1 << 24), maxMessageSize: limits.maxRequestBytes, maxFragments: 1 << 20,
            peerMasking: .masked)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.machine.bytesRead(at: context.eventLoop.now)
        self.requests.attach(self)
        self.scheduleIdleClock(at: context.eventLoop.now + self.machine.idleTimeout)
        // Written before the upgrade, maybe already over the bound.
        if !context.channel.isWritable { self.carryOut(self.writabilityChange(context)) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.bodyBudget.giveBack(self.bytesCharged)
        self.bytesCharged = 0
        self.dropHeld()
        self.answersWaiting.giveBack(self.deferred.dropAll())
        self.idleClock?.cancel()
        self.slowClientClock?.cancel()
        self.unfinishedClock?.cancel()
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Bytes after a close or a violation are dropped and keep nothing alive.
        guard !self.reader.isFinished else { return }
        self.machine.bytesRead(at: context.eventLoop.now)
        do {
            try self.reader.read(Self.unwrapInboundIn(data)) { event in
                switch event {
                case .message(let bytes):
                    self.unfinishedSince = nil
                    // What the message held unfinished passes to it, never given back and
                    // taken again: meanwhile another connection could take it.
                    let request = HeldRequest(bytes: bytes, credit: self.bytesCharged)
                    self.bytesCharged = 0
                    // Requests that arrive after fpool said goodbye were never started: the
                    // client may send them again elsewhere.
                    switch self.machine.requestRead() {
                    case .start: if !self.start(request) { self.heldRequests.append(request) }
                    case .hold: self.heldRequests.append(request)
                    default: self.bodyBudget.giveBack(request.credit)
                    }
                case .ping(let payload):
                    // Nothing follows this side's close frame, a pong included.
                    guard self.machine.state == .open || self.machine.state == .goingAway else { break }
                    let pong = WebSocketFrameWriter.pong(echoing: payload, masked: false, allocator: context.channel.allocator)
                    context.writeAndFlush(Self.wrapOutboundOut(pong), promise: nil)
                case .pong:
                    break
                case .close:
                    self.carryOut(self.machine.clientClosed())
                case .oversized:
                    break  // a client's messages are refused over the limit, never skipped
                }
            }
        } catch {
            self.chargeUnfinished()
            return self.hangUp(context, after: error)
        }
        guard self.chargeUnfinished() else {
            // Every connection's requests together hold the whole budget. With calls of its
            // own in flight, this connection waits for them to give some back (what one read
            // brought is kept meanwhile); with none, nothing of its own would, and it closes.
            guard self.machine.budgetExhausted() else { return self.overBudget(context) }
            self.logPause(.requestBudget, context.channel)
            return
        }
        self.watchUnfinished(context)
    }

    /// Refused and closed: every connection's requests together hold the whole budget.
    private func overBudget(_ context: ChannelHandlerContext) {
        self.requests.requestBodyRefused()
        self.hangUp(
            context, after: .overloaded("fpool is holding too many large requests (\(self.bodyBudget.limit) bytes); try again later"))
    }

    /// Gives a request the machine started to the session, its charge taken from the request
    /// budget (what it held unfinished counted). False when the budget has no room and the
    /// connection's other calls will give some back: the request waits, first of the held
    /// ones, keeping what it holds. With none in flight it is refused.
    private func start(_ request: HeldRequest) -> Bool {
        let bytes = request.bytes
        let charge = HeldRequestCharge.of(requestBytes: bytes.count)
        // One client pipelining large requests waits for its own answers past its share, and
        // cannot spend what every other client shares.
        let share = self.bodyBudget.limit / Self.budgetShare
        let withinShare = self.callsCharge + charge <= share || self.callsCharge <= share / 4
        if withinShare, charge <= request.credit || self.bodyBudget.take(charge - request.credit) {
            self.bodyBudget.giveBack(request.credit - charge)
            self.callsCharge += charge
            self.requests.receive(bytes, charge: charge)
            return true
        }
        if self.machine.startWaitsForBudget() {
            if let context = self.context { self.logPause(withinShare ? .requestBudget : .budgetShare, context.channel) }
            return false
        }
        self.bodyBudget.giveBack(request.credit)
        // Too large to read for its id on the loop: closed, as an unfinished one over the budget is.
        guard bytes.count < ClientRequestRouter.offLoopBytes else {
            if let context = self.context { self.overBudget(context) }
            return true
        }
        self.requests.requestBodyRefused()
        self.requests.refuse(bytes)
        return true
    }

    /// A message left unfinished must be finished by a deadline, as an HTTP request must be: the
    /// request timeout plus 1 s per `minRequestBytesPerSecond` of it. Without one, a client
    /// sending a byte now and then held its part of the shared budget for unfinished requests
    /// for ever, and a few such sockets refused every other client's large requests.
    private func watchUnfinished(_ context: ChannelHandlerContext) {
        guard self.reader.bufferedBytes > 0 else {
            self.unfinishedSince = nil
            self.unfinishedClock?.cancel()
            self.unfinishedClock = nil
            return
        }
        let since = self.unfinishedSince ?? context.eventLoop.now
        self.unfinishedSince = since
        if self.unfinishedClock == nil { self.scheduleUnfinishedClock(context, at: self.unfinishedDeadline(since)) }
    }

    private func unfinishedDeadline(_ since: NIODeadline) -> NIODeadline {
        let bytes = min(self.reader.bufferedBytes, self.limits.maxRequestBytes)
        return since + TimeAmount(self.limits.requestTimeout) + .sending(bytes, atBytesPerSecond: self.limits.minRequestBytesPerSecond)
    }

    private func scheduleUnfinishedClock(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        self.unfinishedClock = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.unfinishedClock = nil
            guard let since = self.unfinishedSince, self.reader.bufferedBytes > 0, let context = self.context else { return }
            // Not read because fpool holds the reads back (calls at their cap, answers unwritten):
            // the client is not the slow one, and its message's time starts again.
            guard self.machine.mayRead else {
                self.unfinishedSince = context.eventLoop.now
                return self.scheduleUnfinishedClock(context, at: self.unfinishedDeadline(context.eventLoop.now))
            }
            let deadline = self.unfinishedDeadline(since)
            guard context.eventLoop.now >= deadline else { return self.scheduleUnfinishedClock(context, at: deadline) }
            self.hangUp(context, after: .policy("a message was not finished in time (\(self.reader.bufferedBytes) bytes of it held)"))
        }
    }

    /// Closes at once: a client that broke the protocol or a limit is owed nothing more.
    private func hangUp(_ context: ChannelHandlerContext, after violation: WebSocketViolation) {
        self.requests.logger.notice("closing a client websocket: \(violation)")
        self.machine.protocolViolated()
        self.requests.stopWriting()
        WebSocketFrameWriter.hangUp(context.channel, after: violation, masked: false)
    }

    /// Holds what the reader keeps of unfinished frames against the shared budget; false
    /// (nothing more taken) when that would pass it.
    @discardableResult
    private func chargeUnfinished() -> Bool {
        let held = self.reader.bufferedBytes
        if held > self.bytesCharged {
            guard self.bodyBudget.take(held - self.bytesCharged) else { return false }
        } else {
            self.bodyBudget.giveBack(self.bytesCharged - held)
        }
        self.bytesCharged = held
        return true
    }

    func read(context: ChannelHandlerContext) {
        self.carryOut(self.machine.readRequested())
    }

    /// A request given to the session is answered (its answer queued), on the loop; it gave
    /// `charge` back to the request budget.
    func requestAnswered(releasing charge: Int) {
        self.callsCharge -= charge
        self.carryOut(self.machine.requestAnswered())
        // Not here: a call answered at once is answered from inside the frame reader.
        if self.machine.waitingForBudget, let context = self.context {
            context.eventLoop.assumeIsolated().execute { self.retryBudget(context) }
        }
    }

    /// One of this connection's calls gave its part of the budget back: the unfinished request
    /// read meanwhile is charged again; still over, it waits for the next, or closes after the last.
    private func retryBudget(_ context: ChannelHandlerContext) {
        // Going away or closing: no request is started any more, and no budget is waited for.
        guard self.machine.waitingForBudget, self.machine.state == .open, self.context != nil else { return }
        guard self.chargeUnfinished() else {
            if self.machine.unanswered == 0 { self.overBudget(context) }
            return
        }
        self.machine.budgetFound()
        self.watchUnfinished(context)
        self.startHeld()
        self.carryOut(self.machine.readIfWanted())
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else { return context.fireUserInboundEventTriggered(event) }
        self.carryOut(self.machine.quiesce())
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // Answers that waited go first (held requests the machine may start now come after
        // them); they may take the socket back over the bound, which the machine then sees
        // as a new pause with its own grace.
        if context.channel.isWritable { self.drainDeferred(context) }
        self.carryOut(self.writabilityChange(context))
        context.fireChannelWritabilityChanged()
    }

    /// On the loop, from the session: an answer owed while the socket is over its write bound.
    func deferAnswer(_ answer: DeferredAnswer) {
        self.deferred.append(answer)
        _ = self.answersWaiting.take(1)
    }

    /// Whether answers wait: a new one queues behind them, whatever the socket's writability.
    var hasDeferredAnswers: Bool { !self.deferred.isEmpty }

    /// Writes waiting answers, oldest first, while the socket takes them.
    private func drainDeferred(_ context: ChannelHandlerContext) {
        guard !self.draining else { return }
        self.draining = true
        defer { self.draining = false }
        while context.channel.isWritable, let answer = self.deferred.popFirst() {
            guard case .goodbye(let code) = answer else {
                self.answersWaiting.giveBack(1)
                self.requests.write(answer)
                continue
            }
            return self.writeGoodbye(context.channel, code: code)
        }
    }

    private func writabilityChange(_ context: ChannelHandlerContext) -> ClientWebSocketStateMachine.Action {
        self.machine.writabilityChanged(context.channel.isWritable, unwritten: Self.unwritten(context.channel), at: context.eventLoop.now)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.carryOut(self.machine.closed())
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Gives back what held requests hold: they will not be started (going away, closed).
    private func dropHeld() {
        for request in self.heldRequests { self.bodyBudget.giveBack(request.credit) }
        self.heldRequests.removeAll()
    }

    /// Starts the held requests that may start now, oldest first. A request answered at once
    /// (the cache, the head feed) comes back here through `requestAnswered`: that call returns
    /// and this loop takes the next, so a client's backlog never deepens the stack.
    private func startHeld() {
        guard !self.startingHeld else { return }
        self.startingHeld = true
        defer { self.startingHeld = false }
        while self.machine.takeHeld() {
            let request = self.heldRequests.removeFirst()
            guard self.start(request) else {
                self.heldRequests.prepend(request)
                break
            }
        }
        // Dropped by the machine (going away, closing): never started.
        if self.machine.held == 0 { self.dropHeld() }
    }

    private func carryOut(_ action: ClientWebSocketStateMachine.Action) {
        guard let context = self.context else { return }
        if !self.heldRequests.isEmpty { self.startHeld() }
        switch action {
        case .none, .start, .hold, .drop:
            break
        case .read:
            context.read()
        case .pauseReading(let reason):
            self.logPause(reason, context.channel)
        case .sayGoodbye(let code):
            self.idleClock?.cancel()
            self.sayGoodbye(context.channel, code: code)
        case .close(let reason):
            switch reason {
            case .idle:
                self.requests.logger.debug("closing a client websocket idle for \(self.machine.idleTimeout)")
            case .notReading:
                self.requests.logger.warning(
                    "a client is not reading its websocket (over its write limit for \(self.machine.slowClientGrace), less than 1 MiB of it read); closing it"
                )
            }
            context.close(promise: nil)
        case .checkIdleAgain(let deadline):
            self.scheduleIdleClock(at: deadline)
        case .startSlowClientClock(let deadline):
            // Over the write bound, no request is read or started until the client drains.
            self.logPause(.unwritten, context.channel)
            self.slowClientClock?.cancel()
            self.slowClientClock = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
                self.carryOut(self.machine.slowClientClockRang(unwritten: Self.unwritten(context.channel), at: context.eventLoop.now))
            }
        case .stopSlowClientClock(let thenRead):
            self.slowClientClock?.cancel()
            self.slowClientClock = nil
            if thenRead { context.read() }
        case .tearDown:
            self.idleClock?.cancel()
            self.slowClientClock?.cancel()
            self.requests.tearDown()
        }
    }

    private func logPause(_ reason: ClientWebSocketStateMachine.PauseReason, _ channel: any Channel) {
        guard self.loggedPauses.insert(reason).inserted else { return }
        switch reason {
        case .callsInFlight:
            self.requests.logger.notice(
                "a client websocket has \(self.machine.unanswered) calls in flight, its limit; reading it paused until one is answered")
        case .requestBudget:
            self.requests.logger.notice(
                "requests in flight hold the whole request budget (\(self.bodyBudget.limit) bytes); reading a client websocket paused until one of its calls is answered"
            )
        case .budgetShare:
            self.requests.logger.notice(
                "a client websocket's calls in flight hold \(self.callsCharge) bytes, its share of the request budget (a quarter of \(self.bodyBudget.limit)); reading it paused until one of its calls is answered"
            )
        case .unwritten:
            self.requests.logger.notice(
                "a client websocket is not reading its answers fast enough (\(Self.unwritten(channel)) bytes unwritten); reading its requests paused until it does"
            )
        }
    }

    private func scheduleIdleClock(at deadline: NIODeadline) {
        guard let context = self.context else { return }
        self.idleClock = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.carryOut(self.machine.idleClockRang(at: context.eventLoop.now, channelsOpen: self.requests.hasOpenChannels))
        }
    }

    /// Queues this side's close frame behind the answers already queued (answers from other
    /// threads are loop tasks of their own, so the close frame follows them; nothing is
    /// written after it), then closes once it is written: everything before it has then
    /// reached the socket.
    private func sayGoodbye(_ channel: any Channel, code: UInt16?) {
        channel.eventLoop.assumeIsolated().execute {
            // Answers still waiting for the client to drain go first, as it drains: the close
            // frame waits at the end of their queue rather than framing them all at once.
            guard self.deferred.isEmpty else {
                self.deferred.append(.goodbye(code: code))
                // Answers wait only while the socket is over its bound; should it be under it
                // already, no change of writability would come to send the goodbye.
                if channel.isWritable, let context = self.context { self.drainDeferred(context) }
                return
            }
            self.writeGoodbye(channel, code: code)
        }
    }

    /// This side's close frame, after which nothing is written; the socket closes once it is.
    private func writeGoodbye(_ channel: any Channel, code: UInt16?) {
        self.requests.stopWriting()
        let close = WebSocketFrameWriter.close(code: code, masked: false, allocator: channel.allocator)
        channel.writeAndFlush(close).whenComplete { _ in channel.close(promise: nil) }
    }

    private static func unwritten(_ channel: any Channel) -> Int {
        (try? channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
    }
}

/// A request read and not started: its bytes, and what it holds of the request budget (what
/// it held unfinished; one read in a single socket read holds nothing).
struct HeldRequest {
    let bytes: [UInt8]
    let credit: Int
}

/// What a client websocket may cost: from `ServerConfiguration`.
struct ClientWebSocketLimits: Sendable {
    var maxRequestBytes: Int
    var maxCallsInFlight: Int
    var idleTimeout: Duration
    var slowClientGrace: Duration
    /// A message begun must be finished within this, plus 1 s per `minRequestBytesPerSecond` of it.
    var requestTimeout: Duration = .seconds(30)
    var minRequestBytesPerSecond: Int = 1 << 20
}
