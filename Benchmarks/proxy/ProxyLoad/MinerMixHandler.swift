// A mix connection: subscribes to ChainNotify when told (`MixSubscribe`), follows the head from
// its channel's values, and from `Go` on runs the closed loop over the miner's mix — one call in
// flight, the next sent when the answer arrives — all on its event loop, as ClosedLoop's
// handlers do. A channel the server closes is subscribed to again, and counted as an error.

import Foundation
import LoadKit
import NIOCore
import NIOWebSocket
import Synchronization

/// Subscribe now. Sent once the upgrade has finished: a frame written while the handler is
/// being added would still meet the HTTP client's handlers.
struct MixSubscribe: Sendable {}

/// How many of a run's connections hold a head (their channel answered and sent a value).
final class MixProgress: Sendable {
    let ready = Atomic<Int>(0)
}

final class MinerMixHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private enum Phase {
        /// ChainNotify sent; its answer (the channel id) not read yet.
        case subscribing
        /// Subscribed; the loop starts once there is a head and a window.
        case subscribed
        /// In the closed loop: one mix call in flight.
        case calling
        case finished
    }

    private var client: MinerMixClient
    private let collector: Collector
    private let progress: MixProgress
    private var phase = Phase.subscribing
    private var state = LoopState()
    private var nextID = 1
    private var countedReady = false
    /// The channel was closed while a call was in flight: subscribe again after its answer.
    private var resubscribe = false

    init(client: MinerMixClient, collector: Collector, progress: MixProgress) {
        self.client = client
        self.collector = collector
        self.progress = progress
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is MixSubscribe:
            self.subscribe(context)
        case let go as Go:
            self.state.window = go
            self.startIfReady(context)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            let payload = frame.unmaskedData
            if payload.offset(after: channelMarker) != nil {
                self.channelTraffic(payload, context)
            } else {
                self.answer(payload, context)
            }
        case .ping:
            context.writeAndFlush(
                self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)),
                promise: nil)
        case .connectionClose:
            self.finish(error: "the server closed the WebSocket")
            context.close(promise: nil)
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.finish(error: "connection closed with a call in flight")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.finish(error: "\(error)")
        context.close(promise: nil)
    }

    // MARK: - Private

    private func subscribe(_ context: ChannelHandlerContext) {
        guard self.phase != .finished else { return }
        self.phase = .subscribing
        self.write(RPCMethod.chainNotify.request(id: self.takeID()), context)
    }

    private func startIfReady(_ context: ChannelHandlerContext) {
        guard self.phase == .subscribed, self.client.head != nil, self.state.window != nil else { return }
        self.phase = .calling
        self.sendNext(context)
    }

    private func sendNext(_ context: ChannelHandlerContext) {
        let request = self.client.nextRequest(id: self.takeID())
        self.state.sentAt = nowNanos()
        self.write(request, context)
    }

    /// `xrpc.ch.val` or `xrpc.ch.close`: rare (a head change), so parsed in full.
    private func channelTraffic(_ payload: ByteBuffer, _ context: ChannelHandlerContext) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(payload.readableBytesView))) as? [String: Any] else { return }
        switch object["method"] as? String {
        case "xrpc.ch.val":
            guard let head = MixHead(notifyValue: object) else { return }
            self.client.headChanged(to: head)
            if !self.countedReady {
                self.countedReady = true
                self.progress.ready.add(1, ordering: .relaxed)
            }
            self.startIfReady(context)
        case "xrpc.ch.close":
            // Only one channel per connection: whichever closed, it was this client's head.
            self.state.failed("ChainNotify channel closed by the server")
            switch self.phase {
            case .calling: self.resubscribe = true
            case .subscribed: self.subscribe(context)
            case .subscribing, .finished: break
            }
        default:
            break
        }
    }

    private func answer(_ payload: ByteBuffer, _ context: ChannelHandlerContext) {
        switch self.phase {
        case .subscribing:
            let object = (try? JSONSerialization.jsonObject(with: Data(payload.readableBytesView))) as? [String: Any]
            guard object?["result"] is NSNumber else {
                self.finish(error: "ChainNotify: " + String(buffer: payload).prefix(300))
                return
            }
            self.phase = .subscribed
            self.startIfReady(context)
        case .calling:
            let call = self.client.inFlight?.rawValue ?? "?"
            let isError = payload.containsErrorMember()
            if !isError { self.client.answered(payload) }
            guard self.state.answered(isError: isError, detail: call + ": " + String(buffer: payload).prefix(300)) else {
                self.finish(error: nil)
                return
            }
            if self.resubscribe {
                self.resubscribe = false
                self.subscribe(context)
            } else {
                self.sendNext(context)
            }
        case .subscribed, .finished:
            break
        }
    }

    private func finish(error: String?) {
        self.phase = .finished
        self.state.finish(self.collector, error: error)
    }

    private func takeID() -> Int {
        defer { self.nextID += 1 }
        return self.nextID
    }

    private func write(_ request: [UInt8], _ context: ChannelHandlerContext) {
        let buffer = context.channel.allocator.buffer(bytes: request)
        context.writeAndFlush(
            self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: buffer)), promise: nil)
    }
}

/// `"xrpc.ch.` — a channel frame (`xrpc.ch.val`, `xrpc.ch.close`); no answer of the mix holds it.
private let channelMarker = Array(#""xrpc.ch."#.utf8)
