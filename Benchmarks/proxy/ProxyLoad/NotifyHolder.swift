// The memory test's websocket handler: holds one ChainNotify channel open and counts its first value.

import LoadKit
import NIOCore
import NIOWebSocket
import Synchronization

/// For the memory test: on `Go`, subscribes to ChainNotify and counts the first channel value.
final class NotifyHolder: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    final class Counter: Sendable {
        let values = Atomic<Int>(0)
        let closed = Atomic<Int>(0)
    }

    private let counter: Counter
    private var counted = false

    init(counter: Counter) {
        self.counter = counter
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is Go else { return context.fireUserInboundEventTriggered(event) }
        let request = ByteBuffer(bytes: RPCMethod.chainNotify.request(id: 1))
        context.writeAndFlush(
            self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: request)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            if !self.counted, String(buffer: frame.unmaskedData).contains("xrpc.ch.val") {
                self.counted = true
                self.counter.values.add(1, ordering: .relaxed)
            }
        case .ping:
            context.writeAndFlush(
                self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)),
                promise: nil)
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.counter.closed.add(1, ordering: .relaxed)
        context.fireChannelInactive()
    }
}
