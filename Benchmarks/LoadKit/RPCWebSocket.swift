// A small go-jsonrpc-style WebSocket client for the scenarios (memory, failover, channel gap):
// calls with their own ids and timeouts, and channel traffic (`xrpc.ch.val`, `xrpc.ch.close`)
// delivered in arrival order. Frames are parsed with JSONSerialization: not for the hot path.

import Foundation
import NIOCore
import NIOPosix
import NIOWebSocket
import Synchronization

/// A parsed server frame. `object` holds Foundation JSON values (immutable once parsed).
package struct RPCFrame: @unchecked Sendable {
    package let object: [String: Any]
    package let receivedAt: UInt64

    package var id: Int? { (self.object["id"] as? NSNumber)?.intValue }
    package var method: String? { self.object["method"] as? String }
    package var params: [Any] { self.object["params"] as? [Any] ?? [] }
    package var result: Any? { self.object["result"] }
    package var error: String? {
        guard let error = self.object["error"] as? [String: Any] else { return nil }
        return "\(error["code"] ?? "?"): \(error["message"] ?? "")"
    }
    /// For `xrpc.ch.val` / `xrpc.ch.close`: the channel id.
    package var channelID: Int? { (self.params.first as? NSNumber)?.intValue }
}

/// Channel traffic and the connection's end, in arrival order.
package enum ChannelEvent: Sendable {
    case value(channel: Int, RPCFrame)
    case closed(channel: Int, at: UInt64)
    case connectionClosed(at: UInt64)
}

package final class RPCWebSocket: Sendable {
    private struct State {
        var nextID = 1
        var pending: [Int: CheckedContinuation<RPCFrame, any Error>] = [:]
        var closed = false
    }

    package let name: String
    private let state = Mutex(State())
    private let channelBox = Mutex<(any Channel)?>(nil)
    package let events: AsyncStream<ChannelEvent>
    private let eventSink: AsyncStream<ChannelEvent>.Continuation

    private init(name: String) {
        self.name = name
        (self.events, self.eventSink) = AsyncStream<ChannelEvent>.makeStream(bufferingPolicy: .unbounded)
    }

    package static func connect(_ endpoint: Endpoint, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws
        -> RPCWebSocket
    {
        let client = RPCWebSocket(name: endpoint.name)
        let channel = try await Connect.webSocket(endpoint, group: group) { channel in
            try channel.pipeline.syncOperations.addHandler(
                TextFrameHandler(onText: { client.receive($0) }, onClose: { client.connectionDidClose() }))
        }
        client.channelBox.withLock { $0 = channel }
        return client
    }

    /// Calls `method` and waits for its answer (an error answer is returned, not thrown).
    ///
    /// - Throws: when the connection closes first or no answer comes within `timeout`.
    package func call(_ method: RPCMethod, timeout: Duration = .seconds(10)) async throws -> RPCFrame {
        guard let channel = self.channelBox.withLock({ $0 }) else { throw BenchError("\(self.name): not connected") }
        return try await withCheckedThrowingContinuation { continuation in
            let id = self.state.withLock { state -> Int? in
                guard !state.closed else { return nil }
                defer { state.nextID += 1 }
                state.pending[state.nextID] = continuation
                return state.nextID
            }
            guard let id else {
                continuation.resume(throwing: BenchError("\(self.name): connection closed"))
                return
            }
            let frame = WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: ByteBuffer(bytes: method.request(id: id)))
            channel.writeAndFlush(frame, promise: nil)
            channel.eventLoop.scheduleTask(in: .nanoseconds(timeout.nanoseconds)) {
                self.fail(id, BenchError("\(self.name): no answer to \(method.label) within \(timeout)"))
            }
        }
    }

    package func close() async {
        try? await self.channelBox.withLock({ $0 })?.close()
    }

    private func fail(_ id: Int, _ error: any Error) {
        self.state.withLock { $0.pending.removeValue(forKey: id) }?.resume(throwing: error)
    }

    private func receive(_ bytes: [UInt8]) {
        let now = nowNanos()
        guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else { return }
        let frame = RPCFrame(object: object, receivedAt: now)
        if let method = frame.method {
            guard let channel = frame.channelID else { return }
            switch method {
            case "xrpc.ch.val": self.eventSink.yield(.value(channel: channel, frame))
            case "xrpc.ch.close": self.eventSink.yield(.closed(channel: channel, at: now))
            default: break
            }
            return
        }
        guard let id = frame.id else { return }
        self.state.withLock { $0.pending.removeValue(forKey: id) }?.resume(returning: frame)
    }

    private func connectionDidClose() {
        let pending = self.state.withLock { state in
            state.closed = true
            defer { state.pending = [:] }
            return Array(state.pending.values)
        }
        for continuation in pending { continuation.resume(throwing: BenchError("\(self.name): connection closed")) }
        self.eventSink.yield(.connectionClosed(at: nowNanos()))
        self.eventSink.finish()
    }
}

/// Hands text frames to a callback; answers pings; reports the close once.
package final class TextFrameHandler: ChannelInboundHandler {
    package typealias InboundIn = WebSocketFrame
    package typealias OutboundOut = WebSocketFrame

    private let onText: @Sendable ([UInt8]) -> Void
    private let onClose: @Sendable () -> Void
    private var closed = false

    package init(onText: @escaping @Sendable ([UInt8]) -> Void, onClose: @escaping @Sendable () -> Void) {
        self.onText = onText
        self.onClose = onClose
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            self.onText(Array(frame.unmaskedData.readableBytesView))
        case .ping:
            context.writeAndFlush(
                self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)),
                promise: nil)
        case .connectionClose:
            context.close(promise: nil)
        default:
            break
        }
    }

    package func channelInactive(context: ChannelHandlerContext) {
        if !self.closed {
            self.closed = true
            self.onClose()
        }
        context.fireChannelInactive()
    }

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
