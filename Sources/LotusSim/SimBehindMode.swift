// How a simulated daemon's NodeStatus computes `SyncStatus.Behind`: from its head's age, as
// Lotus does, or as the true distance to the network's head.

/// The rule NodeStatus's `Behind` follows on every daemon of a cluster.
public enum SimBehindMode: String, Sendable, CaseIterable {
    /// As Lotus: the head tipset's age in whole block times. A synced daemon reports 0 or 1,
    /// and null rounds make every daemon report more at once, as on mainnet.
    case headAge = "head-age"
    /// The epochs between the daemon's head and the network's newest tipset: exact, and blind
    /// to null rounds (the simulator's earlier behaviour).
    case trueLag = "true-lag"
}
