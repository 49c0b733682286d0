// Which node each sender's pushes go to: the operator's `primary set`, else rendezvous
// (highest-random-weight) hashing of the sender over the configured nodes.

/// Sender → node bindings. Rendezvous hashing ranks every node for a sender by a weight of
/// (sender, node address): adding or removing one of N nodes moves only the senders whose
/// top node changed (about 1/N of them), and two pools given the same daemons agree, because
/// the weight depends on nothing else (not on the node's index, name or Session).
struct SeedBindings: Sendable {
    /// `primary set`: sender actor ID → node index.
    private(set) var explicit: [UInt64: Int] = [:]
    /// Key addresses resolved to actor IDs (capped: a client naming endless addresses cannot grow it).
    private(set) var resolved: [String: UInt64] = [:]
    static let maxResolved = 4096
    /// Seeds of client tokens that called (capped like `resolved`), for `node list`'s count of miners per primary.
    private(set) var clients: Set<UInt64> = []

    mutating func bind(_ seed: UInt64, to node: Int) {
        self.explicit[seed] = node
    }

    /// Forgets every explicit binding to a node that left the pool.
    mutating func unbind(node: Int) {
        self.explicit = self.explicit.filter { $0.value != node }
    }

    mutating func noteClient(_ seed: UInt64) {
        if self.clients.count < Self.maxResolved { self.clients.insert(seed) }
    }

    /// Forgets every address resolved: the pool moved to another chain, where the same key
    /// address may be another actor, or none.
    mutating func forgetResolved() {
        self.resolved = [:]
    }

    mutating func remember(_ address: String, id: UInt64) {
        if self.resolved.count < Self.maxResolved { self.resolved[address] = id }
    }

    /// The sender's nodes in preference order: its explicit binding, then every node by
    /// rendezvous weight. `nodes` are the candidates (index and address key).
    func ranking(of seed: UInt64, over nodes: [(index: Int, key: String)]) -> [Int] {
        var ranked = nodes.map { (index: $0.index, weight: Self.weight(seed: seed, key: $0.key)) }
            .sorted { $0.weight != $1.weight ? $0.weight > $1.weight : $0.index < $1.index }
            .map(\.index)
        if let bound = self.explicit[seed], let position = ranked.firstIndex(of: bound) {
            ranked.remove(at: position)
            ranked.insert(bound, at: 0)
        }
        return ranked
    }

    /// The weight of a node for a sender: a fixed 64-bit hash (FNV-1a of the node's key, mixed
    /// with the sender by SplitMix64's finaliser), the same in every process and release.
    static func weight(seed: UInt64, key: String) -> UInt64 {
        var hash: UInt64 = 14_695_981_039_346_656_037
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
        var mixed = hash ^ (seed &* 0x9E37_79B9_7F4A_7C15)
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    /// The rendezvous key of a node: its address, which names the daemon whatever the pool
    /// calls it.
    static func key(of endpoint: NodeEndpoint) -> String {
        "\(endpoint.address.host):\(endpoint.address.port)"
    }
}
