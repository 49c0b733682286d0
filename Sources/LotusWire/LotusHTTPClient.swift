// One JSON-RPC call over HTTP POST, as go-jsonrpc's HTTP mode sends it.

import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal HTTP/1.1 client: one POST per connection, the whole response body returned.
public enum LotusHTTPClient {
    /// One HTTP answer, read to its end.
    public struct Response: Sendable {
        /// The HTTP status code: go-jsonrpc sends results and Lotus's own errors with 200, its protocol errors
        /// (-32xxx) with 500, so read the body either way.
        public let status: UInt
        /// The whole body as received, not decoded.
        public let body: [UInt8]

        /// The body as JSON, if it is.
        public var json: JSON? { try? JSON.parse(self.body) }
    }

    /// POSTs `body` to `http://host:port/path`.
    ///
    /// - Throws: connection errors, or `LotusClientError.connectionClosed` when no full
    ///   response arrived.
    public static func post(
        host: String, port: Int, path: String = "/rpc/v1", body: [UInt8], token: String? = nil,
        headers extraHeaders: [(String, String)] = [], method: HTTPMethod = .POST, tls: TLSDialer? = nil,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> Response {
        try await TLSDialer.explainingFailures(of: tls, host: host, port: port) {
            try await self.exchange(
                host: host, port: port, path: path, body: body, token: token, headers: extraHeaders, method: method, tls: tls, group: group)
        }
    }

    private static func exchange(
        host: String, port: Int, path: String, body: [UInt8], token: String?, headers extraHeaders: [(String, String)],
        method: HTTPMethod, tls: TLSDialer?, group: any EventLoopGroup
    ) async throws -> Response {
        let channel = try await ClientBootstrap(group: group)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(try tls.handler(host: host)) }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var headers = HTTPHeaders([
                ("Host", "\(host):\(port)"), ("Content-Type", "application/json"), ("Content-Length", String(body.count)),
                ("Connection", "close"),
            ])
            if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
            for (name, value) in extraHeaders { headers.replaceOrAdd(name: name, value: value) }
            // In one write: a server that answers (and closes) as soon as the body is in, before
            // a separate write of the request's end, would make that write fail.
            try await outbound.write(contentsOf: [
                .head(HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)),
                .body(.byteBuffer(ByteBuffer(bytes: body))), .end(nil),
            ])
            var status: UInt = 0
            var received: [UInt8] = []
            for try await part in inbound {
                switch part {
                case .head(let head): status = head.status.code
                case .body(let buffer): received += buffer.readableBytesView
                case .end: return Response(status: status, body: received)
                }
            }
            throw LotusClientError.connectionClosed
        }
    }

    /// POSTs one JSON-RPC request and returns the HTTP response: its status and raw body (the
    /// caller decodes the JSON, as `Response.json` does).
    public static func call(
        host: String, port: Int, path: String = "/rpc/v1", id: Int64 = 1, method: String, params: [JSON] = [],
        token: String? = nil, tls: TLSDialer? = nil
    ) async throws -> Response {
        try await self.post(
            host: host, port: port, path: path, body: RPCFrames.request(id: id, method: method, params: params).encoded(),
            token: token, tls: tls)
    }
}
