// One client WebSocket (lotus-miner, a worker): many calls in flight answered out of order,
// go-jsonrpc channels, xrpc.cancel both ways, pings, and a bound on what waits to be written.

import Logging
import LotusWire
import NIOCore
import NIOWebSocket
import PoolRuntime
import Synchronization

final class ClientWebSocketSession: Sendable {
    private struct State {
        /// Request id → the call answering it; removed by whoever answers first (the call or a cancel).
        var inflight: [Int64: (token: UInt64, task: Task<Void, Never>?)] = [:]
        var nextToken: UInt64 = 1
        /// Request id → the channel it opened.
        var channels: [Int64: ClientChannel] = [:]
        var nextChannelID: UInt64 = 1
    }

    /// Frames queued for writing beyond this mean the client stopped reading: the connection is
    /// closed (the client redials and subscribes again) instead of buffering without limit.
    static let maxQueuedFrames = 4096

    let router: ClientRequestRouter
    let runner: ClientCallRunner
    let inflightCalls: InflightCalls
    let logger: Logger
    private let state = Mutex(State())
    private let queued = Atomic<Int>(0)

    init(router: ClientRequestRouter, runner: ClientCallRunner, inflightCalls: InflightCalls, logger: Logger) {
        self.router = router
        self.runner = runner
        self.inflightCalls = inflightCalls
        self.logger = logger
    }

    func run(_ websocket: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>) async throws {
        let channel = websocket.channel
        try await websocket.executeThenClose { inbound, outbound in
            // One ordered writer: a channel's id answer is queued before its first value.
            let (frames, sender) = AsyncStream<WebSocketFrame>.makeStream(bufferingPolicy: .unbounded)
            let send: @Sendable ([UInt8]) -> Void = { bytes in
                if self.queued.add(1, ordering: .relaxed).newValue > Self.maxQueuedFrames {
                    self.logger.warning("client is not reading its websocket (\(Self.maxQueuedFrames) frames queued); closing it")
                    channel.close(promise: nil)
                    return
                }
                sender.yield(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(bytes: bytes)))
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await frame in frames {
                        try await outbound.write(frame)
                        if frame.opcode == .text { self.queued.subtract(1, ordering: .relaxed) }
                    }
                }
                defer {
                    self.tearDown()
                    sender.finish()
                }
                for try await frame in inbound {
                    switch frame.opcode {
                    case .text, .binary:
                        self.receive(Array(frame.unmaskedData.readableBytesView), send: send)
                    case .ping:
                        sender.yield(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData))
                    case .connectionClose:
                        sender.yield(WebSocketFrame(fin: true, opcode: .connectionClose, data: ByteBuffer()))
                        return
                    default:
                        break
                    }
                }
            }
        }
    }

    private func receive(_ bytes: [UInt8], send: @escaping @Sendable ([UInt8]) -> Void) {
        switch self.router.read(bytes) {
        case .reply(let frame): send(frame)
        case .ignore: break
        case .cancel(let requestID): self.cancel(requestID, send: send)
        case .call(let id, let requestID, let call):
            self.start(requestID, send: send) { await self.runner.answer(call, id: id) }
        case .admin(let id, let requestID, let method, let params):
            self.start(requestID, send: send) { await self.runner.answerAdmin(method: method, params: params, id: id) }
        case .channel(let id, let requestID, let call):
            self.openChannel(call, id: id, requestID: requestID, send: send)
        }
    }

    /// Runs one call in its own task; its answer is sent unless a cancel answered first.
    private func start(_ requestID: Int64?, send: @escaping @Sendable ([UInt8]) -> Void, _ answer: @escaping @Sendable () async -> [UInt8])
    {
        self.inflightCalls.enter()
        guard let requestID else {
            Task {
                let frame = await answer()
                if !frame.isEmpty { send(frame) }
                self.inflightCalls.leave()
            }
            return
        }
        self.state.withLock { state in
            let token = state.nextToken
            state.nextToken += 1
            state.inflight[requestID] = (token, nil)
            let task = Task {
                let frame = await answer()
                if self.finish(requestID, token: token) { send(frame) }
                self.inflightCalls.leave()
            }
            state.inflight[requestID]?.task = task
        }
    }

    /// True when the call `token` still owns `requestID` (and now gives it up).
    private func finish(_ requestID: Int64, token: UInt64) -> Bool {
        self.state.withLock { state in
            guard state.inflight[requestID]?.token == token else { return false }
            state.inflight[requestID] = nil
            return true
        }
    }

    private func openChannel(_ call: PoolCall, id: [UInt8], requestID: Int64?, send: @escaping @Sendable ([UInt8]) -> Void) {
        let channel = self.state.withLock { state in
            defer { state.nextChannelID += 1 }
            return ClientChannel(clientID: state.nextChannelID, send: send)
        }
        let pool = self.runner.pool
        self.start(requestID, send: send) {
            switch await pool.openChannel(call, events: { channel.deliver($0) }) {
            case .failure(let refusal):
                return refusal.reply.frame(id: id)
            case .success(let opened):
                let owned =
                    requestID.map { requestID in
                        self.state.withLock { state -> Bool in
                            guard state.inflight[requestID] != nil else { return false }
                            state.inflight[requestID] = nil
                            state.channels[requestID] = channel
                            return true
                        }
                    } ?? true
                guard owned else {
                    // Cancelled while it opened: the cancel already answered.
                    await pool.closeChannel(opened.id)
                    return []
                }
                channel.activate(reply: RawRPCFrames.result(id: id, result: String(channel.clientID).utf8), poolID: opened.id)
                return []
            }
        }
    }

    private func cancel(_ requestID: Int64, send: @escaping @Sendable ([UInt8]) -> Void) {
        let (call, channel) = self.state.withLock { state in
            (state.inflight.removeValue(forKey: requestID), state.channels.removeValue(forKey: requestID))
        }
        if let call {
            // Every request is answered, even a cancelled one (LOTUS-WIRE.md §3).
            send(RawRPCFrames.error(id: String(requestID).utf8, RPCError.canceled))
            call.task?.cancel()
        }
        if let channel, let poolID = channel.close() {
            let pool = self.runner.pool
            Task { await pool.closeChannel(poolID) }
        }
    }

    private func tearDown() {
        let (calls, channels) = self.state.withLock { state in
            defer {
                state.inflight = [:]
                state.channels = [:]
            }
            return (Array(state.inflight.values), Array(state.channels.values))
        }
        calls.forEach { $0.task?.cancel() }
        let pool = self.runner.pool
        let poolIDs = channels.compactMap { $0.close() }
        if !poolIDs.isEmpty {
            Task { for id in poolIDs { await pool.closeChannel(id) } }
        }
    }
}
