// What a heartbeat measured on one node, and the smart-detection verdict on it.

/// One heartbeat's measurements (Session, ChainHead, SyncState, NodeStatus(false)).
public struct NodeHealth: Sendable, Hashable {
    /// The height of the daemon's ChainHead, compared with the best head of the pool for MaxBehindDiff.
    public var head: Int64
    /// NodeStatus SyncStatus.Behind.
    public var behind: UInt64
    /// NodeStatus PeerStatus.PeersToPublishMsgs: peers the daemon publishes messages to; below MinMessagePeers disables it.
    public var messagePeers: UInt64
    /// NodeStatus PeerStatus.PeersToPublishBlocks: peers the daemon publishes blocks to; below MinBlockPeers disables it.
    public var blockPeers: UInt64

    /// One heartbeat's figures, as the connection read them.
    public init(head: Int64, behind: UInt64, messagePeers: UInt64, blockPeers: UInt64) {
        self.head = head
        self.behind = behind
        self.messagePeers = messagePeers
        self.blockPeers = blockPeers
    }
}

/// Why a node may not serve calls now. The text is what `node list` and the log show.
public enum DisableReason: Sendable, Hashable, CustomStringConvertible {
    case unreachable(String)
    case syncBehind(behind: UInt64, max: UInt64)
    case fewMessagePeers(have: UInt64, min: UInt64)
    case fewBlockPeers(have: UInt64, min: UInt64)
    case behindBestHead(head: Int64, best: Int64, max: UInt64)
    /// The heartbeat's probe did not finish within the interval.
    case noAnswer(String)
    /// The daemon follows another chain (genesis or network name differs from the pool's).
    case wrongNetwork(node: String, pool: String)

    /// The reason with the failing figure and the setting it broke, e.g. "sync behind 5 > MaxSyncBehind 2".
    public var description: String {
        switch self {
        case .unreachable(let detail): "unreachable: \(detail)"
        case .syncBehind(let behind, let max): "sync behind \(behind) > MaxSyncBehind \(max)"
        case .fewMessagePeers(let have, let min): "message peers \(have) < MinMessagePeers \(min)"
        case .fewBlockPeers(let have, let min): "block peers \(have) < MinBlockPeers \(min)"
        case .behindBestHead(let head, let best, let max):
            "head \(head) is \(best - head) below the best head \(best) > MaxBehindDiff \(max)"
        case .noAnswer(let detail): "no answer: \(detail)"
        case .wrongNetwork(let node, let pool): "wrong network: the daemon is on \(node), the pool on \(pool)"
        }
    }

    /// The same rule failing with other figures (behind 3, then 4): not news for the log.
    func sameRule(as other: DisableReason) -> Bool {
        switch (self, other) {
        case (.unreachable, .unreachable), (.syncBehind, .syncBehind), (.fewMessagePeers, .fewMessagePeers),
            (.fewBlockPeers, .fewBlockPeers), (.behindBestHead, .behindBestHead), (.wrongNetwork, .wrongNetwork), (.noAnswer, .noAnswer):
            true
        default: false
        }
    }

    /// Whether the node still answers on the pool's chain, only failing a health rule: such a
    /// node serves when no node passes every rule (the least-bad fallback).
    public var isHealthRule: Bool {
        switch self {
        case .syncBehind, .fewMessagePeers, .fewBlockPeers, .behindBestHead, .noAnswer: true
        case .unreachable, .wrongNetwork: false
        }
    }
}

/// Smart detection (PRODUCT.md §3.2): per-node rules and the cross-node head comparison.
package enum HealthEvaluator {
    /// The verdict for every node: nil means healthy. `health[i]` nil means the heartbeat
    /// failed, with `failures[i]` saying how.
    package static func evaluate(health: [NodeHealth?], failures: [String?], settings: PoolSettings) -> [DisableReason?] {
        let best = health.compactMap { $0?.head }.max() ?? 0
        return health.indices.map { index in
            guard let node = health[index] else { return .unreachable(failures[index] ?? "no answer") }
            if node.behind > settings.maxSyncBehind { return .syncBehind(behind: node.behind, max: settings.maxSyncBehind) }
            if node.messagePeers < settings.minMessagePeers {
                return .fewMessagePeers(have: node.messagePeers, min: settings.minMessagePeers)
            }
            if node.blockPeers < settings.minBlockPeers { return .fewBlockPeers(have: node.blockPeers, min: settings.minBlockPeers) }
            if best - node.head > Int64(settings.maxBehindDiff) {
                return .behindBestHead(head: node.head, best: best, max: settings.maxBehindDiff)
            }
            return nil
        }
    }
}
