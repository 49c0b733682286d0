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

/// The chain the pool serves: fixed by `FPOOL_NETWORK` (a name), or by the daemons first
/// identified (the identity most of them share; ties go to the lowest index).
struct PoolNetwork: Sendable {
    /// `FPOOL_NETWORK`, when the operator fixed it.
    let expectedName: String?
    /// The identity the pool settled on.
    private(set) var identity: NetworkIdentity?

    init(expectedName: String?) {
        self.expectedName = expectedName
    }

    /// Settles the pool's network from the nodes identified so far (index order), once.
    mutating func settle(from identities: [NetworkIdentity]) {
        guard self.identity == nil, !identities.isEmpty else { return }
        if let expected = self.expectedName {
            self.identity = identities.first { $0.name == expected }
            return
        }
        var counts: [NetworkIdentity: Int] = [:]
        for identity in identities { counts[identity, default: 0] += 1 }
        let most = counts.values.max() ?? 0
        self.identity = identities.first { counts[$0] == most }
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
