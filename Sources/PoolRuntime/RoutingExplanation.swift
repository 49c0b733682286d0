// `fpool api why <method>`: the candidate nodes of a call, their state, and the rule that
// picked, ordered or excluded each one.

import GeneratedRoutes
import RouteModel

/// Why each node would or would not serve a call of one method now.
public struct RoutingExplanation: Sendable, Equatable {
    /// One listed node's part in the call: where it stands in the try order, or why it is left out.
    public struct Verdict: Sendable, Equatable {
        /// The node's pool index, as `node list` shows it.
        public let index: Int
        /// The node's name as configured (`FULLNODE_API_POOL_INFO` or `node add`).
        public let name: String
        /// The daemon's Session UUID; nil until a heartbeat reached it.
        public let id: String?
        /// The node's state as `node list` prints it, e.g. `running` or `disabled (…)`.
        public let state: String
        /// The node's ChainHead height at the last heartbeat; nil before the first.
        public let head: Int64?
        /// Position in the try order (0 = picked first); nil when excluded.
        public let rank: Int?
        /// Why the node has its rank (`picked`, `fallback 2`, with any caveat) or why it is excluded.
        public let reason: String
    }

    /// The method's name without the `Filecoin.` prefix.
    public let method: String
    /// The API version whose route was explained.
    public let version: APIVersion
    /// The settings in force for the method (route defaults or the operator's override).
    public let policy: String
    /// The filter in force: `all` or `sealing`.
    public let filter: String
    /// Whether a call fails at once when no node can serve it, instead of waiting.
    public let nohang: Bool
    /// The call timeout as a Go duration; `0s` means none.
    public let timeout: String
    /// The route's effect (`read`, `push` or `write`), which decides retries and hedging.
    public let effect: String
    /// The rule that ordered the candidates.
    public let rule: String
    /// When the call would be sent to the next node too (hedging), or why never.
    public let hedge: String
    /// Whether the call's answer is cached: its class, and for given params whether it would be answered from the cache.
    public let cache: String
    /// A verdict for every listed node, in index order.
    public let nodes: [Verdict]
}

extension Pool {
    /// Explains the routing of `method` as the next call would see it; counts no call.
    ///
    /// - Parameters:
    ///   - id: the method, from the generated tables (`.v1(.stateGetActor)`).
    ///   - sender: for pushes, the sender to explain the binding for (an ID address, or one
    ///     the pool has resolved before).
    ///   - height: an epoch the call names (tipset-aware ordering).
    ///   - params: the call's JSON params, to say whether this very call would be answered from the cache.
    ///   - fixedTipsets: whether every TipSetKey param of `params` names a tipset (`CallFacts.fixedTipsets`).
    public func explain(
        _ id: RouteID, sender: String? = nil, height: Int64? = nil, params: [UInt8]? = nil, fixedTipsets: Bool = false
    ) -> RoutingExplanation {
        let route = id.route
        let cache = self.explainCache(id, params: params, fixedTipsets: fixedTipsets)
        let callID = self.currentCallID(id)
        let seedID: UInt64? =
            route.seed == nil
            ? nil : sender.flatMap { address in Self.idNumber(address) ?? self.state.withLock { $0.seeds.resolved[address] } }
        let decision = self.decide(route: route, facts: CallFacts(sender: sender, height: height), callID: callID, seedID: seedID)
        return self.state.withLock { state in
            let override = state.overrides[route.name] ?? APIRouteOverride(route: route)
            let policy = override.policy.resolved(poolDefault: state.settings.defaultPolicy)
            let order: [Candidate]
            switch decision.outcome {
            case .order(let picked), .notReached(let picked): order = Array(picked)
            case .noCandidate: order = []
            }
            let serving = state.table.serving(sealingOnly: override.filter == .sealing)
            let candidates = serving.candidates
            var rule: String
            if route.seed != nil, let seedID, let bound = Self.boundNode(seedID: seedID, state: state) {
                let how =
                    state.seeds.explicit[seedID] != nil
                    ? "set by `primary set`" : "rendezvous hashing of the sender over \(state.table.listed.count) nodes"
                rule =
                    "push bound to its sender f0\(seedID): node \(state.table[bound].endpoint.name) (\(how)); if it cannot serve, the sender's next node in that ranking"
            } else if route.seed != nil {
                rule = "push bound to its sender; name the sender (--sender) to see its node. Without one: policy \(policy.rawValue)"
            } else if serving.degraded {
                rule =
                    "pool degraded: no node passes the health checks, so the reachable nodes serve anyway, best head first (policy \(policy.rawValue) resumes when a node passes)"
            } else {
                rule =
                    "policy \(policy.rawValue): "
                    + Self.describe(policy, candidates: candidates.count, callID: callID, seed: state.settings.primarySeed)
            }
            if state.table.passThrough {
                rule += "; pass-through (FULLNODE_API_USE_POOL=false): no health gating, no retry, no waiting"
            }
            if let height {
                rule += "; nodes whose head has reached epoch \(height) first"
            }
            var verdicts: [RoutingExplanation.Verdict] = []
            for node in state.table.listed {
                let rank = order.firstIndex { $0.index == node.index }
                let reason: String
                if override.filter == .sealing && !node.sealing {
                    reason = "excluded: not marked sealing (this API has filter=sealing)"
                } else if let rank {
                    let lagging = height.map { node.health?.head ?? 0 < $0 } ?? false
                    let relaxed =
                        node.state.isAvailable || state.table.passThrough ? "" : " (serving while degraded although \(node.state))"
                    reason =
                        (rank == 0 ? "picked" : "fallback \(rank)") + relaxed
                        + (lagging ? " (head \(node.health?.head ?? 0) has not reached epoch \(height!))" : "")
                } else if !node.state.isAvailable {
                    reason = "excluded: \(node.state)"
                } else {
                    reason = "excluded"
                }
                verdicts.append(
                    RoutingExplanation.Verdict(
                        index: node.index, name: node.endpoint.name, id: node.id, state: node.state.description, head: node.health?.head,
                        rank: rank, reason: reason))
            }
            if order.isEmpty {
                rule +=
                    override.nohang ? "; no node can serve it now: calls fail at once (nohang)" : "; no node can serve it now: calls wait"
            }
            let setting = override.hedge ?? state.settings.hedgeDelay
            let hedge: String
            if route.effect != .read {
                hedge = "never: a \(route.effect.rawValue) is never sent twice"
            } else if let delay = self.latency.delay(id, setting) {
                let source = override.hedge == nil ? "HedgeDelay \(setting)" : "api set hedge \(setting)"
                hedge = "after \(delay.goText) without an answer, the next node too (\(source))"
            } else {
                hedge = "off (\(override.hedge == nil ? "HedgeDelay" : "api set hedge") off)"
            }
            return RoutingExplanation(
                method: route.name, version: id.version, policy: policy.rawValue, filter: override.filter.rawValue, nohang: override.nohang,
                timeout: override.timeout.description, effect: route.effect.rawValue, rule: rule, hedge: hedge, cache: cache,
                nodes: verdicts)
        }
    }

    static func describe(_ policy: Policy, candidates: Int, callID: UInt64, seed: UInt64) -> String {
        guard candidates > 0 else { return "no available node" }
        switch policy {
        case .oneByIndexAsc: return "the first available node in index order, then the next"
        case .oneByIndexDesc: return "the last available node, then the previous"
        case .oneByIdRound:
            return "next CallId \(callID) mod \(candidates) available = position \(callID % UInt64(candidates)), then round robin"
        case .oneBySeedRound:
            return "PrimarySeed \(seed) mod \(candidates) available = position \(seed % UInt64(candidates)), then round robin"
        case .oneByChainHeadDesc: return "the highest ChainHead first"
        case .oneByMessagePeersDesc: return "the most message-publishing peers first"
        case .oneByBlockPeersDesc: return "the most block-publishing peers first"
        case .allWithFirstSucceed: return "sent to every available node at once; the first success answers"
        }
    }

    /// The daemons as configured (tokens included), for `auth api-pool-info`.
    public var endpoints: [NodeEndpoint] { self.state.withLock { $0.table.listed.map(\.endpoint) } }
}
