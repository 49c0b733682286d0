// One client WebSocket's requests (lotus-miner, a worker): many calls in flight answered out of
// order, go-jsonrpc channels and xrpc.cancel. Each request is reported answered to the
// connection's handler, whose state machine bounds what a client may have open.

import Logging
import LotusWire
import NIOCore
import PoolRuntime
import Synchronization

final class ClientWebSocketSession: ClientWebSocketRequests {
    private struct State {
        /// Calls in progress by session token; removed by whoever answers first (the call or a cancel).
        var calls: [UInt64: PendingCall] = [:]
        /// Integer request ids → the token of their call or channel (what `xrpc.cancel` names).
        var byRequestID: [Int64: UInt64] = [:]
        var channels: [UInt64: ClientChannel] = [:]
        /// Channel calls started and not yet open or refused: they count against the limit too.
        var openingChannels = 0
        var nextToken: UInt64 = 1
        var nextChannelID: UInt64 = 1
    }

    let router: ClientRequestRouter
    let runner: ClientCallRunner
    let inflightCalls: InflightCalls
    let channelLimits: ChannelLimits
    /// Bytes of requests held across every connection (unfinished, or read and unanswered):
    /// each request is charged from when it is read until its answer is queued.
    let requestBudget: SharedBudget
    let logger: Logger
    /// Answers are written straight to the connection: NIO keeps writes issued one after
    /// another in order, with no writer task to hop through.
    let connection: any Channel
    /// The connection's event loop as the executor of its calls.
    let executor: EventLoopTaskExecutor
    /// How a call in progress is given up.
    private enum PendingCall {
        /// Registered, its task or send not made yet.
        case starting
        case task(Task<Void, Never>)
        /// Sent without a task (`Pool.startImmediately`).
        case immediate(any PoolCancellable)

        func giveUp() {
            switch self {
            case .starting: break
            case .task(let task): task.cancel()
            case .immediate(let call): call.cancel()
            }
        }
    }

    private let state = Mutex(State())
    /// Set on the loop just before this side's close frame is written: nothing follows it.
    private let departed = Atomic<Bool>(false)
    /// The connection's handler, told of every answered request; dropped when the connection
    /// closes (it holds this session).
    private let handler: NIOLoopBoundBox<ClientWebSocketHandler?>

    init(
        router: ClientRequestRouter, runner: ClientCallRunner, inflightCalls: InflightCalls, logger: Logger, connection: any Channel,
        channelLimits: ChannelLimits, requestBudget: SharedBudget
    ) {
        self.router = router
        self.runner = runner
        self.inflightCalls = inflightCalls
        self.channelLimits = channelLimits
        self.requestBudget = requestBudget
        self.logger = logger
        self.connection = connection
        self.executor = EventLoopTaskExecutor(eventLoop: connection.eventLoop)
        self.handler = .makeEmptyBox(valueType: ClientWebSocketHandler.self, eventLoop: connection.eventLoop)
    }

    func attach(_ handler: ClientWebSocketHandler) {
        self.handler.value = handler
    }

    var hasOpenChannels: Bool { self.state.withLock { !$0.channels.isEmpty } }

    /// One request is answered (its answer written or queued before this, on the loop), and
    /// gives back what it held of the request budget.
    private func requestDone(releasing charge: Int) {
        self.requestBudget.giveBack(charge)
        guard self.connection.eventLoop.inEventLoop else {
            return self.connection.eventLoop.execute { self.handler.value?.requestAnswered(releasing: charge) }
        }
        self.handler.value?.requestAnswered(releasing: charge)
    }

    /// Enqueues one text frame; the frames of a channel's values report back once written.
    /// What waits to be written is bounded by the connection's write-buffer limit
    /// (`ServerConfiguration.maxQueuedBytes`, see `ClientWebSocketHandler`).
    func send(_ bytes: [UInt8], _ channel: ClientChannel?) {
        // Always a task of its own on the loop, never inline: callers send under their locks
        // (a channel keeps its values in order that way), and an inline write can complete,
        // fail or close the connection right there, calling back into those same locks.
        self.connection.eventLoop.execute { self.write(bytes, channel) }
    }

    /// Writes a call's answer at once when on the connection's loop (where calls run): the
    /// caller holds no lock, and a hop through the loop's queue would only add latency.
    private func answer(_ bytes: [UInt8]) {
        guard self.connection.eventLoop.inEventLoop else { return self.send(bytes, nil) }
        self.write(bytes, nil)
    }

    /// Writes a reply at once when on the connection's loop, a result straight into its frame.
    private func answer(_ reply: PoolReply, id: [UInt8]) {
        guard case .result(let result, _) = reply, self.connection.eventLoop.inEventLoop else { return self.answer(reply.frame(id: id)) }
        guard !self.departed.load(ordering: .relaxed) else { return }
        if let handler = self.waitingBehind() { return handler.deferAnswer(.result(result, id: id)) }
        self.writeResult(result, id: id)
    }

    /// On the loop: the handler to queue an answer with when the socket is over its write bound
    /// or answers already wait (nothing overtakes them); nil to write it now.
    private func waitingBehind() -> ClientWebSocketHandler? {
        guard let handler = self.handler.value, !self.connection.isWritable || handler.hasDeferredAnswers else { return nil }
        return handler
    }

    private func writeResult(_ result: [UInt8], id: [UInt8]) {
        let frame = WebSocketFrameWriter.text(masked: false, capacity: result.count + id.count + 40, allocator: self.connection.allocator) {
            RawRPCFrames.writeResult(id: id, result: result, into: &$0)
        }
        self.connection.writeAndFlush(frame, promise: nil)
    }

    /// On the loop: writes one text frame; a channel's value tells its channel once written.
    /// Over the write bound, or behind answers that wait, it waits unframed in the handler's
    /// queue, so nothing overtakes what waits there.
    private func write(_ bytes: [UInt8], _ channel: ClientChannel?) {
        guard !self.departed.load(ordering: .relaxed) else {
            // Dropped, not counted against the client: a channel must not take it for one that
            // stopped reading (and say so in the log) while the goodbye drains.
            channel?.dropped()
            return
        }
        if let handler = self.waitingBehind() { return handler.deferAnswer(.message(bytes, channel)) }
        self.writeMessage(bytes, channel)
    }

    /// On the loop, as the client drains its socket: frames and writes one answer that waited.
    func write(_ answer: DeferredAnswer) {
        switch answer {
        case .result(let result, let id):
            guard !self.departed.load(ordering: .relaxed) else { return }
            self.writeResult(result, id: id)
        case .message(let bytes, let channel):
            guard !self.departed.load(ordering: .relaxed) else {
                channel?.dropped()
                return
            }
            self.writeMessage(bytes, channel)
        case .goodbye:
            break  // the handler's own
        }
    }

    private func writeMessage(_ bytes: [UInt8], _ channel: ClientChannel?) {
        guard let channel else {
            let frame = WebSocketFrameWriter.text(bytes, masked: false, allocator: self.connection.allocator)
            return self.connection.writeAndFlush(frame, promise: nil)
        }
        guard channel.willWrite() else { return }
        let frame = WebSocketFrameWriter.text(bytes, masked: false, allocator: self.connection.allocator)
        let promise = self.connection.eventLoop.makePromise(of: Void.self)
        promise.futureResult.whenComplete { _ in channel.written() }
        self.connection.writeAndFlush(frame, promise: promise)
    }

    /// One text message from the client (on the event loop), with its charge taken.
    func receive(_ bytes: [UInt8], charge: Int) {
        guard bytes.count < ClientRequestRouter.offLoopBytes else {
            // Checked off the event loop, which carries other clients and daemon heartbeats.
            let router = self.router
            let loop = self.connection.eventLoop
            Task.detached {
                let frame = router.read(bytes)
                loop.execute {
                    // The connection closed meanwhile: nothing would give the call up.
                    guard self.handler.value != nil else { return self.requestBudget.giveBack(charge) }
                    self.serve(frame, charge: charge)
                }
            }
            return
        }
        self.serve(self.router.read(bytes), charge: charge)
    }

    /// Serves one request read (on the loop); `charge` is what it holds of the request budget
    /// until it is answered.
    private func serve(_ frame: ClientFrame, charge: Int) {
        switch frame {
        case .refused(let id, let error):
            self.answer(RawRPCFrames.error(id: id, error))
            self.requestDone(releasing: charge)
        case .ignore:
            self.requestDone(releasing: charge)
        case .cancel(let requestID):
            self.cancel(requestID)
            self.requestDone(releasing: charge)
        case .call(let id, let requestID, let call):
            if let call = self.startImmediately(call, id: id, requestID: requestID, charge: charge) {
                self.start(requestID, charge: charge) { _ in await self.runner.answer(call, id: id).frame }
            }
        case .admin(let id, let requestID, let call):
            self.start(requestID, charge: charge) { _ in await self.runner.answerAdmin(call, id: id).frame }
        case .channel(let id, let requestID, let call):
            self.openChannel(call, id: id, requestID: requestID, charge: charge)
        }
    }

    /// A request read while every connection's requests together hold the whole budget, and
    /// this connection has no call of its own to give some back: a call is answered with an
    /// error the client can retry on (its connection and channels go on), a cancel is still
    /// carried out.
    func refuse(_ bytes: [UInt8]) {
        let refusal = RPCError(
            code: 1,
            message: "fpool: requests in flight hold \(self.requestBudget.limit) bytes, its limit (--max-buffered-request-bytes); "
                + "try again later")
        switch self.router.read(bytes) {
        case .refused(let id, let error): self.answer(RawRPCFrames.error(id: id, error))
        case .call(let id, _, _), .admin(let id, _, _), .channel(let id, _, _): self.answer(RawRPCFrames.error(id: id, refusal))
        case .cancel(let requestID): self.cancel(requestID)
        case .ignore: break
        }
        self.requestDone(releasing: 0)
    }

    /// Sends a call with no task when the pool can route it at once (most reads): the request
    /// goes upstream from this loop and the answer is written from the upstream socket's read.
    /// Otherwise the call to give `start` (its call id already counted).
    private func startImmediately(_ call: PoolCall, id: [UInt8], requestID: Int64?, charge: Int) -> PoolCall? {
        self.inflightCalls.enter()
        let token = self.register(requestID)
        let started = self.runner.replyImmediately(call) { reply in
            if self.finish(token, requestID: requestID) { self.answer(reply, id: id) }
            self.inflightCalls.leave()
            self.requestDone(releasing: charge)
        }
        switch started {
        case .started(let abandon):
            self.state.withLock { state in
                if state.calls[token] != nil { state.calls[token] = .immediate(abandon) }
            }
            return nil
        case .answered:
            return nil
        case .needsTask(let call):
            // Not started: `start` counts it again, and it stays one request for the handler.
            _ = self.finish(token, requestID: requestID)
            self.inflightCalls.leave()
            return call
        }
    }

    /// Runs one call in its own task; its answer is sent unless a cancel answered first. The
    /// body gets the call's token; an empty answer means the body sent its own.
    private func start(_ requestID: Int64?, charge: Int, _ answer: @escaping @Sendable (UInt64) async -> [UInt8]) {
        self.inflightCalls.enter()
        let token = self.register(requestID)
        let task = Task(executorPreference: self.executor) {
            let frame = await answer(token)
            if self.finish(token, requestID: requestID), !frame.isEmpty { self.answer(frame) }
            self.inflightCalls.leave()
            self.requestDone(releasing: charge)
        }
        self.state.withLock { state in
            if state.calls[token] != nil { state.calls[token] = .task(task) }
        }
    }

    /// On the loop, as this side's close frame is written: frames still to come (a channel's
    /// values, a late answer) are dropped rather than sent after it (RFC 6455 §5.5.1).
    func stopWriting() {
        self.departed.store(true, ordering: .relaxed)
    }

    /// A new call's token, known by its request id until it is answered.
    private func register(_ requestID: Int64?) -> UInt64 {
        self.state.withLock { state in
            let token = state.nextToken
            state.nextToken += 1
            state.calls[token] = .starting
            if let requestID { state.byRequestID[requestID] = token }
            return token
        }
    }

    /// True when call `token` is still unanswered (and now counts as answered).
    private func finish(_ token: UInt64, requestID: Int64?) -> Bool {
        self.state.withLock { state in
            guard state.calls.removeValue(forKey: token) != nil else { return false }
            if let requestID, state.byRequestID[requestID] == token { state.byRequestID[requestID] = nil }
            return true
        }
    }

    private func openChannel(_ call: PoolCall, id: [UInt8], requestID: Int64?, charge: Int) {
        if let refusal = self.reserveChannel() {
            self.logger.notice("refused a channel call (\(call.method)): \(refusal.message)")
            self.answer(RawRPCFrames.error(id: id, refusal))
            return self.requestDone(releasing: charge)
        }
        let pool = self.runner.pool
        let send: @Sendable ([UInt8], ClientChannel?) -> Void = { bytes, channel in self.send(bytes, channel) }
        self.start(requestID, charge: charge) { token in
            let channel = self.state.withLock { state in
                defer { state.nextChannelID += 1 }
                return ClientChannel(token: token, clientID: state.nextChannelID, send: send) { channel, ending in
                    self.channelEnded(channel, ending)
                }
            }
            switch await pool.openChannel(call, events: { channel.deliver($0) }) {
            case .failure(let refusal):
                self.state.withLock { $0.openingChannels -= 1 }
                self.channelLimits.shared.giveBack(1)
                return refusal.reply.frame(id: id)
            case .success(let opened):
                let attached = channel.attach(poolID: opened.id)
                // Still wanted (no cancel answered it, the connection is up) and still open: it
                // becomes a channel of this session, and keeps its place in the limits.
                let (owned, kept) = self.state.withLock { state -> (Bool, Bool) in
                    state.openingChannels -= 1
                    guard state.calls.removeValue(forKey: token) != nil else { return (false, false) }
                    if attached == .open { state.channels[token] = channel }
                    return (true, attached == .open)
                }
                if !kept { self.channelLimits.shared.giveBack(1) }
                switch (owned, attached) {
                case (true, .open):
                    channel.activate(reply: RawRPCFrames.result(id: id, result: String(channel.clientID).utf8))
                case (true, .endedByPool):
                    // Closed as it opened (its node was lost): the client gets the id, then the close.
                    channel.activate(reply: RawRPCFrames.result(id: id, result: String(channel.clientID).utf8))
                case (false, _), (true, .endedByClient):
                    await pool.closeChannel(opened.id)
                }
                return []
            }
        }
    }

    /// Takes a place for one more channel; the error to answer when the connection, or every
    /// connection together, has as many open as allowed.
    private func reserveChannel() -> RPCError? {
        let perConnection = self.channelLimits.perConnection
        let reserved = self.state.withLock { state -> Bool in
            guard state.channels.count + state.openingChannels < perConnection else { return false }
            state.openingChannels += 1
            return true
        }
        guard reserved else {
            return RPCError(
                code: 1,
                message: "fpool: this connection has \(perConnection) channels open, its limit (--max-channels-per-connection); "
                    + "close one first")
        }
        guard self.channelLimits.shared.take(1) else {
            self.state.withLock { $0.openingChannels -= 1 }
            let limit = self.channelLimits.shared.limit
            return RPCError(
                code: 1, message: "fpool: \(limit) channels are open across all connections, its limit (--max-channels); try again later")
        }
        return nil
    }

    /// The pool ended a channel, or its client fell behind: forget it, and close what is left upstream.
    private func channelEnded(_ channel: ClientChannel, _ ending: ClientChannel.Ending) {
        let removed = self.state.withLock { state -> Bool in
            guard state.channels[channel.token] === channel else { return false }
            state.channels[channel.token] = nil
            state.byRequestID = state.byRequestID.filter { $0.value != channel.token }
            return true
        }
        if removed { self.channelLimits.shared.giveBack(1) }
        if ending == .clientBehind {
            self.logger.notice(
                "a client fell \(ClientChannel.maxPending) values behind on channel \(channel.clientID); closing the channel")
            if let poolID = channel.poolID {
                let pool = self.runner.pool
                Task { await pool.closeChannel(poolID) }
            }
        }
    }

    private func cancel(_ requestID: Int64) {
        let (call, channel) = self.state.withLock { state -> (PendingCall?, ClientChannel?) in
            guard let token = state.byRequestID.removeValue(forKey: requestID) else { return (nil, nil) }
            return (state.calls.removeValue(forKey: token), state.channels.removeValue(forKey: token))
        }
        if let call {
            // Every request is answered, even a cancelled one (LOTUS-WIRE.md §3).
            self.send(RawRPCFrames.error(id: String(requestID).utf8, RPCError.canceled), nil)
            call.giveUp()
        }
        if let channel {
            self.channelLimits.shared.giveBack(1)
            if let poolID = channel.close() {
                let pool = self.runner.pool
                Task { await pool.closeChannel(poolID) }
            }
        }
    }

    func requestBodyRefused() {
        self.runner.metrics.requestBodyRefused()
    }

    /// The connection closed: calls stop, channels close upstream.
    func tearDown() {
        self.handler.value = nil
        let (calls, channels) = self.state.withLock { state in
            defer {
                state.calls = [:]
                state.channels = [:]
                state.byRequestID = [:]
            }
            return (Array(state.calls.values), Array(state.channels.values))
        }
        calls.forEach { $0.giveUp() }
        self.channelLimits.shared.giveBack(channels.count)
        let poolIDs = channels.compactMap { $0.close() }
        if !poolIDs.isEmpty {
            let pool = self.runner.pool
            Task { for id in poolIDs { await pool.closeChannel(id) } }
        }
    }
}

/// How many channels a client WebSocket may have open (`ServerConfiguration`).
struct ChannelLimits: Sendable {
    /// On this connection.
    let perConnection: Int
    /// Across every connection, shared.
    let shared: SharedBudget
}
