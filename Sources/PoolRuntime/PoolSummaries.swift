// What `node list` and `primary list` show, and `primary set`.

/// One node as `fpool node list` prints it.
public struct NodeSummary: Sendable, Equatable {
    public let index: Int
    /// The daemon's Session UUID, once known.
    public let id: String?
    public let name: String
    /// `host:port`.
    public let address: String
    public let state: NodeState
    public let sealing: Bool
    public let health: NodeHealth?
    public let calls: UInt64
    /// Whether this is the pool's PrimarySeed node.
    public let isPrimary: Bool
    /// How many senders are bound to this node.
    public let boundSeeds: Int
}

/// One sender's binding as `fpool primary list` prints it.
public struct BindingSummary: Sendable, Equatable {
    /// The sender's ID address, e.g. `f01000`.
    public let seed: String
    public let node: Int
    public let explicit: Bool

    public init(seed: String, node: Int, explicit: Bool) {
        self.seed = seed
        self.node = node
        self.explicit = explicit
    }
}

extension Pool {
    public var nodes: [NodeSummary] {
        self.state.withLock { state in
            let bound = Self.boundSeeds(state)
            // The node OneBySeedRound picks now: PrimarySeed among the available nodes.
            let available = state.available.byIndex
            let primary = available.isEmpty ? -1 : available[Int(state.settings.primarySeed % UInt64(available.count))].index
            return state.nodes.map { node in
                NodeSummary(
                    index: node.index, id: node.id, name: node.endpoint.name,
                    address: "\(node.endpoint.address.host):\(node.endpoint.address.port)", state: node.state, sealing: node.sealing,
                    health: node.health, calls: node.calls.current, isPrimary: node.index == primary,
                    boundSeeds: bound.filter { $0.value == node.index }.count)
            }
        }
    }

    public var bindings: [BindingSummary] {
        self.state.withLock { state in
            Self.boundSeeds(state).sorted { $0.key < $1.key }.map { seed, node in
                BindingSummary(seed: "f0\(seed)", node: node, explicit: state.bindings[seed] != nil)
            }
        }
    }

    /// `primary set --seed=<actor> --nid=<node>`: the sender's pushes go to that node.
    ///
    /// - Throws: `PoolCommandError` for a seed that is not an ID address or an unknown node.
    public func bind(seed: String, node: String) throws(PoolCommandError) {
        guard let id = Self.idNumber(seed) else {
            throw PoolCommandError("seed '\(seed)' is not an actor ID address (f0… or t0…)")
        }
        try self.state.withLock { state throws(PoolCommandError) in
            let index = try Self.nodeIndex(node, in: state)
            state.bindings[id] = index
        }
    }

    /// The node an operator names by Session id or name; the error names the known nodes.
    static func nodeIndex(_ node: String, in state: State) throws(PoolCommandError) -> Int {
        if let index = state.nodes.firstIndex(where: { $0.id == node || $0.endpoint.name == node }) { return index }
        let known = state.nodes.map { $0.id ?? $0.endpoint.name }
        let hint = NameSuggestion.closest(to: node, among: known).map { "; did you mean \($0)?" } ?? ""
        throw PoolCommandError("unknown node '\(node)'\(hint); nodes: \(known.joined(separator: ", "))")
    }

    /// Every sender seen or bound → the node it is bound to.
    static func boundSeeds(_ state: State) -> [UInt64: Int] {
        guard !state.nodes.isEmpty else { return [:] }
        var seeds = Set(state.ledger.senders)
        seeds.formUnion(state.seedIDs.values)
        seeds.formUnion(state.bindings.keys)
        return Dictionary(uniqueKeysWithValues: seeds.map { ($0, Self.boundNode(seedID: $0, state: state)) })
    }
}

extension Pool {
    /// A node's name by index (metrics labels); nil for an index the pool does not have.
    public func nodeName(_ index: Int) -> String? {
        self.state.withLock { state in index >= 0 && index < state.nodes.count ? state.nodes[index].endpoint.name : nil }
    }
}
