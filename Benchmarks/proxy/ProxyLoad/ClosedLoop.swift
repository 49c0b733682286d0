// Closed-loop load: each connection has exactly one call in flight and sends the next as soon as
// the answer arrives, all inside its event loop (no task hops, no locks on the call path). A call
// counts when it was sent at or after the window's start and answered by its end; its latency
// (send → whole answer read) goes into the connection's own histogram, merged at the end.

import Foundation
import Histogram
import LoadKit
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization

/// Start sending; count calls inside [measureStart, measureEnd].
struct Go: Sendable {
    let measureStart: UInt64
    let measureEnd: UInt64
}

/// What the connections of one run report.
final class Collector: Sendable {
    struct Totals: Sendable {
        var histogram = makeHistogram()
        var ok = 0
        var errors = 0
        var finished = 0
        var firstError: String?
    }

    private let totals = Mutex(Totals())

    func deposit(_ histogram: Histogram<UInt64>, ok: Int, errors: Int, firstError: String?) {
        self.totals.withLock { totals in
            totals.histogram.add(histogram)
            totals.ok += ok
            totals.errors += errors
            totals.finished += 1
            if totals.firstError == nil { totals.firstError = firstError }
        }
    }

    var snapshot: Totals { self.totals.withLock { $0 } }
}

/// The state every closed-loop handler shares (one instance per connection, loop-confined).
struct LoopState {
    var window: Go?
    var sentAt: UInt64 = 0
    var histogram = makeHistogram()
    var ok = 0
    var errors = 0
    var firstError: String?
    var finished = false

    /// Records the answer to the call in flight; returns whether to send the next one.
    mutating func answered(isError: Bool, detail: @autoclosure () -> String) -> Bool {
        guard let window = self.window, !self.finished else { return false }
        let now = nowNanos()
        if isError {
            self.errors += 1
            if self.firstError == nil { self.firstError = detail() }
        } else if self.sentAt >= window.measureStart, now <= window.measureEnd {
            self.ok += 1
            self.histogram.record(now - self.sentAt)
        }
        return now < window.measureEnd
    }

    /// Counts a failure that is no answer (the mix's channel closed under it).
    mutating func failed(_ detail: String) {
        self.errors += 1
        if self.firstError == nil { self.firstError = detail }
    }

    mutating func finish(_ collector: Collector, error: String? = nil) {
        guard !self.finished else { return }
        self.finished = true
        if let error {
            self.errors += 1
            if self.firstError == nil { self.firstError = error }
        }
        collector.deposit(self.histogram, ok: self.ok, errors: self.errors, firstError: self.firstError)
    }
}

/// Closed loop over a WebSocket: `{"jsonrpc":"2.0","method":…,"params":…,"id":N}`, N counting up.
final class LoadWSHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let prefix: [UInt8]
    private let collector: Collector
    private var nextID = 1
    private var state = LoopState()

    init(call: RPCMethod, collector: Collector) {
        self.prefix = call.requestPrefix
        self.collector = collector
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let go = event as? Go else { return context.fireUserInboundEventTriggered(event) }
        self.state.window = go
        self.send(context)
    }

    private func send(_ context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: self.prefix.count + 24)
        buffer.writeBytes(self.prefix)
        buffer.writeString(String(self.nextID))
        buffer.writeInteger(UInt8(ascii: "}"))
        self.nextID += 1
        self.state.sentAt = nowNanos()
        context.writeAndFlush(
            self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: buffer)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            let payload = frame.unmaskedData
            if self.state.answered(
                isError: payload.containsErrorMember(), detail: String(buffer: payload).prefix(300).description)
            {
                self.send(context)
            } else {
                self.state.finish(self.collector)
            }
        case .ping:
            context.writeAndFlush(
                self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)),
                promise: nil)
        case .connectionClose:
            self.state.finish(self.collector, error: "the server closed the WebSocket")
            context.close(promise: nil)
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.state.finish(self.collector, error: "connection closed with a call in flight")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.state.finish(self.collector, error: "\(error)")
        context.close(promise: nil)
    }
}

/// Closed loop over HTTP/1.1 keep-alive: the same POST (one JSON-RPC request) again and again.
final class LoadHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let head: HTTPRequestHead
    private let body: ByteBuffer
    private let collector: Collector
    private var status: UInt = 0
    private var received = ByteBuffer()
    private var state = LoopState()

    init(endpoint: Endpoint, call: RPCMethod, collector: Collector) {
        let bytes = call.request(id: 1)
        var headers = HTTPHeaders([
            ("Host", endpoint.hostHeader), ("Content-Type", "application/json"), ("Content-Length", String(bytes.count)),
        ])
        if let token = endpoint.token { headers.add(name: "Authorization", value: "Bearer \(token)") }
        self.head = HTTPRequestHead(version: .http1_1, method: .POST, uri: endpoint.path, headers: headers)
        self.body = ByteBuffer(bytes: bytes)
        self.collector = collector
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let go = event as? Go else { return context.fireUserInboundEventTriggered(event) }
        self.state.window = go
        self.send(context)
    }

    private func send(_ context: ChannelHandlerContext) {
        self.state.sentAt = nowNanos()
        context.write(self.wrapOutboundOut(.head(self.head)), promise: nil)
        context.write(self.wrapOutboundOut(.body(.byteBuffer(self.body))), promise: nil)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.status = head.status.code
            self.received.clear()
        case .body(var part):
            self.received.writeBuffer(&part)
        case .end:
            let isError = self.status != 200 || self.received.containsErrorMember()
            if self.state.answered(
                isError: isError, detail: "HTTP \(self.status): " + String(buffer: self.received).prefix(300))
            {
                self.send(context)
            } else {
                self.state.finish(self.collector)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.state.finish(self.collector, error: "connection closed with a call in flight")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.state.finish(self.collector, error: "\(error)")
        context.close(promise: nil)
    }
}

/// One closed-loop run's result.
struct LoadResult: Sendable {
    let connections: Int
    let seconds: Double
    let totals: Collector.Totals
    /// Connections that had not reported by the end (a call never answered).
    let stuck: Int
    /// CPU readings at the window's start and end (from the caller's `sample`).
    let cpuStart: CPUSample
    let cpuEnd: CPUSample

    var rate: Double { Double(self.totals.ok) / self.seconds }
    func percentile(_ p: Double) -> UInt64 { self.totals.histogram.valueAtPercentile(p) }

    /// CPU microseconds per answered call in the window: (proxy, daemons, load generator).
    var cpuPerCall: (proxy: Double, sim: Double, loadgen: Double) {
        let used = self.cpuEnd - self.cpuStart
        let calls = Double(max(1, self.totals.ok))
        return (used.proxy / calls * 1e6, used.sim / calls * 1e6, used.loadgen / calls * 1e6)
    }

    /// Share of the machine's cores other processes used in the window.
    var othersShare: Double {
        (self.cpuEnd - self.cpuStart).others / (self.seconds * Double(ProcessInfo.processInfo.activeProcessorCount))
    }

    /// Failed calls and connections that never reported.
    var errors: Int { self.totals.errors + self.stuck }
}

enum ClosedLoop {
    /// Opens `connections` connections, runs `warmup` then `duration` of closed-loop calls, and
    /// closes them. Bounded: a connection with no answer 5 s after the end counts as stuck.
    static func run(
        endpoint: Endpoint, transport: Transport, call: RPCMethod, connections: Int, warmup: Duration, duration: Duration,
        group: any EventLoopGroup, sample: @Sendable () -> CPUSample
    ) async throws -> LoadResult {
        let collector = Collector()
        let loops = group
        let channels = try await Self.openAll(connections) { index in
            try await Self.open(endpoint, transport, call.forConnection(index), collector, loops: loops)
        }
        defer {
            for channel in channels { channel.close(promise: nil) }
        }
        let start = nowNanos() + UInt64(warmup.nanoseconds)
        let end = start + UInt64(duration.nanoseconds)
        let go = Go(measureStart: start, measureEnd: end)
        for channel in channels { channel.pipeline.fireUserInboundEventTriggered(go) }
        try await Task.sleep(for: .nanoseconds(max(0, Int64(start) - Int64(nowNanos()))))
        let cpuStart = sample()
        try await Task.sleep(for: .nanoseconds(max(0, Int64(end) - Int64(nowNanos()))))
        let cpuEnd = sample()
        let deadline = end + 5_000_000_000
        while collector.snapshot.finished < connections, nowNanos() < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let totals = collector.snapshot
        return LoadResult(
            connections: connections, seconds: Double(duration.nanoseconds) / 1e9, totals: totals,
            stuck: connections - totals.finished, cpuStart: cpuStart, cpuEnd: cpuEnd)
    }

    /// Opens `count` connections with `open` (given each one's index), a few at a time: a listen
    /// backlog is no part of what is measured. If one fails, those opened are closed.
    static func openAll(_ count: Int, _ open: @escaping @Sendable (Int) async throws -> any Channel) async throws -> [any Channel] {
        var channels: [any Channel] = []
        do {
            try await withThrowingTaskGroup(of: (any Channel).self) { tasks in
                var started = 0
                while started < min(count, 16) {
                    let index = started
                    tasks.addTask { try await open(index) }
                    started += 1
                }
                for try await channel in tasks {
                    channels.append(channel)
                    if started < count {
                        let index = started
                        tasks.addTask { try await open(index) }
                        started += 1
                    }
                }
            }
        } catch {
            for channel in channels { channel.close(promise: nil) }
            throw error
        }
        return channels
    }

    private static func open(
        _ endpoint: Endpoint, _ transport: Transport, _ call: RPCMethod, _ collector: Collector, loops: any EventLoopGroup
    ) async throws -> any Channel {
        switch transport {
        case .ws:
            try await Connect.webSocket(endpoint, group: loops) { channel in
                try channel.pipeline.syncOperations.addHandler(LoadWSHandler(call: call, collector: collector))
            }
        case .http:
            try await Connect.http(endpoint, group: loops) { channel in
                try channel.pipeline.syncOperations.addHandler(LoadHTTPHandler(endpoint: endpoint, call: call, collector: collector))
            }
        }
    }
}

/// CPU seconds used so far by the proxy, the simulated daemons and this load generator.
struct CPUSample: Sendable {
    var proxy: Double = 0
    var sim: Double = 0
    var loadgen: Double = 0
    /// CPU seconds of every other process on the machine (busy time in /proc/stat less the above
    /// and whichever proxy is idle).
    var others: Double = 0

    static func - (lhs: CPUSample, rhs: CPUSample) -> CPUSample {
        CPUSample(
            proxy: lhs.proxy - rhs.proxy, sim: lhs.sim - rhs.sim, loadgen: lhs.loadgen - rhs.loadgen, others: lhs.others - rhs.others)
    }
}
