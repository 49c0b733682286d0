// The client side of the WebSocket handshake, by NIO's upgrader, with the connection's own
// frame handler behind it: after the upgrade the channel carries raw bytes to a
// `WebSocketFrameReader`, with none of NIO's frame encoder, decoder or error handler.

import NIOCore
import NIOHTTP1
import NIOWebSocket

/// NIO's client handshake (key, version, accept check); `upgradePipeline` adds the handlers.
struct RawWebSocketClientUpgrader<UpgradeResult: Sendable>: NIOTypedHTTPClientProtocolUpgrader {
    private let handshake: NIOTypedWebSocketClientUpgrader<UpgradeResult>
    private let upgradePipeline: @Sendable (any Channel, HTTPResponseHead) -> EventLoopFuture<UpgradeResult>

    init(upgradePipeline: @escaping @Sendable (any Channel, HTTPResponseHead) -> EventLoopFuture<UpgradeResult>) {
        // Only its handshake is used: `upgrade` below never calls into it, so its own pipeline
        // (NIO's frame handlers) is never built.
        self.handshake = NIOTypedWebSocketClientUpgrader { channel, _ in
            channel.eventLoop.makeFailedFuture(ChannelError.operationUnsupported)
        }
        self.upgradePipeline = upgradePipeline
    }

    var supportedProtocol: String { self.handshake.supportedProtocol }
    var requiredUpgradeHeaders: [String] { self.handshake.requiredUpgradeHeaders }

    func addCustom(upgradeRequestHeaders: inout HTTPHeaders) {
        self.handshake.addCustom(upgradeRequestHeaders: &upgradeRequestHeaders)
    }

    func shouldAllowUpgrade(upgradeResponse: HTTPResponseHead) -> Bool {
        self.handshake.shouldAllowUpgrade(upgradeResponse: upgradeResponse)
    }

    func upgrade(channel: any Channel, upgradeResponse: HTTPResponseHead) -> EventLoopFuture<UpgradeResult> {
        self.upgradePipeline(channel, upgradeResponse)
    }
}
