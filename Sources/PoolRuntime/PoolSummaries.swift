// What `node list` and `primary list` show, and `primary set`.

/// One node as `fpool node list` prints it.
public struct NodeSummary: Sendable, Equatable {
    /// The node's position in the pool, in the order policies use; it never shifts, even when other nodes exit.
    public let index: Int
    /// The daemon's Session UUID, once known.
    public let id: String?
    /// The node's configured name, unique among listed nodes when added with `fpool node add`.
    public let name: String
    /// `host:port`.
    public let address: String
    /// Running, paused, or disabled with the reason (exited nodes are not listed).
    public let state: NodeState
    /// Whether an operator marked the node sealing, so it also serves routes with `filter=sealing`.
    public let sealing: Bool
    /// The last heartbeat's figures; nil until one reached the node, kept while it is disabled.
    public let health: NodeHealth?
    /// Calls sent to the node since it joined the pool, answered or not (each retry and hedge counts where it went).
    public let calls: UInt64
    /// Whether this is the primary of whoever asked: their token's seed's node, else the pool's PrimarySeed node.
    public let isPrimary: Bool
    /// How many miners prefer this node: client seeds that called the pool, and the pool's PrimarySeed (for clients
    /// without one) counted as one.
    public let primaryOf: Int
    /// How many senders are bound to this node.
    public let boundSeeds: Int
    /// Serving calls now: healthy, or (`degradedFallback`) failing a health rule while no node passes them.
    public let serving: Bool
    /// Serves although it fails a health rule, because no node passes them (the pool is degraded).
    public let degradedFallback: Bool
    /// The chain the daemon follows, once identified.
    public let network: NetworkIdentity?
}

/// The pool's state as `/healthz` and metrics report it.
public struct PoolHealthSummary: Sendable, Equatable {
    /// Nodes passing every health check.
    public let healthy: Int
    /// Nodes serving calls (the healthy ones, or the least-bad fallback).
    public let serving: Int
    /// No node passes the health checks and reachable nodes serve anyway.
    public let degraded: Bool
    /// Which nodes serve and why each fails its checks, when degraded.
    public let detail: String
    /// The chain the pool serves, once settled.
    public let network: NetworkIdentity?
}

/// One sender's binding as `fpool primary list` prints it.
public struct BindingSummary: Sendable, Equatable {
    /// The sender's ID address, e.g. `f01000`.
    public let seed: String
    /// The index of the node the sender's pushes go to: its explicit binding, else its top node by rendezvous
    /// hashing, whether or not that node serves now.
    public let node: Int
    /// True when an operator set the binding with `primary set`; false when rendezvous hashing chose the node.
    public let explicit: Bool

    /// A binding row; the pool builds these in `Pool.bindings`.
    public init(seed: String, node: Int, explicit: Bool) {
        self.seed = seed
        self.node = node
        self.explicit = explicit
    }
}

extension Pool {
    /// Every listed node (exited ones left out) in index order, as one snapshot taken under the pool's lock.
    public var nodes: [NodeSummary] { self.nodes(seenBy: nil) }

    /// Every listed node as a client with `seed` in its token sees them: `isPrimary` marks that miner's primary
    /// (the pool's PrimarySeed node without a seed).
    public func nodes(seenBy seed: MinerSeed?) -> [NodeSummary] {
        self.state.withLock { state in
            let bound = Self.boundSeeds(state)
            let available = state.table.all.candidates.byIndex
            let poolPrimary = Self.poolPrimary(available, state: state)
            var primaryOf = state.seeds.clients.reduce(into: [Int: Int]()) { counts, client in
                if let node = Self.boundOrder(available, seedID: client, state: state).first { counts[node.index, default: 0] += 1 }
            }
            if let poolPrimary { primaryOf[poolPrimary, default: 0] += 1 }
            let primary = seed.map { Self.boundOrder(available, seedID: $0.value, state: state).first?.index } ?? poolPrimary
            return state.table.listed.map { node in
                let isServing = state.table.isServing(node.index)
                return NodeSummary(
                    index: node.index, id: node.id, name: node.endpoint.name,
                    address: "\(node.endpoint.address.host):\(node.endpoint.address.port)", state: node.state, sealing: node.sealing,
                    health: node.health, calls: node.calls.current, isPrimary: node.index == primary,
                    primaryOf: primaryOf[node.index] ?? 0, boundSeeds: bound.filter { $0.value == node.index }.count, serving: isServing,
                    degradedFallback: isServing && !node.state.isAvailable && !state.table.passThrough, network: node.network)
            }
        }
    }

    /// The node OneBySeedRound picks now for clients without a seed: PrimarySeed among the serving nodes.
    static func poolPrimary(_ available: [Candidate], state: State) -> Int? {
        available.isEmpty ? nil : available[Int(state.settings.primarySeed % UInt64(available.count))].index
    }

    /// Healthy and serving counts, and whether the pool is degraded.
    public var health: PoolHealthSummary {
        self.state.withLock { state in
            let serving = state.table.all
            return PoolHealthSummary(
                healthy: state.table.listed.filter { $0.state.isAvailable }.count, serving: serving.candidates.count,
                degraded: serving.degraded, detail: Self.degradedDetail(state.table), network: state.table.network.identity)
        }
    }

    /// Every sender the pool has seen, resolved or bound, with its node, sorted by actor ID; one snapshot.
    public var bindings: [BindingSummary] {
        self.state.withLock { state in
            Self.boundSeeds(state).sorted { $0.key < $1.key }.map { seed, node in
                BindingSummary(seed: "f0\(seed)", node: node, explicit: state.seeds.explicit[seed] != nil)
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
            state.seeds.bind(id, to: try state.table.index(named: node))
        }
    }

    /// Every sender seen or bound → the node it is bound to.
    static func boundSeeds(_ state: State) -> [UInt64: Int] {
        var seeds = Set(state.ledger.senders)
        seeds.formUnion(state.seeds.resolved.values)
        seeds.formUnion(state.seeds.explicit.keys)
        return seeds.reduce(into: [:]) { bound, seed in bound[seed] = Self.boundNode(seedID: seed, state: state) }
    }
}

extension Pool {
    /// A node's name by index (metrics labels); nil for an index the pool does not have.
    public func nodeName(_ index: Int) -> String? {
        self.state.withLock { state in index >= 0 && index < state.table.count ? state.table[index].endpoint.name : nil }
    }
}
