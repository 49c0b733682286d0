// One simulated daemon's state: identity, faults, view of the chain, mpool, subscribers.

import Foundation
import LotusWire

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
    /// Sync paused: the head stays where it is.
    var syncPaused = false
    var lag: Int64 = 0
    var messagePeers = 5
    var blockPeers = 5
    /// The other network this daemon follows; nil for the cluster's own.
    var network: String?

    var wallet: Set<String>
    /// Pushed here and not yet published to the network: sender ID → nonce → (message, when).
    var local: [String: [UInt64: (message: SimSignedMessage, at: ContinuousClock.Instant)]] = [:]
    /// The height this daemon has synced to (what ChainNotify subscribers were last told).
    /// It never moves down: a lagging or paused daemon stalls, and a reorg replaces tipsets at
    /// the same heights (or one more).
    var head: Int64 = 0
    /// The tipset at `head` when a reorg orphaned it and the daemon has not followed yet (it is
    /// dead or paused); nil while its head is on the network's chain.
    var orphanedHead: SimTipSet?
    /// The orphaned tipsets it had synced (first block CIDs): its blockstore keeps them, so it
    /// still answers for them by key.
    var knownOrphans: Set<String> = []
    /// Channel subscribers: each sends a value to its connection, in order.
    var subscriptions: [Int: (kind: SubscriptionKind, send: @Sendable (JSON) -> Void)] = [:]
    var waiters: [SimWaiter] = []
    /// Calls answered, for the control endpoint's status.
    var calls: UInt64 = 0
    /// CPU time burned on state reads' configured cost (`SimConfiguration.stateReadCost`).
    var readCostCPU: Duration = .zero

    init(index: Int, name: String, port: Int, secret: [UInt8], wallet: Set<String>) {
        self.index = index
        self.name = name
        self.port = port
        self.secret = secret
        self.session = UUID().uuidString.lowercased()
        self.peerID = SimIdentifiers.peerID("daemon-\(index)-\(port)")
        self.wallet = wallet
    }

    /// Whether it follows the network now: alive and syncing.
    var follows: Bool { self.running && !self.syncPaused }

    /// Where this daemon's head goes when the network is at `network`: forward to `network -
    /// lag`, unless it is dead or its sync is paused.
    func nextHead(network: Int64) -> Int64 {
        guard self.follows else { return self.head }
        return max(self.head, min(network, network - self.lag))
    }

    var adminToken: String { LotusJWT.sign(allow: ["read", "write", "sign", "admin"], secret: self.secret) }
}
