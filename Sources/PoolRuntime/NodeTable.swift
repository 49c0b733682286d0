// The pool's nodes and which of them serve calls now: the healthy ones, or, when none passes
// the health checks, the least-bad reachable ones (the pool is then "degraded").

/// The nodes that may serve one kind of route (all routes, or those with `filter=sealing`).
struct ServingSet: Sendable {
    /// The serving nodes in every order a policy can want.
    var candidates = CandidateSet([])
    /// True when no node of this kind passes the health checks and `candidates` are reachable
    /// nodes failing a health rule, which serve anyway rather than leave calls with nothing.
    var degraded = false
    /// Degraded: the fallback nodes best first (those that answered their last probe, then
    /// highest head, fewest failed checks, index), the order every non-push call then takes
    /// whatever its policy.
    var bestFirst: [Candidate] = []
}

/// Every node, and the serving sets derived from them (rebuilt on every change, so routing
/// reads them without sorting or allocating).
struct NodeTable: Sendable {
    private(set) var nodes: [NodeRecord] = []
    private(set) var all = ServingSet()
    private(set) var sealing = ServingSet()
    /// The chain the pool serves.
    var network: PoolNetwork
    /// `FULLNODE_API_USE_POOL=false`: every node not paused or exited serves, whatever its
    /// health, as a direct connection would.
    let passThrough: Bool

    init(network: PoolNetwork, passThrough: Bool) {
        self.network = network
        self.passThrough = passThrough
    }

    var count: Int { self.nodes.count }

    subscript(index: Int) -> NodeRecord {
        get { self.nodes[index] }
        set { self.nodes[index] = newValue }
    }

    /// A node's socket, name and call counter, read in place: every read asks for them, and a
    /// copy of the whole record retains each of its fields.
    func link(_ index: Int) -> NodeLink {
        NodeLink(connection: self.nodes[index].connection, name: self.nodes[index].endpoint.name, calls: self.nodes[index].calls)
    }

    var indices: Range<Int> { self.nodes.indices }

    /// The nodes an operator sees (`node list`): every node not exited.
    var listed: [NodeRecord] { self.nodes.filter { $0.state != .exited } }

    mutating func append(_ record: NodeRecord) {
        self.nodes.append(record)
    }

    /// The serving set for routes with `filter`.
    func serving(sealingOnly: Bool) -> ServingSet { sealingOnly ? self.sealing : self.all }

    /// Whether the node serves calls now (healthy, or a fallback of a degraded pool).
    func isServing(_ index: Int) -> Bool {
        self.all.candidates.byIndex.contains { $0.index == index }
            || self.sealing.candidates.byIndex.contains { $0.index == index }
    }

    /// Recomputes the serving sets after any node change.
    mutating func rebuild() {
        self.all = self.servingSet { _ in true }
        self.sealing = self.servingSet { $0.sealing }
    }

    private func servingSet(_ include: (NodeRecord) -> Bool) -> ServingSet {
        let kind = self.nodes.filter(include)
        if self.passThrough {
            return ServingSet(candidates: CandidateSet(kind.filter { $0.state != .paused && $0.state != .exited }.map(\.candidate)))
        }
        let healthy = kind.filter { $0.state.isAvailable }
        if !healthy.isEmpty { return ServingSet(candidates: CandidateSet(healthy.map(\.candidate))) }
        let fallback = kind.filter { node in
            if case .disabled(let reason) = node.state { return reason.isHealthRule }
            return false
        }
        guard !fallback.isEmpty else { return ServingSet() }
        let bestFirst = fallback.sorted { a, b in
            // A silent node's head is its last known one: a node that answers goes first.
            let (silentA, silentB) = (a.state.isSilent, b.state.isSilent)
            if silentA != silentB { return !silentA }
            let (headA, headB) = (a.health?.head ?? 0, b.health?.head ?? 0)
            if headA != headB { return headA > headB }
            if a.failedChecks != b.failedChecks { return a.failedChecks < b.failedChecks }
            return a.index < b.index
        }
        return ServingSet(candidates: CandidateSet(fallback.map(\.candidate)), degraded: true, bestFirst: bestFirst.map(\.candidate))
    }

    /// The listed node an operator names by Session id or name.
    ///
    /// - Throws: `PoolCommandError` naming the listed nodes when none matches.
    func index(named node: String) throws(PoolCommandError) -> Int {
        if let index = self.nodes.firstIndex(where: { $0.state != .exited && ($0.id == node || $0.endpoint.name == node) }) {
            return index
        }
        let known = self.listed.map { $0.id ?? $0.endpoint.name }
        let hint = NameSuggestion.closest(to: node, among: known).map { "; did you mean \($0)?" } ?? ""
        throw PoolCommandError("unknown node '\(node)'\(hint); nodes: \(known.joined(separator: ", "))")
    }

    /// Why `endpoint` may not join: a listed node has the same address or name.
    func duplicate(of endpoint: NodeEndpoint) -> PoolCommandError? {
        for node in self.listed {
            if node.endpoint.address.host == endpoint.address.host && node.endpoint.address.port == endpoint.address.port {
                return PoolCommandError(
                    "\(endpoint.address.host):\(endpoint.address.port) is already in the pool as node \(node.endpoint.name)")
            }
            if node.endpoint.name == endpoint.name {
                return PoolCommandError("a node named \(endpoint.name) is already in the pool; give another --name")
            }
        }
        return nil
    }

    /// The listed node a daemon with this Session already is (the same daemon by another address).
    func node(withSession session: String) -> NodeRecord? {
        self.listed.first { $0.id == session }
    }
}
