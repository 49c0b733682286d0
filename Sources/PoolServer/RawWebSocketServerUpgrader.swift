// The server side of the WebSocket handshake, by NIO's upgrader, with the connection's own
// frame handler behind it: after the upgrade the channel carries raw bytes to a
// `WebSocketFrameReader`, with none of NIO's frame encoder, decoder or error handler.

import NIOCore
import NIOHTTP1
import NIOWebSocket

/// NIO's server handshake (`shouldUpgrade`, key and version checks, the accept header);
/// `upgradePipeline` adds the handlers.
struct RawWebSocketServerUpgrader<UpgradeResult: Sendable>: NIOTypedHTTPServerProtocolUpgrader {
    private let handshake: NIOTypedWebSocketServerUpgrader<UpgradeResult>
    private let upgradePipeline: @Sendable (any Channel, HTTPRequestHead) -> EventLoopFuture<UpgradeResult>

    init(
        shouldUpgrade: @escaping @Sendable (any Channel, HTTPRequestHead) -> EventLoopFuture<HTTPHeaders?>,
        upgradePipeline: @escaping @Sendable (any Channel, HTTPRequestHead) -> EventLoopFuture<UpgradeResult>
    ) {
        // Only its handshake is used: `upgrade` below never calls into it, so its own pipeline
        // (NIO's frame handlers) is never built.
        self.handshake = NIOTypedWebSocketServerUpgrader(
            shouldUpgrade: shouldUpgrade,
            upgradePipelineHandler: { channel, _ in channel.eventLoop.makeFailedFuture(ChannelError.operationUnsupported) })
        self.upgradePipeline = upgradePipeline
    }

    var supportedProtocol: String { self.handshake.supportedProtocol }
    var requiredUpgradeHeaders: [String] { self.handshake.requiredUpgradeHeaders }

    func buildUpgradeResponse(channel: any Channel, upgradeRequest: HTTPRequestHead, initialResponseHeaders: HTTPHeaders)
        -> EventLoopFuture<HTTPHeaders>
    {
        self.handshake.buildUpgradeResponse(
            channel: channel, upgradeRequest: upgradeRequest, initialResponseHeaders: initialResponseHeaders)
    }

    func upgrade(channel: any Channel, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<UpgradeResult> {
        self.upgradePipeline(channel, upgradeRequest)
    }
}
