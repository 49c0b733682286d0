// A go-jsonrpc-compatible WebSocket client: many calls in flight, channels, cancel, ping.
// Used by tests (as lotus-miner would talk) and by the pool to talk to daemons.

import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Why a client call did not get an answer.
public enum LotusClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server refused the WebSocket upgrade (go-jsonrpc says "bad handshake").
    case badHandshake
    /// The connection closed before the answer arrived.
    case connectionClosed
    /// The server closed the connection before answering, and this request was the last one
    /// sent on it: the request itself may be what the server could not take.
    case closedAfterRequest
    /// The server sent a frame that is not JSON-RPC.
    case protocolViolation(String)
    /// The server took the connection but finished no TLS and WebSocket handshake in time.
    case handshakeTimedOut(Duration)
    /// The server's answer to this call was larger than the client takes; it was read past,
    /// and the connection carries on.
    case answerTooLarge(bytes: Int, limit: Int)

    /// The answer was over the size limit (and its call alone failed).
    public var isAnswerTooLarge: Bool {
        if case .answerTooLarge = self { return true }
        return false
    }

    /// A short text in go-jsonrpc's wording where it has one (`websocket connection closed`).
    public var description: String {
        switch self {
        case .badHandshake: "bad handshake"
        case .connectionClosed: "websocket connection closed"
        case .closedAfterRequest: "websocket connection closed by the server after this request"
        case .protocolViolation(let detail): "protocol violation: \(detail)"
        case .handshakeTimedOut(let limit): "no WebSocket handshake within \(limit) of connecting"
        case .answerTooLarge(let bytes, let limit): "the answer is \(bytes) bytes, over the limit of \(limit) bytes"
        }
    }
}

/// How a client watches an idle connection: a ping after `interval` with nothing read, and the
/// connection closed after `timeout` with nothing read at all, not even a pong (go-jsonrpc's
/// own client pings every 5 s and gives up after 30 s). A silently dropped TCP connection (a
/// firewall that forgot it) then fails its calls instead of hanging them, and the pings keep
/// such a firewall from forgetting it in the first place.
public struct WebSocketKeepalive: Sendable, Equatable {
    /// How long without a byte read before a ping is sent; also how often the connection is checked.
    public var interval: Duration
    /// How long without a byte read before the connection is closed. Checked every `interval`, so it closes up
    /// to one interval late; it must exceed `interval`, or an idle connection is closed without being pinged.
    public var timeout: Duration

    /// A keepalive that pings after `interval` of silence and closes after `timeout` of it.
    public init(interval: Duration, timeout: Duration) {
        self.interval = interval
        self.timeout = timeout
    }
}

/// A call whose request is already queued; `result()` waits for its answer.
public struct LotusPendingCall: Sendable {
    /// The request's JSON-RPC id, as sent; `cancel(requestID:)` takes it.
    public let id: Int64
    let answer: AnswerSlot
    /// Gives the call up: forgets it and tells the server (`xrpc.cancel`).
    let abandon: @Sendable () -> Void

    /// - Throws: `RPCError` for an error answer, `LotusClientError` when the connection fails.
    public func result() async throws -> JSON {
        let bytes = try await self.rawResult()
        do {
            return try JSON.parse(bytes)
        } catch {
            throw LotusClientError.protocolViolation("result is not JSON: \(error)")
        }
    }

    /// The `result` member's bytes exactly as the server sent them (`null` when absent).
    /// A cancelled task gives the call up (`xrpc.cancel` goes to the server, as go-jsonrpc
    /// does), so nothing of it stays behind on either side.
    ///
    /// - Throws: `RPCError` for an error answer, `LotusClientError` when the connection fails.
    public func rawResult() async throws -> [UInt8] {
        try await withTaskCancellationHandler {
            try await self.answer.wait()
        } onCancel: {
            self.abandon()
        }
    }
}

/// One answer, given once, awaited once: lighter than a stream for the common call.
final class AnswerSlot: Sendable {
    private let state = Mutex<(value: Result<[UInt8], any Error>?, waiter: CheckedContinuation<[UInt8], any Error>?)>((nil, nil))

    /// The first resolution wins; later ones are ignored.
    func resolve(_ value: Result<[UInt8], any Error>) {
        let waiter = self.state.withLock { state -> CheckedContinuation<[UInt8], any Error>? in
            guard state.value == nil else { return nil }
            state.value = value
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(with: value)
    }

    func wait() async throws -> [UInt8] {
        try await withCheckedThrowingContinuation { continuation in
            let ready = self.state.withLock { state -> Result<[UInt8], any Error>? in
                if let value = state.value { return value }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}

/// Who waits for a call's answer. Whoever removes it from the client's call table gives the
/// answer, so each is resolved once.
enum PendingAnswer: Sendable {
    /// A task awaiting `LotusPendingCall.rawResult()`.
    case slot(AnswerSlot)
    /// A caller that runs no task; called on the connection's event loop (or where the
    /// connection closed), with no lock held.
    case callback(@Sendable (Result<[UInt8], any Error>) -> Void)

    func resolve(_ value: Result<[UInt8], any Error>) {
        switch self {
        case .slot(let slot): slot.resolve(value)
        case .callback(let callback): callback(value)
        }
    }
}

/// One open go-jsonrpc channel: its values until the server sends `xrpc.ch.close`.
public struct LotusSubscription: Sendable {
    /// The id of the call that opened the channel.
    public let requestID: Int64
    /// The server's id for the channel, carried by its `xrpc.ch.val` and `xrpc.ch.close` notifications.
    public let channelID: UInt64
    /// Each value's bytes as the server sent them; finishes when the server closes the
    /// channel or the connection drops.
    public let rawValues: AsyncStream<[UInt8]>

    /// The values, decoded.
    public var values: AsyncCompactMapSequence<AsyncStream<[UInt8]>, JSON> {
        self.rawValues.compactMap { try? JSON.parse($0) }
    }
}

/// Set when a dial's handshake deadline passed (and closed its socket).
private final class HandshakeExpiry: Sendable {
    let flag = Atomic<Bool>(false)
}

/// A WebSocket JSON-RPC connection to a Lotus-compatible endpoint.
///
/// Concurrency: every method may be called from any task; state is behind a `Mutex`.
public final class LotusWSClient: Sendable {
    private struct State {
        var nextID: Int64 = 1
        var calls: [Int64: PendingAnswer] = [:]
        /// Calls whose answer is a channel id: the stream is made by the reader as soon as
        /// the id arrives, so values right behind it are not lost.
        var channelCalls: Set<Int64> = []
        var channels: [UInt64: AsyncStream<[UInt8]>.Continuation] = [:]
        var newChannels: [Int64: LotusSubscription] = [:]
        var pongWaiters: [CheckedContinuation<Void, Never>] = []
        var closed = false
        /// The status code of the server's close frame, when it sent one.
        var closeCode: UInt16?
        var closedForSilence = false
        /// This side closed the connection (`close()`): no request is to blame.
        var closedByClient = false
        /// The request registered last (sent last: requests are queued as they register).
        var lastRequestID: Int64?
        var closeWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextCloseWaiter = 0
        /// The latest frames that were neither answers nor channel traffic (tests inspect them).
        var stray: [JSON] = []

        mutating func keepStray(_ frame: JSON) {
            if self.stray.count == 64 { self.stray.removeFirst() }
            self.stray.append(frame)
        }
    }

    private let state = Mutex(State())
    /// The socket. Frames are written straight to it: NIO runs writes issued one after another
    /// in that order, without a writer task to hop through. `package`: tests reach it to stop
    /// reading (FPoolTestSupport's `setReading`).
    package let channel: any Channel
    /// A flush is scheduled on the loop for the requests written since the last one.
    private let flushPending = Atomic<Bool>(false)

    init(channel: any Channel) {
        self.channel = channel
    }

    /// Opens `ws://host:port/path` (`wss://` with `tls`) with an optional bearer token, watched by
    /// `keepalive` when given.
    ///
    /// - Throws: `LotusClientError.badHandshake` when the upgrade is refused, `TLSDialError` when
    ///   TLS fails (an untrusted certificate, a plain port), or the connect error.
    public static func connect(
        host: String, port: Int, path: String = "/rpc/v1", token: String? = nil, keepalive: WebSocketKeepalive? = nil,
        tls: TLSDialer? = nil, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        handshakeTimeout: Duration = LotusWSClient.handshakeTimeout, maxAnswerBytes: Int = LotusWSClient.maxAnswerBytes
    ) async throws -> LotusWSClient {
        try await TLSDialer.explainingFailures(of: tls, host: host, port: port) {
            try await self.dial(
                host: host, port: port, path: path, token: token, keepalive: keepalive, tls: tls, group: group,
                handshakeTimeout: handshakeTimeout, maxAnswerBytes: maxAnswerBytes)
        }
    }

    /// The largest message read from a server (128 MiB): a larger answer fails its own call
    /// with `LotusClientError.answerTooLarge`, and the connection carries on.
    public static let maxAnswerBytes = 1 << 27

    /// How long a dial may take from the TCP connection to the end of the WebSocket upgrade
    /// (TLS included). The connect itself has its own 5 s: a daemon whose kernel accepts the
    /// connection while the process is frozen never answers the upgrade, and a dial without
    /// this bound would wait, and every heartbeat with it, for as long as the socket lives.
    public static let handshakeTimeout = Duration.seconds(10)

    private static func dial(
        host: String, port: Int, path: String, token: String?, keepalive: WebSocketKeepalive?, tls: TLSDialer?,
        group: any EventLoopGroup, handshakeTimeout: Duration, maxAnswerBytes: Int
    ) async throws -> LotusWSClient {
        enum Upgrade: Sendable {
            case websocket(LotusWSClient)
            case refused
        }
        let expired = HandshakeExpiry()
        let upgrade: EventLoopFuture<Upgrade> = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let deadline = channel.eventLoop.scheduleTask(in: TimeAmount(handshakeTimeout)) {
                        expired.flag.store(true, ordering: .relaxed)
                        channel.close(promise: nil)
                    }
                    if let tls { try channel.pipeline.syncOperations.addHandler(try tls.handler(host: host)) }
                    let upgrader = RawWebSocketClientUpgrader<Upgrade> { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            // Frames are read on the event loop and answers handed to their callers
                            // from there: no reader task in between.
                            let client = LotusWSClient(channel: channel)
                            try channel.pipeline.syncOperations.addHandler(
                                LotusWSClientHandler(client: client, keepalive: keepalive, maxAnswerBytes: maxAnswerBytes))
                            return Upgrade.websocket(client)
                        }
                    }
                    var headers = HTTPHeaders([("Host", "\(host):\(port)"), ("Content-Length", "0")])
                    if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
                    let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
                    let configuration = NIOTypedHTTPClientUpgradeConfiguration<Upgrade>(
                        upgradeRequestHead: head, upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in
                            channel.close(promise: nil)
                            return channel.eventLoop.makeCompletedFuture { Upgrade.refused }
                        })
                    let upgraded = try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                        configuration: .init(upgradeConfiguration: configuration))
                    upgraded.whenComplete { _ in deadline.cancel() }
                    return upgraded
                }
            }
        let result: Upgrade
        do {
            result = try await upgrade.get()
        } catch is NIOHTTPClientUpgradeError {
            throw LotusClientError.badHandshake
        } catch {
            // Closed by the deadline: say so, not what the closed socket made of it.
            if expired.flag.load(ordering: .relaxed) { throw LotusClientError.handshakeTimedOut(handshakeTimeout) }
            throw error
        }
        guard case .websocket(let client) = result else { throw LotusClientError.badHandshake }
        return client
    }

    /// Calls `method` and waits for its answer.
    ///
    /// - Throws: `RPCError` for an error answer, `LotusClientError` when the connection fails.
    public func call(_ method: String, _ params: [JSON] = []) async throws -> JSON {
        try await self.start(method, params).result()
    }

    /// Queues a request (its frame is ordered before any frame queued after this returns) and
    /// returns a handle to await its answer. `id` defaults to the client's own counter.
    public func start(_ method: String, _ params: [JSON] = [], id: Int64? = nil) -> LotusPendingCall {
        self.start(id: id) { id in RPCFrames.request(id: id, method: method, params: params).encoded() }
    }

    /// Queues a request whose params are already-encoded JSON (an array), forwarded as they are.
    public func start(_ method: String, rawParams: [UInt8]) -> LotusPendingCall {
        self.start(id: nil) { id in RawRPCFrames.request(id: id, method: method, params: rawParams) }
    }

    /// Queues a request with already-encoded params and hands its answer (the raw `result`, or
    /// the error) to `onAnswer`, once, on the connection's event loop, with no task to resume.
    ///
    /// - Returns: a handle that gives the call up (`xrpc.cancel`; `onAnswer` then gets a
    ///   `CancellationError`), or nil when the connection is closed (nothing was sent).
    public func start(
        _ method: String, rawParams: [UInt8], onAnswer: @escaping @Sendable (Result<[UInt8], any Error>) -> Void
    ) -> (@Sendable () -> Void)? {
        let (id, registered) = self.register(.callback(onAnswer))
        guard registered else { return nil }
        guard rawParams.count + method.utf8.count + 64 <= Self.maxFrameBytes else {
            self.queueSplit(RawRPCFrames.request(id: id, method: method, params: rawParams))
            return { self.abandon(id) }
        }
        // The request is written straight into its frame's buffer.
        self.send(
            WebSocketFrameWriter.text(masked: true, capacity: rawParams.count + method.utf8.count + 64, allocator: self.channel.allocator) {
                RawRPCFrames.writeRequest(id: id, method: method, params: rawParams, into: &$0)
            })
        return { self.abandon(id) }
    }

    /// Sends a request with a given id and waits for its answer.
    public func send(id: Int64, method: String, params: [JSON]) async throws -> JSON {
        try await self.start(method, params, id: id).result()
    }

    private func start(id explicitID: Int64?, fragments: Int = 1, _ text: (Int64) -> [UInt8]) -> LotusPendingCall {
        let answer = AnswerSlot()
        let (id, registered) = self.register(.slot(answer), id: explicitID)
        if registered {
            let bytes = text(id)
            self.queue(bytes, fragments: max(fragments, (bytes.count + Self.maxFrameBytes - 1) / Self.maxFrameBytes))
        } else {
            answer.resolve(.failure(LotusClientError.connectionClosed))
        }
        return LotusPendingCall(id: id, answer: answer, abandon: { self.abandon(id) })
    }

    /// Takes the next request id (or `explicitID`) and, unless the connection is closed,
    /// records who waits for its answer.
    private func register(_ pending: PendingAnswer, id explicitID: Int64? = nil) -> (id: Int64, registered: Bool) {
        self.state.withLock { state in
            let id = explicitID ?? state.nextID
            if explicitID == nil { state.nextID += 1 }
            guard !state.closed else { return (id, false) }
            state.calls[id] = pending
            state.lastRequestID = id
            return (id, true)
        }
    }

    /// Sends a hand-written request text (split into `fragments` continuation frames) whose id
    /// is `id`, and waits for its answer.
    public func call(rawRequest text: String, id: Int64, fragments: Int = 1) async throws -> JSON {
        try await self.start(id: id, fragments: fragments) { _ in Array(text.utf8) }.result()
    }

    /// The next request id `call` will use (tests that write raw requests pick theirs after it).
    package var nextRequestID: Int64 { self.state.withLock { $0.nextID } }

    /// Calls a channel method (ChainNotify, MpoolSub, …) and returns its values.
    public func subscribe(_ method: String, _ params: [JSON] = []) async throws -> LotusSubscription {
        try await self.subscribe(method, rawParams: JSON.array(params).encoded())
    }

    /// Calls a channel method with already-encoded params.
    public func subscribe(_ method: String, rawParams: [UInt8]) async throws -> LotusSubscription {
        let id = self.state.withLock { state in
            defer { state.nextID += 1 }
            state.channelCalls.insert(state.nextID)
            return state.nextID
        }
        _ = try await self.start(id: id) { id in RawRPCFrames.request(id: id, method: method, params: rawParams) }.rawResult()
        return try self.state.withLock { state in
            guard let subscription = state.newChannels.removeValue(forKey: id) else {
                throw LotusClientError.protocolViolation("channel call \(id) answered without a channel id")
            }
            return subscription
        }
    }

    /// Forgets a call whose caller gave up and cancels it on the server; a channel it opens
    /// later is never created here, and the server closes it on the cancel.
    private func abandon(_ id: Int64) {
        let (pending, openedChannel) = self.state.withLock { state -> (PendingAnswer?, Bool) in
            state.channelCalls.remove(id)
            var opened = false
            if let channel = state.newChannels.removeValue(forKey: id) {
                // Answered, but the caller is gone before taking it: close it on the server too.
                state.channels.removeValue(forKey: channel.channelID)?.finish()
                opened = true
            }
            return (state.calls.removeValue(forKey: id), opened)
        }
        guard pending != nil || openedChannel else { return }
        pending?.resolve(.failure(CancellationError()))
        self.cancel(requestID: id)
    }

    /// Sends `xrpc.cancel` for a request id, as go-jsonrpc does when a caller gives up. Queued
    /// on the loop, never written inline: a request sent from off the loop is itself still in
    /// the loop's queue, and its cancel must not overtake it.
    public func cancel(requestID: Int64) {
        let frame = RPCFrames.cancel(requestID: requestID).encoded()
        self.channel.eventLoop.execute { self.queue(frame) }
    }

    /// Sends a ping and waits for the pong.
    public func ping() async {
        await withCheckedContinuation { continuation in
            let closed = self.state.withLock { state -> Bool in
                if !state.closed { state.pongWaiters.append(continuation) }
                return state.closed
            }
            if closed {
                continuation.resume()
            } else {
                self.channel.writeAndFlush(WebSocketFrameWriter.ping(masked: true, allocator: self.channel.allocator), promise: nil)
            }
        }
    }

    /// Writes one frame, in order with every frame written before it.
    private func send(_ frame: ByteBuffer) {
        guard self.channel.eventLoop.inEventLoop else {
            self.channel.writeAndFlush(frame, promise: nil)
            return
        }
        // On the loop, requests written in one pass (the calls of every client read in one
        // wake-up) leave in one flush: one system call instead of one per request.
        self.channel.write(frame, promise: nil)
        if !self.flushPending.exchange(true, ordering: .relaxed) {
            let channel = self.channel
            channel.eventLoop.execute {
                self.flushPending.store(false, ordering: .relaxed)
                channel.flush()
            }
        }
    }

    /// A request larger than this goes as continuation frames of at most this size: a daemon
    /// (or a proxy before it) may refuse one huge frame and close the socket, and with it every
    /// call and channel on it. go-jsonrpc's own client splits at 4 KiB.
    public static let maxFrameBytes = 1 << 20

    private func queueSplit(_ bytes: [UInt8]) {
        self.queue(bytes, fragments: (bytes.count + Self.maxFrameBytes - 1) / Self.maxFrameBytes)
    }

    /// Writes `bytes` as one text frame, or split into `fragments` continuation frames (tests
    /// send raw text through it with FPoolTestSupport's `sendRaw`).
    package func queue(_ bytes: [UInt8], fragments: Int = 1) {
        guard fragments > 1 else { return self.send(WebSocketFrameWriter.text(bytes, masked: true, allocator: self.channel.allocator)) }
        let size = max(1, (bytes.count + fragments - 1) / fragments)
        var frames: [ByteBuffer] = []
        var offset = 0
        repeat {
            let end = min(bytes.count, offset + size)
            frames.append(
                WebSocketFrameWriter.frame(
                    opcode: frames.isEmpty ? WebSocketFrameReader.Opcode.text : WebSocketFrameReader.Opcode.continuation,
                    fin: end == bytes.count, payload: bytes[offset..<end], masked: true, allocator: self.channel.allocator))
            offset = end
        } while offset < bytes.count
        // All fragments in one go on the loop (at once when already on it, keeping the order of
        // writes made one after another), so no other message's frame lands between them.
        let channel = self.channel
        let message = frames
        let writeAll: @Sendable () -> Void = {
            for frame in message { channel.write(frame, promise: nil) }
            channel.flush()
        }
        if channel.eventLoop.inEventLoop { writeAll() } else { channel.eventLoop.execute(writeAll) }
    }

    /// Whether the connection has closed.
    public var isClosed: Bool { self.state.withLock { $0.closed } }

    /// Runs `body` once the connection has closed (by either side), on its event loop.
    public func whenClosed(_ body: @escaping @Sendable () -> Void) {
        self.channel.closeFuture.whenComplete { _ in body() }
    }

    /// The status code of the server's close frame (1009: a message over its limit), if any.
    public var closeCode: UInt16? { self.state.withLock { $0.closeCode } }

    /// True when this client closed the connection because the server went silent (see
    /// `WebSocketKeepalive`).
    package var closedForSilence: Bool { self.state.withLock { $0.closedForSilence } }

    fileprivate func serverClosed(code: UInt16?) {
        self.state.withLock { $0.closeCode = code }
    }

    fileprivate func serverWentSilent() {
        self.state.withLock { $0.closedForSilence = true }
    }

    /// Frames that matched no call or channel (tests check that none came).
    package var strayFrames: [JSON] { self.state.withLock { $0.stray } }

    /// Closes the connection; in-flight calls fail with `connectionClosed`.
    public func close() async {
        self.state.withLock { $0.closedByClient = true }
        try? await self.channel.close()
    }

    /// Starts closing the connection and returns at once: over TLS a close waits for the
    /// peer's reply (up to swift-nio-ssl's 5 s shutdown timeout), which a frozen daemon never sends.
    public func closeSoon() {
        self.state.withLock { $0.closedByClient = true }
        self.channel.close(promise: nil)
    }

    /// Returns once the connection is closed (by either side), or the waiting task is cancelled.
    package func waitUntilClosed() async {
        let id = self.state.withLock { state in
            defer { state.nextCloseWaiter += 1 }
            return state.nextCloseWaiter
        }
        // A waiter that is cancelled (a test past its time limit) stops waiting.
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let done = self.state.withLock { state -> Bool in
                    if state.closed || Task.isCancelled { return true }
                    state.closeWaiters[id] = continuation
                    return false
                }
                if done { continuation.resume() }
            }
        } onCancel: {
            self.state.withLock { $0.closeWaiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// A pong arrived.
    fileprivate func ponged() {
        let waiters = self.state.withLock { state in
            defer { state.pongWaiters = [] }
            return state.pongWaiters
        }
        waiters.forEach { $0.resume() }
    }

    /// One message from the server. `lastResult` is the reading handler's: the last plain
    /// result given to a caller, shared with it rather than copied.
    fileprivate func handle(_ bytes: [UInt8], lastResult: inout [UInt8]?) {
        // The frame nearly every call gets back; channel ids and anything else take the general way.
        if let answer = PlainAnswer.read(bytes, known: lastResult) {
            let pending = self.state.withLock { state in
                state.channelCalls.contains(answer.id) ? nil : state.calls.removeValue(forKey: answer.id)
            }
            if let pending {
                let result = answer.isKnown ? lastResult! : Array(bytes[answer.result])
                // Kept only when large enough for a second walk to cost more than a comparison,
                // and small enough not to pin much memory.
                if !answer.isKnown { lastResult = (256...65536).contains(result.count) ? result : nil }
                return pending.resolve(.success(result))
            }
        }
        guard let frame = try? RawRPCFrame(bytes) else {
            self.state.withLock { $0.keepStray(.string(String(decoding: bytes, as: UTF8.self))) }
            return
        }
        guard let method = frame.methodName else {
            guard let requestID = frame.intID else {
                self.keepStray(bytes)
                return
            }
            let error = frame.decodedError
            let result = frame.result.map { Array(bytes[$0]) } ?? Array("null".utf8)
            let continuation = self.state.withLock { state -> PendingAnswer? in
                guard let continuation = state.calls.removeValue(forKey: requestID) else { return nil }
                if state.channelCalls.remove(requestID) != nil, error == nil,
                    let channelID = RawJSON.decodeInt(bytes, frame.result ?? 0..<0).flatMap(UInt64.init(exactly:))
                {
                    let (stream, streamContinuation) = AsyncStream<[UInt8]>.makeStream(bufferingPolicy: .unbounded)
                    state.channels[channelID] = streamContinuation
                    state.newChannels[requestID] = LotusSubscription(requestID: requestID, channelID: channelID, rawValues: stream)
                }
                return continuation
            }
            guard let continuation else {
                self.keepStray(bytes)
                return
            }
            continuation.resolve(error.map { .failure($0) } ?? .success(result))
            return
        }
        let params = frame.params.flatMap { try? RawJSON.elements(of: bytes, in: $0) } ?? []
        let channelID = params.first.flatMap { RawJSON.decodeInt(bytes, $0) }.flatMap(UInt64.init(exactly:))
        switch method {
        case "xrpc.ch.val" where channelID != nil && params.count == 2 && frame.id == nil:
            let stream = self.state.withLock { $0.channels[channelID!] }
            if let stream { stream.yield(Array(bytes[params[1]])) } else { self.keepStray(bytes) }
        case "xrpc.ch.close" where channelID != nil && frame.id == nil:
            let stream = self.state.withLock { $0.channels.removeValue(forKey: channelID!) }
            stream?.finish()
        default:
            self.keepStray(bytes)
        }
    }

    /// An answer over the size limit, read past: the call it answers (named by the id at its
    /// start or its end, where go-jsonrpc writes it) fails alone. False when no id was found.
    fileprivate func answerTooLarge(bytes: Int, head: [UInt8], tail: [UInt8], limit: Int) -> Bool {
        guard let id = AnswerID.leading(head) ?? AnswerID.trailing(tail) else { return false }
        let pending = self.state.withLock { state in
            state.channelCalls.remove(id)
            return state.calls.removeValue(forKey: id)
        }
        pending?.resolve(.failure(LotusClientError.answerTooLarge(bytes: bytes, limit: limit)))
        return true
    }

    private func keepStray(_ bytes: [UInt8]) {
        guard let json = try? JSON.parse(bytes) else { return }
        self.state.withLock { $0.keepStray(json) }
    }

    fileprivate func connectionDidClose() {
        let (calls, suspect, channels, waiters, pongs) = self.state.withLock { state in
            state.closed = true
            defer {
                state.calls = [:]
                state.channels = [:]
                state.closeWaiters = [:]
                state.pongWaiters = []
            }
            // The server hung up with this request unanswered, the last one it was sent.
            let suspect = state.closedByClient || state.closedForSilence ? nil : state.lastRequestID.flatMap { state.calls[$0] }
            let others = state.calls.filter { $0.key != state.lastRequestID || suspect == nil }.values
            return (Array(others), suspect, Array(state.channels.values), Array(state.closeWaiters.values), state.pongWaiters)
        }
        suspect?.resolve(.failure(LotusClientError.closedAfterRequest))
        for call in calls { call.resolve(.failure(LotusClientError.connectionClosed)) }
        channels.forEach { $0.finish() }
        waiters.forEach { $0.resume() }
        pongs.forEach { $0.resume() }
    }
}

/// Reads the client's frames on the event loop: answers, channel values, pongs, pings, close.
final class LotusWSClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let client: LotusWSClient
    let keepalive: WebSocketKeepalive?
    /// Daemons send large answers (a big miner's sector list) as many frames: the message
    /// limit is generous, and no frame is refused that the message limit would accept. An
    /// answer past it is read past and fails its own call only.
    private var reader: WebSocketFrameReader
    /// The reader's limit, read outside its `read` (which holds it exclusively).
    private let maxAnswerBytes: Int
    private var lastRead = NIODeadline.now()
    private var keepaliveCheck: Scheduled<Void>?
    /// The last plain answer's result (see `PlainAnswer`).
    private var lastResult: [UInt8]?

    init(client: LotusWSClient, keepalive: WebSocketKeepalive?, maxAnswerBytes: Int) {
        self.client = client
        self.keepalive = keepalive
        self.maxAnswerBytes = maxAnswerBytes
        self.reader = WebSocketFrameReader(
            maxFrameSize: maxAnswerBytes, maxMessageSize: maxAnswerBytes, peerMasking: .unmasked, skipsOversizedMessages: true)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.lastRead = .now()
        if let keepalive { self.scheduleKeepalive(context, keepalive) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.keepaliveCheck?.cancel()
    }

    /// Every `interval`: closes a connection silent for `timeout`, pings one silent for `interval`.
    private func scheduleKeepalive(_ context: ChannelHandlerContext, _ keepalive: WebSocketKeepalive) {
        self.keepaliveCheck = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(keepalive.interval)) {
            let silence = NIODeadline.now() - self.lastRead
            if silence >= TimeAmount(keepalive.timeout) {
                self.client.serverWentSilent()
                return context.close(promise: nil)
            }
            if silence >= TimeAmount(keepalive.interval) {
                let ping = WebSocketFrameWriter.ping(masked: true, allocator: context.channel.allocator)
                context.writeAndFlush(Self.wrapOutboundOut(ping), promise: nil)
            }
            self.scheduleKeepalive(context, keepalive)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Bytes after a close or a violation are dropped and do not count as a sign of life.
        guard !self.reader.isFinished else { return }
        self.lastRead = .now()
        do {
            try self.reader.read(Self.unwrapInboundIn(data)) { event in
                switch event {
                case .message(let bytes):
                    self.client.handle(bytes, lastResult: &self.lastResult)
                case .ping(let payload):
                    let pong = WebSocketFrameWriter.pong(echoing: payload, masked: true, allocator: context.channel.allocator)
                    context.writeAndFlush(Self.wrapOutboundOut(pong), promise: nil)
                case .pong:
                    self.client.ponged()
                case .close(let code):
                    self.client.serverClosed(code: code)
                    context.close(promise: nil)
                case .oversized(let bytes, let head, let tail):
                    // Without its id the call it answers cannot be told: as before, the socket
                    // closes and its calls fail, rather than one waiting for ever.
                    guard self.client.answerTooLarge(bytes: bytes, head: head, tail: tail, limit: self.maxAnswerBytes) else {
                        context.close(promise: nil)
                        return
                    }
                }
            }
        } catch {
            // The calls waiting on this socket fail now (and are retried elsewhere) instead of
            // waiting on a server that may not read the close.
            WebSocketFrameWriter.hangUp(context.channel, after: error, masked: true)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.keepaliveCheck?.cancel()
        self.client.connectionDidClose()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
