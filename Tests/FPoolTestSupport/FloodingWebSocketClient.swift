// A websocket client that sends many requests at once without waiting for its writes, can stop
// reading its socket, and counts the answers it reads: the hostile and heavy clients of the
// robustness tests and benchmarks.

import Foundation
import LotusWire
import NIOCore
import NIOPosix
import Synchronization

public final class FloodingWebSocketClient: Sendable {
    private let channel: any Channel
    private let counter: AnswerCounter

    /// Connects to `127.0.0.1:port` and upgrades to a websocket on `path` (no token: read).
    /// A small receive buffer keeps the kernel from holding megabytes of answers a client
    /// that stops reading would otherwise still take in.
    public static func connect(port: Int, path: String = "/rpc/v1", receiveBuffer: Int = 64 << 10) async throws
        -> FloodingWebSocketClient
    {
        let counter = AnswerCounter()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBuffer))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(counter) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        try await channel.writeAndFlush(ByteBuffer(string: RawWebSocketPeer.upgradeRequest(path: path))).get()
        await counter.waitForUpgrade()
        return FloodingWebSocketClient(channel: channel, counter: counter)
    }

    private init(channel: any Channel, counter: AnswerCounter) {
        self.channel = channel
        self.counter = counter
    }

    /// Queues every request and flushes once, without waiting for the writes: a server that
    /// stops reading leaves them in this client's buffers, not its own.
    public func flood(_ requests: [String]) {
        let channel = self.channel
        channel.eventLoop.execute {
            for request in requests {
                channel.write(WebSocketFrameWriter.text(Array(request.utf8), masked: true, allocator: channel.allocator), promise: nil)
            }
            channel.flush()
        }
    }

    /// Stops or resumes reading from the socket.
    public func setReading(_ reading: Bool) async throws {
        try await self.channel.setOption(ChannelOptions.autoRead, value: reading).get()
    }

    /// Returns once `count` answers (text messages) were read.
    public func waitForAnswers(_ count: Int) async { await self.counter.waitFor(count) }

    public var answers: Int { self.counter.count }

    public func close() async { try? await self.channel.close() }
}

/// Counts the text messages a client websocket reads, after the upgrade's answer.
private final class AnswerCounter: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    private struct State {
        var upgraded = false
        var head: [UInt8] = []
        var reader = WebSocketFrameReader(maxFrameSize: 1 << 26, maxMessageSize: 1 << 26, peerMasking: .unmasked)
        var count = 0
        var upgradeWaiter: CheckedContinuation<Void, Never>?
        var waiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())

    var count: Int { self.state.withLock { $0.count } }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = Self.unwrapInboundIn(data)
        let ready = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
            var ready: [CheckedContinuation<Void, Never>] = []
            if !state.upgraded {
                state.head += buffer.readableBytesView
                guard let end = state.head.firstRange(of: Array("\r\n\r\n".utf8)) else { return [] }
                state.upgraded = true
                buffer = ByteBuffer(bytes: state.head[end.upperBound...])
                if let waiter = state.upgradeWaiter { ready.append(waiter) }
                state.upgradeWaiter = nil
            }
            var messages = 0
            try? state.reader.read(buffer) { if case .message = $0 { messages += 1 } }
            state.count += messages
            let count = state.count
            ready += state.waiters.filter { $0.count <= count }.map(\.continuation)
            state.waiters.removeAll { $0.count <= count }
            return ready
        }
        ready.forEach { $0.resume() }
    }

    func waitForUpgrade() async {
        await untilCancelled { await self.untilUpgraded() }
    }

    private func untilUpgraded() async {
        await withCheckedContinuation { continuation in
            let done = self.state.withLock { state -> Bool in
                if state.upgraded { return true }
                state.upgradeWaiter = continuation
                return false
            }
            if done { continuation.resume() }
        }
    }

    func waitFor(_ count: Int) async {
        await untilCancelled { await self.until(count) }
    }

    private func until(_ count: Int) async {
        await withCheckedContinuation { continuation in
            let done = self.state.withLock { state -> Bool in
                if state.count >= count { return true }
                state.waiters.append((count, continuation))
                return false
            }
            if done { continuation.resume() }
        }
    }
}

/// This process's resident memory now, from /proc/self/status (nil where there is none).
public func residentBytes(ofProcess pid: String = "self") -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let kilobytes = line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
        return kilobytes.map { $0 * 1024 }
    }
    return nil
}
