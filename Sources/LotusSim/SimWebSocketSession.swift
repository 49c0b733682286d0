// One WebSocket connection to a simulated daemon: calls answered out of order, go-jsonrpc
// channels, xrpc.cancel, pings.

import LotusWire
import NIOCore
import NIOWebSocket
import Synchronization

final class SimWebSocketSession: Sendable {
    private struct State {
        var inflight: [Int64: Task<Void, Never>] = [:]
        /// Request id → the channel it opened.
        var channels: [Int64: (channelID: UInt64, subscription: Int)] = [:]
        var nextChannelID: UInt64 = 1
    }

    let processor: SimRequestProcessor
    let world: SimWorld
    let daemon: Int
    private let state = Mutex(State())

    init(processor: SimRequestProcessor, world: SimWorld, daemon: Int) {
        self.processor = processor
        self.world = world
        self.daemon = daemon
    }

    func run(_ websocket: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>) async throws {
        try await websocket.executeThenClose { inbound, outbound in
            // Every outgoing frame goes through one ordered stream: a channel's id answer is
            // queued before its first value, and values keep their order.
            let (frames, sender) = AsyncStream<WebSocketFrame>.makeStream(bufferingPolicy: .unbounded)
            let send: @Sendable (JSON) -> Void = { json in
                // A black-holed daemon sends nothing at all, channel values included.
                if self.blackHoled { return }
                sender.yield(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(bytes: SimWireEncoding.bytes(of: json))))
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await frame in frames { try await outbound.write(frame) }
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
                        // No pongs from a black hole: clients must notice the silence.
                        if !self.blackHoled { sender.yield(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)) }
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

    private var blackHoled: Bool { self.world.blackHoles[self.daemon].isOn }

    private func receive(_ bytes: [UInt8], send: @escaping @Sendable (JSON) -> Void) {
        // A black-holed daemon reads and never answers.
        if self.blackHoled { return }
        guard let json = try? JSON.parse(bytes) else {
            send(RPCFrames.error(id: 0, .parse("invalid JSON")))
            return
        }
        let requestID = json["method"] != nil ? json["id"]?.int : nil
        self.state.withLock { state in
            let task = Task {
                await self.handle(json, send: send)
                if let requestID { _ = self.state.withLock { $0.inflight.removeValue(forKey: requestID) } }
            }
            if let requestID { state.inflight[requestID] = task }
        }
    }

    private func handle(_ json: JSON, send: @escaping @Sendable (JSON) -> Void) async {
        switch await self.processor.process(json: json) {
        case .reply(let frame):
            send(frame)
        case .openChannel(let id, let kind):
            let channelID = self.state.withLock { state in
                defer { state.nextChannelID += 1 }
                return state.nextChannelID
            }
            send(RPCFrames.result(id: id, .int(Int64(channelID))))
            let subscription = self.world.subscribe(
                kind, daemon: self.daemon,
                send: { value in send(RPCFrames.channelValue(channel: channelID, value)) })
            if let requestID = id.int {
                self.state.withLock { $0.channels[requestID] = (channelID, subscription) }
            }
        case .cancel(let requestID):
            // A call still in flight is cancelled (it answers "context canceled") and awaited,
            // so a channel that was still opening is found and closed below, not missed.
            let task = self.state.withLock { $0.inflight[requestID] }
            if let task {
                task.cancel()
                await task.value
            }
            let channel = self.state.withLock { $0.channels.removeValue(forKey: requestID) }
            if let channel {
                // go-jsonrpc closes a cancelled channel from the server side.
                if self.world.unsubscribe(channel.subscription, daemon: self.daemon) {
                    send(RPCFrames.channelClose(channel: channel.channelID))
                }
            }
        case .none:
            break
        }
    }

    private func tearDown() {
        let (tasks, channels) = self.state.withLock { state in
            defer {
                state.inflight = [:]
                state.channels = [:]
            }
            return (Array(state.inflight.values), Array(state.channels.values))
        }
        tasks.forEach { $0.cancel() }
        for channel in channels { self.world.unsubscribe(channel.subscription, daemon: self.daemon) }
    }
}
