// Which chain a daemon follows: its genesis and network name. Heads of two chains are not
// comparable, so a daemon of another network must never serve or set the best head.

/// A daemon's chain, learned from `ChainGetGenesis` and `StateNetworkName` when it is first
/// reached and after every restart.
public struct NetworkIdentity: Sendable, Hashable, CustomStringConvertible {
    /// The genesis tipset's first block CID.
    public let genesis: String
    /// `StateNetworkName`: `mainnet`, `calibrationnet`, a devnet's name.
    public let name: String

    /// An identity as a daemon reported it; equal identities mean the same chain.
    public init(genesis: String, name: String) {
        self.genesis = genesis
        self.name = name
    }

    /// The network name with its genesis CID, as node listings and wrong-network reasons print it.
    public var description: String { "\(self.name) (genesis \(self.genesis))" }
}

/// The chain the pool serves: the identity most of the identified daemons share (ties go to the
/// lowest index), among those named `FPOOL_NETWORK` when the operator set it. Settled from the
/// daemons first identified, and moved once another identity is held by more than half of the
/// pool's daemons while the settled one is not: the first daemon to answer at start-up can be
/// the one an operator pointed at the wrong chain, and it must not shut the others out for
/// good.
struct PoolNetwork: Sendable {
    /// `FPOOL_NETWORK`, when the operator fixed it.
    let expectedName: String?
    /// The identity the pool settled on.
    private(set) var identity: NetworkIdentity?
    /// How many times it moved since it settled.
    private(set) var moves = 0

    init(expectedName: String?) {
        self.expectedName = expectedName
    }

    /// A move of the pool's chain, for the log.
    struct Change: Sendable, Equatable {
        let from: NetworkIdentity
        let to: NetworkIdentity
        /// Daemons on the new chain, of `nodes` in the pool.
        let holders: Int
        let nodes: Int
    }

    /// Settles (or moves) the pool's network from the nodes identified so far (index order),
    /// of `nodes` daemons in the pool; returns the move when the settled chain changed.
    mutating func settle(from identities: [NetworkIdentity], of nodes: Int) -> Change? {
        let candidates = self.expectedName.map { expected in identities.filter { $0.name == expected } } ?? identities
        guard !candidates.isEmpty else { return nil }
        var counts: [NetworkIdentity: Int] = [:]
        for identity in candidates { counts[identity, default: 0] += 1 }
        let most = counts.values.max() ?? 0
        let leader = candidates.first { counts[$0] == most }!
        guard let current = self.identity else {
            self.identity = leader
            return nil
        }
        let majority = nodes / 2 + 1
        guard leader != current, most >= majority, counts[current, default: 0] < majority else { return nil }
        self.identity = leader
        self.moves += 1
        return Change(from: current, to: leader, holders: most, nodes: nodes)
    }

    /// Why a node of `identity` may not serve, or nil when it is on the pool's chain. A node not
    /// identified yet is judged once it is.
    func refusal(of identity: NetworkIdentity) -> DisableReason? {
        if let pool = self.identity {
            return pool == identity ? nil : .wrongNetwork(node: identity.description, pool: pool.description)
        }
        if let expected = self.expectedName, identity.name != expected {
            return .wrongNetwork(node: identity.description, pool: "\(expected) (FPOOL_NETWORK)")
        }
        return nil
    }
}
