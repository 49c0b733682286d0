// The websocket patterns: websockets that send a flood of calls and read nothing, and one
// websocket that pipelines tens of thousands of calls and reads the answers.

import LoadKit
import NIOCore
import NIOWebSocket
import Synchronization

enum WebSocketPatterns {
    /// `sockets` websockets each send `calls` ChainHead requests at once and never read; held
    /// until the proxy closes them all or `hold` passes.
    static func flood(_ endpoint: Endpoint, sizes: PatternSizes, group: any EventLoopGroup) async throws -> Outcome {
        var channels: [any Channel] = []
        defer { for channel in channels { channel.close(promise: nil) } }
        for _ in 0..<sizes.floodSockets {
            channels.append(
                try await Connect.webSocket(endpoint, group: group) { channel in
                    try channel.syncOptions?.setOption(.autoRead, value: false)
                })
        }
        let start = nowNanos()
        let tally = FloodTally(sockets: channels.count)
        var bytes = 0
        for (index, channel) in channels.enumerated() {
            channel.closeFuture.whenComplete { _ in tally.closedAt.withLock { $0[index] = nowNanos() } }
            for batch in stride(from: 1, through: sizes.floodCalls, by: 1000) {
                let ids = batch..<min(sizes.floodCalls + 1, batch + 1000)
                bytes += ids.reduce(0) { $0 + RPCMethod.chainHead.request(id: $1).count }
                Self.write(ids, to: channel).whenSuccess { tally.accepted.add(ids.count, ordering: .relaxed) }
            }
        }
        await wait(atMost: sizes.hold) { tally.closedAt.withLock { $0.allSatisfy { $0 != nil } } }
        let times = tally.closedAt.withLock { $0 }
        let accepted = tally.accepted.load(ordering: .relaxed)
        let total = sizes.floodSockets * sizes.floodCalls
        return Outcome(
            summary:
                "\(sizes.floodSockets) × \(grouped(sizes.floodCalls)) ChainHead (\(String(format: "%.1f MB", Double(bytes) / 1e6)) of requests), no answer read; written into the proxy's socket: \(grouped(accepted))/\(grouped(total)) calls; \(closings(times, after: start, event: "the first request", held: sizes.hold))"
        )
    }

    /// One websocket sends `pipelineCalls` ChainHead requests at once and reads the answers;
    /// awaited until all are answered, the proxy closes it, or `hold` passes.
    static func pipeline(_ endpoint: Endpoint, sizes: PatternSizes, group: any EventLoopGroup) async throws -> Outcome {
        let counter = AnswerCounter.Counts()
        let channel = try await Connect.webSocket(endpoint, group: group) { channel in
            try channel.pipeline.syncOperations.addHandler(AnswerCounter(counts: counter))
        }
        defer { channel.close(promise: nil) }
        let start = nowNanos()
        for batch in stride(from: 1, through: sizes.pipelineCalls, by: 1000) {
            _ = Self.write(batch..<min(sizes.pipelineCalls + 1, batch + 1000), to: channel)
        }
        await wait(atMost: sizes.hold) {
            counter.answers.load(ordering: .relaxed) >= sizes.pipelineCalls || !channel.isActive
        }
        let answers = counter.answers.load(ordering: .relaxed)
        let errors = counter.errors.load(ordering: .relaxed)
        let last = counter.lastAnswer.load(ordering: .relaxed)
        let elapsed = Double(max(last, start) - start) / 1e9
        var summary =
            "\(grouped(sizes.pipelineCalls)) ChainHead sent at once on one websocket: \(grouped(answers)) answered (\(grouped(errors)) of them errors) in \(String(format: "%.1f s", elapsed)), \(formatRate(Double(answers) / max(elapsed, 0.001)))/s"
        if !channel.isActive { summary += "; the proxy closed the websocket after \(seconds(since: start))" }
        if answers < sizes.pipelineCalls, channel.isActive { summary += "; the rest unanswered after \(Int(sizes.hold.seconds)) s" }
        if let first = counter.firstError.withLock({ $0 }) { summary += "; first error: \(first)" }
        return Outcome(summary: summary)
    }

    /// Writes ChainHead calls with these ids and flushes; succeeds when the kernel took the last.
    private static func write(_ ids: Range<Int>, to channel: any Channel) -> EventLoopFuture<Void> {
        channel.eventLoop.flatSubmit {
            let promise = channel.eventLoop.makePromise(of: Void.self)
            for id in ids {
                let frame = WebSocketFrame(
                    fin: true, opcode: .text, maskKey: .random(), data: ByteBuffer(bytes: RPCMethod.chainHead.request(id: id)))
                channel.write(frame, promise: id == ids.last ? promise : nil)
            }
            channel.flush()
            return promise.futureResult
        }
    }
}

/// The flood's count of calls the proxy's socket took, and when each websocket closed.
final class FloodTally: Sendable {
    let accepted = Atomic<Int>(0)
    let closedAt: Mutex<[UInt64?]>

    init(sockets: Int) {
        self.closedAt = Mutex([UInt64?](repeating: nil, count: sockets))
    }
}

/// Counts answers (and error answers) on a pipelining websocket; answers pings.
final class AnswerCounter: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    final class Counts: Sendable {
        let answers = Atomic<Int>(0)
        let errors = Atomic<Int>(0)
        let lastAnswer = Atomic<UInt64>(0)
        let firstError = Mutex<String?>(nil)
    }

    private let counts: Counts

    init(counts: Counts) {
        self.counts = counts
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            let payload = frame.unmaskedData
            if payload.containsErrorMember() {
                self.counts.errors.add(1, ordering: .relaxed)
                self.counts.firstError.withLock { $0 = $0 ?? String(String(buffer: payload).prefix(200)) }
            }
            self.counts.answers.add(1, ordering: .relaxed)
            self.counts.lastAnswer.store(nowNanos(), ordering: .relaxed)
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

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
