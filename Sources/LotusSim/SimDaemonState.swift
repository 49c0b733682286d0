// One simulated daemon's state: identity, faults, view of the chain, mpool, subscribers.

import Foundation
import LotusWire

/// Where a channel's values go: the server's connection writes them out in order.
struct SimChannelSink: Sendable {
    let send: @Sendable (JSON) -> Void
    let close: @Sendable () -> Void
}

/// A StateWaitMsg call waiting for its message to be included deep enough.
struct SimWaiter: Sendable {
    let id: Int
    let cid: String
    let confidence: Int64
    let continuation: CheckedContinuation<JSON, any Error>
}

struct SimDaemonState: Sendable {
    enum SubscriptionKind: Sendable { case chainNotify, mpoolSub }

    let index: Int
    let name: String
    var port: Int
    let secret: [UInt8]
    var session: String
    let peerID: String

    var running = true
    var blackHole = false
    var latencyMilliseconds = 0
    var failNext: [String: (count: Int, error: RPCError)] = [:]
    var frozenAt: Int64?
    var lag: Int64 = 0
    var messagePeers = 5
    var blockPeers = 5

    var wallet: Set<String>
    /// Pushed here and not yet published to the network: sender ID → nonce → (message, when).
    var local: [String: [UInt64: (message: SimSignedMessage, at: ContinuousClock.Instant)]] = [:]
    /// The head height ChainNotify subscribers were last told about.
    var notifiedHeight: Int64 = 0
    var subscriptions: [Int: (kind: SubscriptionKind, sink: SimChannelSink)] = [:]
    var waiters: [SimWaiter] = []
    /// Calls answered, for the control endpoint's status.
    var calls: UInt64 = 0

    init(index: Int, name: String, port: Int, secret: [UInt8], wallet: Set<String>) {
        self.index = index
        self.name = name
        self.port = port
        self.secret = secret
        self.session = UUID().uuidString.lowercased()
        self.peerID = SimIdentifiers.peerID("daemon-\(index)-\(port)")
        self.wallet = wallet
    }

    /// The height this daemon has synced to, given the network's.
    func viewHeight(network: Int64) -> Int64 {
        max(0, min(self.frozenAt ?? .max, network - self.lag))
    }

    var adminToken: String { LotusJWT.sign(allow: ["read", "write", "sign", "admin"], secret: self.secret) }
}
