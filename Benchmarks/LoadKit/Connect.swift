// Opening connections: a WebSocket (HTTP/1.1 upgrade) or a keep-alive HTTP/1.1 connection whose
// pipeline ends in a handler of the caller's choosing; and one-shot HTTP requests for the control
// endpoints (the simulator's, fpool's admin API and health endpoint).

import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

package enum Connect {
    /// Opens `ws://endpoint` and, once upgraded, lets `addHandlers` finish the pipeline (called on
    /// the channel's event loop, after the WebSocket codec and a frame aggregator).
    package static func webSocket(
        _ endpoint: Endpoint, group: any EventLoopGroup, addHandlers: @escaping @Sendable (any Channel) throws -> Void
    ) async throws -> any Channel {
        let (tcp, upgrade): (any Channel, EventLoopFuture<(any Channel)?>) = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .connect(host: endpoint.host, port: endpoint.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let upgrader = NIOTypedWebSocketClientUpgrader<(any Channel)?>(maxFrameSize: 1 << 24) { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                NIOWebSocketFrameAggregator(
                                    minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 1 << 16, maxAccumulatedFrameSize: 1 << 26))
                            try addHandlers(channel)
                            return channel
                        }
                    }
                    // Content-Length: 0 keeps NIO's encoder from announcing a chunked body on the GET.
                    var headers = HTTPHeaders([("Host", endpoint.hostHeader), ("Content-Length", "0")])
                    if let token = endpoint.token { headers.add(name: "Authorization", value: "Bearer \(token)") }
                    let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: endpoint.path, headers: headers)
                    let configuration = NIOTypedHTTPClientUpgradeConfiguration<(any Channel)?>(
                        upgradeRequestHead: head, upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in
                            channel.close(promise: nil)
                            return channel.eventLoop.makeSucceededFuture(nil)
                        })
                    let upgraded = try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                        configuration: .init(upgradeConfiguration: configuration))
                    return (channel, upgraded)
                }
            }
        // Bounded: an upgrade with no answer (or a connection closed under it) fails after 10 s.
        let bounded = tcp.eventLoop.makePromise(of: (any Channel)?.self)
        let timeout = tcp.eventLoop.scheduleTask(in: .seconds(10)) {
            bounded.fail(BenchError("\(endpoint.name): no WebSocket upgrade answer within 10 s"))
            tcp.close(promise: nil)
        }
        upgrade.whenComplete { result in
            timeout.cancel()
            bounded.completeWith(result)
        }
        tcp.closeFuture.whenComplete { _ in
            bounded.fail(BenchError("\(endpoint.name): connection closed during the WebSocket upgrade"))
        }
        guard let channel = try await bounded.futureResult.get() else {
            throw BenchError("\(endpoint.name): WebSocket upgrade refused on \(endpoint.hostHeader)\(endpoint.path)")
        }
        return channel
    }

    /// Opens a plain TCP connection with NIO's HTTP/1.1 client codec, then `addHandlers`.
    package static func http(
        _ endpoint: Endpoint, group: any EventLoopGroup, addHandlers: @escaping @Sendable (any Channel) throws -> Void
    ) async throws -> any Channel {
        try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try addHandlers(channel)
                }
            }
            .connect(host: endpoint.host, port: endpoint.port)
            .get()
    }

    package struct Response: Sendable {
        package let status: UInt
        package let body: [UInt8]

        package var text: String { String(decoding: self.body, as: UTF8.self) }

        /// The body parsed as JSON (objects, arrays, NSNumber, String, NSNull).
        package func json() -> Any? { try? JSONSerialization.jsonObject(with: Data(self.body), options: [.fragmentsAllowed]) }
    }

    /// One request on its own connection (`Connection: close`), bounded by `timeout`.
    package static func request(
        host: String = "127.0.0.1", port: Int, method: HTTPMethod = .GET, path: String, body: String? = nil, token: String? = nil,
        timeout: Duration = .seconds(10)
    ) async throws -> Response {
        try await withThrowingTaskGroup(of: Response.self) { group in
            group.addTask {
                let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connectTimeout(.seconds(5))
                    .connect(host: host, port: port) { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHTTPClientHandlers()
                            return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                        }
                    }
                return try await channel.executeThenClose { inbound, outbound in
                    let bytes = Array((body ?? "").utf8)
                    var headers = HTTPHeaders([
                        ("Host", "\(host):\(port)"), ("Content-Length", String(bytes.count)), ("Connection", "close"),
                        ("Content-Type", "application/json"),
                    ])
                    if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
                    try await outbound.write(.head(HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)))
                    if !bytes.isEmpty { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: bytes)))) }
                    try await outbound.write(.end(nil))
                    var status: UInt = 0
                    var received: [UInt8] = []
                    for try await part in inbound {
                        switch part {
                        case .head(let head): status = head.status.code
                        case .body(let buffer): received += buffer.readableBytesView
                        case .end: return Response(status: status, body: received)
                        }
                    }
                    throw BenchError("\(host):\(port)\(path): connection closed before the response ended")
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw BenchError("\(method) \(host):\(port)\(path): no answer within \(timeout)")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }
}

/// A free TCP port on 127.0.0.1 (for a listen directive of a program started next).
package func freeLocalPort() async throws -> Int {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
    let port = channel.localAddress?.port ?? 0
    try await channel.close()
    return port
}
