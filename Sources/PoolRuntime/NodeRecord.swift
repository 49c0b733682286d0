// One daemon in the pool: identity, operator state, health, and its connection.

/// The operator's and the health checker's verdict on a node.
public enum NodeState: Sendable, Hashable, CustomStringConvertible {
    case running
    /// Operator paused it (`node set --key=status --val=pause`).
    case paused
    /// Operator removed it (`--val=exit`): gone from `node list`, routing and every binding.
    /// The record stays behind the scenes so that node indices never shift.
    case exited
    /// The heartbeat disabled it; it comes back by itself when healthy.
    case disabled(DisableReason)

    /// The word `node list` shows; a disabled node's reason follows in parentheses.
    public var description: String {
        switch self {
        case .running: "running"
        case .paused: "paused"
        case .exited: "exited"
        case .disabled(let reason): "disabled (\(reason))"
        }
    }

    /// Whether the node is running: not paused, exited or disabled. Routing uses only available nodes, except in a
    /// degraded pool (nodes failing only a health rule serve too) and in pass-through mode.
    public var isAvailable: Bool { self == .running }

    /// Disabled because its last probe found no answer in time.
    var isSilent: Bool {
        if case .disabled(.noAnswer) = self { return true }
        return false
    }
}

/// A node as `node list` shows it and routing reads it. A value: the pool replaces it whole.
package struct NodeRecord: Sendable {
    /// Position in the pool (index order for the policies).
    package let index: Int
    /// The daemon's token, address and name as configured or added with `node add`.
    package let endpoint: NodeEndpoint
    /// The daemon's `Session` UUID; nil until the first heartbeat reaches it.
    package var id: String?
    /// Running, paused or exited by the operator, or disabled by the heartbeat with the reason.
    package var state: NodeState
    /// Only sealing-marked nodes serve routes with `filter=sealing`.
    package var sealing: Bool
    /// The last heartbeat's measurements (kept while disabled, for display).
    package var health: NodeHealth?
    /// The daemon's chain, learned when it was first reached and after each restart.
    package var network: NetworkIdentity?
    /// Heartbeats failed in a row (orders the least-bad fallback: fewest first).
    package var failedChecks = 0
    /// When a heartbeat last saw its head move (the pool's clock).
    var headMovedAt: Duration?
    /// How often its connection was lost: a heartbeat probe that started before the latest
    /// loss says nothing of the daemon since (it may be another process, on another chain).
    var connectionLosses: UInt64 = 0
    /// The heartbeats started when the connection was last lost: only a later one's verdict
    /// tells whether the daemon is back.
    var lostAtBeat: UInt64 = 0
    /// The number of the latest heartbeat whose probe of this node was judged (a probe from
    /// before a loss is not).
    var judgedAtBeat: UInt64 = 0
    /// Taken out because one of its sockets closed by itself: its other sockets stay open until
    /// a heartbeat judges it, so what they carry (a push, a block) finishes there if the daemon
    /// is fine, and are closed then if it is not.
    var socketsKeptUntilJudged = false
    let connection: any NodeConnection
    /// Calls sent to this node.
    let calls: Counter

    var candidate: Candidate {
        Candidate(
            index: self.index, head: self.health?.head ?? 0, messagePeers: self.health?.messagePeers ?? 0,
            blockPeers: self.health?.blockPeers ?? 0)
    }
}
