// A bare TCP connection that upgrades to WebSocket by hand and records every byte the server
// sends until it closes: for what a frame-level client never shows (bytes after a close frame,
// the server's answer to a frame a real client would not send).

import LotusWire
import NIOCore
import NIOPosix
import Synchronization

public final class RawWebSocketPeer: Sendable {
    private let channel: any Channel
    private let recorder: ByteRecorder

    /// Connects to `127.0.0.1:port` and sends the upgrade request for `path` (no token: read
    /// permission); frames sent before the 101 arrives are queued behind it by the server.
    public static func connect(port: Int, path: String = "/rpc/v1") async throws -> RawWebSocketPeer {
        let peer = try await self.open(port: port)
        try await peer.upgrade(path: path)
        return peer
    }

    /// Connects to `127.0.0.1:port` and sends nothing yet (`sendRaw`, then `upgrade`).
    public static func open(port: Int) async throws -> RawWebSocketPeer {
        let recorder = ByteRecorder()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(recorder) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawWebSocketPeer(channel: channel, recorder: recorder)
    }

    /// Sends the WebSocket upgrade request for `path`.
    public func upgrade(path: String = "/rpc/v1") async throws {
        try await self.sendRaw(Self.upgradeRequest(path: path))
    }

    /// The text of an upgrade request, with `token` as its bearer token when given.
    public static func upgradeRequest(path: String = "/rpc/v1", token: String? = nil) -> String {
        "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n" + (token.map { "Authorization: Bearer \($0)\r\n" } ?? "")
            + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    }

    /// The text of a keep-alive POST of `body` (no token: read permission).
    public static func postRequest(_ body: String, path: String = "/rpc/v1") -> String {
        "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    /// Sends bytes as they are (an HTTP request before the upgrade).
    public func sendRaw(_ text: String) async throws {
        try await self.channel.writeAndFlush(ByteBuffer(string: text)).get()
    }

    /// Sends bytes that are no text (the start of a TLS handshake).
    public func sendRaw(bytes: [UInt8]) async throws {
        try await self.channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    private init(channel: any Channel, recorder: ByteRecorder) {
        self.channel = channel
        self.recorder = recorder
    }

    /// Sends one text frame, masked as a client's must be unless told otherwise.
    public func send(_ text: String, masked: Bool = true) async throws {
        try await self.channel.writeAndFlush(WebSocketFrameWriter.text(Array(text.utf8), masked: masked, allocator: self.channel.allocator))
            .get()
    }

    /// Sends a close frame (code 1000), as a client that is done does.
    public func sendClose() async throws {
        try await self.channel.writeAndFlush(WebSocketFrameWriter.close(code: 1000, masked: true, allocator: self.channel.allocator)).get()
    }

    /// Stops or resumes reading from the socket.
    public func setReading(_ reading: Bool) async throws {
        try await self.channel.setOption(ChannelOptions.autoRead, value: reading).get()
    }

    /// Returns once the bytes received contain `text`.
    public func waitFor(_ text: String) async { await self.recorder.waitFor(text) }

    /// Closes the connection from this side, as a client that leaves.
    public func close() async { try? await self.channel.close() }

    /// Every byte received, once the server closed the connection: the HTTP answer to the
    /// upgrade, then the frames.
    public func bytesUntilClosed() async throws -> [UInt8] {
        try await self.recorder.closed.futureResult.get()
        return self.recorder.bytes.withLock { $0 }
    }

    /// The frames received until the server closed (after the upgrade's answer, and any HTTP
    /// answers before it), as a client reads them: events up to and including the close frame.
    public func eventsUntilClosed() async throws -> [WebSocketEvent] {
        let bytes = try await self.bytesUntilClosed()
        guard let switched = bytes.firstRange(of: Array("101 Switching Protocols".utf8)),
            let headerEnd = bytes[switched.upperBound...].firstRange(of: Array("\r\n\r\n".utf8))
        else { return [] }
        var reader = WebSocketFrameReader(maxFrameSize: 1 << 26, maxMessageSize: 1 << 26, peerMasking: .unmasked)
        var events: [WebSocketEvent] = []
        try reader.read(ByteBuffer(bytes: bytes[headerEnd.upperBound...])) { events.append($0) }
        return events
    }
}

/// Records every byte a connection receives, until it closes.
private final class ByteRecorder: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    let bytes = Mutex<[UInt8]>([])
    private let waiters = Mutex<[(needle: [UInt8], continuation: CheckedContinuation<Void, Never>)]>([])
    let closed = MultiThreadedEventLoopGroup.singleton.any().makePromise(of: Void.self)

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = Self.unwrapInboundIn(data)
        let ready = self.waiters.withLock { waiters in
            self.bytes.withLock { bytes -> [CheckedContinuation<Void, Never>] in
                let start = bytes.count
                bytes += buffer.readableBytesView
                // Only what just arrived (and a needle's length before it) is searched: a peer
                // that takes in megabytes must not search them all again on every read.
                var ready: [CheckedContinuation<Void, Never>] = []
                waiters.removeAll { waiter in
                    let from = max(0, start - (waiter.needle.count - 1))
                    guard bytes[from...].firstRange(of: waiter.needle) != nil else { return false }
                    ready.append(waiter.continuation)
                    return true
                }
                return ready
            }
        }
        ready.forEach { $0.resume() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.closed.succeed()
    }

    func waitFor(_ text: String) async {
        let needle = Array(text.utf8)
        await untilCancelled {
            await withCheckedContinuation { continuation in
                let seen = self.waiters.withLock { waiters in
                    if self.bytes.withLock({ $0.firstRange(of: needle) != nil }) { return true }
                    waiters.append((needle, continuation))
                    return false
                }
                if seen { continuation.resume() }
            }
        }
    }
}
