// Routing one call: candidates, policy or primary binding, tipset-aware order, retries.

import GeneratedRoutes
import RouteModel

/// A plan, or the answer to give at once.
enum PlanOutcome: Sendable {
    case ready(CallPlan)
    case refused(PoolReply)
}

/// The nodes to try for one call, in order, and how.
struct CallPlan: Sendable {
    let order: PickOrder
    let route: RouteEntry
    let timeout: GoDuration
    /// For calls bound to a sender: its actor ID.
    var seedID: UInt64? = nil
    /// The API's hedge setting (reads only use it).
    var hedge: HedgeSetting = .off
    var fanOut: Bool { self.order.fanOut }
}

/// What routing decided for one call at one moment.
struct RoutingDecision: Sendable {
    enum Outcome: Sendable {
        case order(PickOrder)
        /// No node serves the route now.
        case noCandidate
        /// Nodes serve it, but none has reached the call's epoch yet (tried in this order
        /// once the wait is over).
        case notReached(PickOrder)
    }

    var outcome: Outcome
    /// The node generation the decision saw.
    let generation: UInt64
    let nohang: Bool
    let timeout: GoDuration
    let tipsetWait: GoDuration
    /// The API's hedge setting, or the pool's HedgeDelay.
    let hedge: HedgeSetting
    /// The first node of an `order` outcome.
    var first: NodeLink?
}

/// What a call needs of the node it goes to, read with the routing decision.
struct NodeLink: Sendable {
    let connection: any NodeConnection
    let name: String
    /// The node's call counter (`countCall`).
    let calls: Counter
}

extension Pool {
    /// Routes one call and returns what the client should get.
    public func call(_ call: PoolCall) async -> PoolReply {
        // One deadline for the whole call: resolving the sender, waiting for a node, every attempt.
        let route = call.route
        let timeout = self.state.withLock { state in
            (state.overrides.isEmpty ? nil : state.overrides[route.name])?.timeout ?? route.timeout
        }
        if self.isQuarantined(call) { return .failed(Self.quarantineText(call.method)) }
        // A call `startImmediately` passed on has looked in the cache already.
        let cacheKey = self.cacheKey(call)
        if let cacheKey, call.reservedCallID == nil, let cached = self.cachedReply(cacheKey) { return cached }
        let start = self.clock.now
        let work: @Sendable () async -> PoolReply = {
            switch await self.plan(call) {
            case .ready(let plan):
                if plan.fanOut {
                    route.effect == .push ? await self.broadcast(call, plan: plan) : await self.fanOut(call, plan: plan)
                } else {
                    await self.tryInOrder(call, plan: plan, startedAt: start)
                }
            case .refused(let reply): reply
            }
        }
        let reply = timeout.milliseconds > 0 ? await self.withTimeout(timeout, method: call.method, work) : await work()
        if let cacheKey { self.keep(reply, for: cacheKey) }
        return reply
    }

    /// Picks the nodes for a call; waits (bounded) when none is suitable and nohang is false.
    func plan(_ call: PoolCall) async -> PlanOutcome {
        let route = call.route
        if call.id == nil {
            // Reported once per name; the set is capped so a client sending garbage names
            // cannot grow it without bound.
            let first = self.state.withLock { state in
                state.unlistedSeen.count < 1024 && state.unlistedSeen.insert(route.name).inserted
            }
            if first { self.observer.unlistedMethod(route.name) }
        }
        let callID = call.reservedCallID ?? self.nextCallID(call.id)
        let seedID = await self.seedID(for: call)
        var deadline: Duration?
        while true {
            // A caller that gave up stops waiting (the wait below returns at once when cancelled).
            if Task.isCancelled { return .refused(.failed("context canceled")) }
            let decision = self.decide(route: route, facts: call.facts, callID: callID, seedID: seedID)
            switch decision.outcome {
            case .order(let order):
                return .ready(CallPlan(order: order, route: route, timeout: decision.timeout, seedID: seedID, hedge: decision.hedge))
            case .noCandidate where decision.nohang:
                return .refused(.failed("no node available for \(call.method) (nohang)"))
            case .noCandidate, .notReached:
                let wait = decision.timeout.milliseconds > 0 ? decision.timeout : decision.tipsetWait
                let end = deadline ?? self.clock.now + .milliseconds(Int(wait.milliseconds))
                deadline = end
                if self.clock.now >= end {
                    // Waited long enough for the chain: try the nodes we have.
                    if case .notReached(let order) = decision.outcome {
                        return .ready(
                            CallPlan(order: order, route: route, timeout: decision.timeout, seedID: seedID, hedge: decision.hedge))
                    }
                    return .refused(.failed("no node available for \(call.method) within \(wait)"))
                }
                await self.waitForNodeChange(until: end, after: decision.generation)
            }
        }
    }

    /// One routing decision without waiting: the candidates' order by binding or policy, with
    /// tipset-aware reordering. The common path (no height, a rotation policy) allocates nothing.
    func decide(route: RouteEntry, facts: CallFacts, callID: UInt64, seedID: UInt64?) -> RoutingDecision {
        self.state.withLock { state in
            var decision = Self.decide(route: route, facts: facts, callID: callID, seedID: seedID, state: &state)
            // Read under the same lock: the first node's socket and counter cost a call no
            // second trip through the pool's lock.
            if case .order(let order) = decision.outcome, let first = order.first { decision.first = state.table.link(first.index) }
            return decision
        }
    }

    private static func decide(route: RouteEntry, facts: CallFacts, callID: UInt64, seedID: UInt64?, state: inout State) -> RoutingDecision {
        let override = (state.overrides.isEmpty ? nil : state.overrides[route.name]) ?? APIRouteOverride(route: route)
        let serving = state.table.serving(sealingOnly: override.filter == .sealing)
        let candidates = serving.candidates
        var decision = RoutingDecision(
            outcome: .noCandidate, generation: state.nodeChanges.generation, nohang: override.nohang, timeout: override.timeout,
            tipsetWait: state.settings.tipsetWait, hedge: override.hedge ?? state.settings.hedgeDelay)
        guard !candidates.isEmpty else { return decision }
        let order: PickOrder
        if override.policy == .fixed(.allWithFirstSucceed), route.carriesSignedMessages {
            // A broadcast: every serving node at once, the sender's own node first.
            let ranked = seedID.map { Array(Self.boundOrder(candidates.byIndex, seedID: $0, state: state)) } ?? candidates.byIndex
            order = PickOrder(explicit: ranked, fanOut: true)
        } else if let seedID, route.seed != nil {
            order = Self.boundOrder(candidates.byIndex, seedID: seedID, state: state)
        } else if serving.degraded {
            // No node passes the checks: the least bad first, whatever the policy.
            order = PickOrder(rotating: serving.bestFirst, from: 0)
        } else {
            let policy = override.policy.resolved(poolDefault: state.settings.defaultPolicy)
            let picked: PickOrder
            if policy == .oneBySeedRound, let client = facts.clientSeed {
                // A miner's own primary, by rendezvous: miners spread over the nodes and
                // stay put when another node joins or leaves.
                state.seeds.noteClient(client.value)
                picked = Self.boundOrder(candidates.byIndex, seedID: client.value, state: state)
            } else {
                picked = NodePicker.order(candidates, policy: policy, callID: callID, seed: state.settings.primarySeed)
            }
            // Only idempotent reads may run on every node at once.
            order = picked.fanOut && route.effect != .read ? PickOrder(rotating: candidates.byIndex, from: 0) : picked
        }
        // A pass-through pool waits for nothing, as a direct connection would not.
        guard let height = facts.height, !state.table.passThrough else {
            decision.outcome = .order(order)
            return decision
        }
        // Tipset-aware: nodes that have reached the epoch first.
        let reached = order.filter { $0.head >= height }
        let behind = order.filter { $0.head < height }
        let reordered = PickOrder(explicit: reached + behind, fanOut: order.fanOut)
        // An epoch the chain cannot reach within the wait (a client's mistake, or a flood of
        // them) is not waited for: the daemon answers at once, as Lotus would.
        let reachable = (behind.map(\.head).max() ?? 0) + Self.epochsWithin(state.settings.tipsetWait)
        decision.outcome = reached.isEmpty && height <= reachable ? .notReached(reordered) : .order(reordered)
        return decision
    }

    /// The epochs Filecoin's chain may add within `wait` (one per 30 s), and one more.
    static func epochsWithin(_ wait: GoDuration) -> Int64 {
        1 + (Int64(wait.milliseconds) + 29_999) / 30_000
    }

    /// The order a call of `id` would try now (for `api why` and benchmarks); counts no call.
    public func decide(_ id: RouteID?, facts: CallFacts = CallFacts()) -> PickOrder? {
        let route = id?.route ?? RouteEntry.unlisted(name: "")
        let seedID = route.seed == nil ? nil : facts.sender.flatMap(Self.idNumber)
        switch self.decide(route: route, facts: facts, callID: self.currentCallID(id), seedID: seedID).outcome {
        case .order(let order), .notReached(let order): return order
        case .noCandidate: return nil
        }
    }

    /// The sender's nodes in its own rendezvous ranking (an explicit binding first), keeping
    /// those that serve: an unavailable bound node falls through to the sender's next choice,
    /// so the senders of a lost node spread over the others instead of piling onto one.
    static func boundOrder(_ candidates: [Candidate], seedID: UInt64, state: State) -> PickOrder {
        let serving = Dictionary(uniqueKeysWithValues: candidates.map { ($0.index, $0) })
        let ranked = Self.ranking(seedID: seedID, state: state).compactMap { serving[$0] }
        return PickOrder(explicit: ranked, fanOut: false)
    }

    /// Every listed node in the sender's preference order.
    static func ranking(seedID: UInt64, state: State) -> [Int] {
        state.seeds.ranking(of: seedID, over: state.table.listed.map { ($0.index, SeedBindings.key(of: $0.endpoint)) })
    }

    /// The node a sender is bound to (whether or not it serves now); nil in an empty pool.
    static func boundNode(seedID: UInt64, state: State) -> Int? {
        Self.ranking(seedID: seedID, state: state).first
    }

    /// The call's sender as an actor ID number, resolved once per address and cached.
    func seedID(for call: PoolCall) async -> UInt64? {
        guard call.route.seed != nil, let sender = call.facts.sender else { return nil }
        if let id = Self.idNumber(sender) { return id }
        if let cached = self.state.withLock({ $0.seeds.resolved[sender] }) { return cached }
        let (connections, chain) = self.state.withLock { state in
            (state.table.all.candidates.byIndex.map { state.table[$0.index].connection }, state.table.network.moves)
        }
        for connection in connections {
            // Each lookup is bounded, so a half-open daemon cannot hold a push forever.
            let limit = self.state.withLock { $0.settings.heartbeatInterval }
            let lookup = await self.bounded(
                .milliseconds(Int(limit.milliseconds)), timedOut: .failure(NodeCallFailure(.unreachable(.maybeSent, detail: "timeout")))
            ) { await connection.lookupID(sender) }
            if case .success(let id) = lookup, let number = Self.idNumber(id) {
                return self.remember(sender, number, learnedOn: chain)
            }
        }
        // Not resolvable (yet): a stable hash still binds the address to one node.
        return sender.utf8.reduce(UInt64(14_695_981_039_346_656_037)) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
    }

    /// Caches a key address's actor ID, unless the pool moved to another chain since the
    /// lookup began (`chain`: `PoolNetwork.moves` then).
    private func remember(_ sender: String, _ id: UInt64, learnedOn chain: Int) -> UInt64 {
        self.state.withLock { state in
            if state.table.network.moves == chain { state.seeds.remember(sender, id: id) }
        }
        return id
    }

    /// `f01234` / `t01234` → 1234.
    static func idNumber(_ address: String) -> UInt64? {
        guard address.count > 2, address.hasPrefix("f0") || address.hasPrefix("t0") else { return nil }
        return UInt64(address.dropFirst(2))
    }

    /// Tries nodes one after another until one answers for real, from `first` in the plan's
    /// order (the nodes before it were tried already; `last` is what the latest one said).
    /// `drops`: how many nodes already closed their connection over this call; `startedAt`: when
    /// the call came (a push that takes long is logged with its steps from then).
    ///
    /// A read that no node answered gets one more round over the nodes serving then: the node
    /// fpool itself reset a moment ago (its heartbeat starved under load) or a socket redialled
    /// since may answer at once, as it would a direct client. Never after a query of death.
    func tryInOrder(
        _ call: PoolCall, plan: CallPlan, from first: Int = 0, last: PoolReply? = nil, drops: DropCount = DropCount(),
        startedAt: Duration? = nil
    ) async -> PoolReply {
        let generation = self.nodeGeneration
        let reply = await self.tryRound(call, plan: plan, from: first, last: last, drops: drops, startedAt: startedAt)
        guard plan.route.effect == .read, case .failed(let text) = reply, !Task.isCancelled, !text.hasSuffix(Self.notSentToAThird),
            text != Self.quarantineText(call.method)
        else { return reply }
        // Only once the nodes changed (a reset, a redial, a heartbeat): the same nodes in the
        // same state would fail the same way.
        guard self.nodeGeneration != generation, !Task.isCancelled, case .ready(let next) = await self.plan(call) else { return reply }
        // The nodes that just failed go last: one whose loss is not processed yet would fail the
        // same way, before a node that joined meanwhile is asked.
        let failed = Set(plan.order.map(\.index))
        let again = CallPlan(
            order: PickOrder(
                explicit: next.order.filter { !failed.contains($0.index) } + next.order.filter { failed.contains($0.index) }, fanOut: false),
            route: next.route, timeout: next.timeout, seedID: next.seedID, hedge: next.hedge)
        self.observer.callRetried(method: call.method, node: "every node", reason: "no answer from any node; one more round")
        return await self.tryRound(call, plan: again, from: 0, last: reply, drops: DropCount(), startedAt: startedAt)
    }

    /// One round of `tryInOrder`.
    private func tryRound(
        _ call: PoolCall, plan: CallPlan, from first: Int, last: PoolReply?, drops: DropCount, startedAt: Duration?
    ) async -> PoolReply {
        // Before any hedge: an answer from the head feed is not worth a second node.
        if let next = plan.order.dropFirst(first).first, let answer = self.headFromFeed(call, node: next.index) { return answer }
        if let delay = self.hedgeDelay(call, plan: plan, from: first) {
            return await self.tryHedged(call, plan: plan, from: first, last: last, drops: drops, delay: delay)
        }
        var catchUpUntil: Duration?
        var last: PoolReply = last ?? .failed("no node available for \(call.method)")
        // Set once the pool sends a signed push again after a lost reply: the first attempt may
        // land meanwhile, and then the same message is refused for its nonce.
        var resent = false
        var trace = plan.route.effect == .push ? PushTrace(start: startedAt ?? self.clock.now, now: self.clock.now) : nil
        defer {
            if let report = trace?.slowReport(now: self.clock.now) {
                self.observer.slowPush(method: call.method, took: report.took, steps: report.steps)
            }
        }
        for candidate in plan.order.dropFirst(first) {
            if Task.isCancelled { break }
            if let refused = self.refusedAfterDrops(call, drops: drops) { return refused }
            let (connection, name) = self.connectionAndName(of: candidate.index)
            // A sender's pushes move to another node only once its nonce has caught up there.
            if plan.route.effect == .push, let seedID = plan.seedID, let sender = call.facts.sender,
                let previous = self.state.withLock({ $0.ledger.lastNode(of: seedID) }), previous != candidate.index
            {
                // Every catch-up of this push shares one TipsetWait: a push that meets one lost
                // node after another must not wait a whole TipsetWait for each (34.6 s in a chaos
                // run where several daemons failed within seconds).
                let until = catchUpUntil ?? self.clock.now + .milliseconds(Int(self.settings.tipsetWait.milliseconds))
                catchUpUntil = until
                let caughtUp = await self.catchUp(sender: sender, seedID: seedID, node: candidate.index, until: until)
                trace?.record("nonce catch-up on \(name): \(caughtUp ? "caught up" : "not caught up")", now: self.clock.now)
                guard caughtUp else {
                    last = .failed(
                        "nonce-safe failover: \(name) has not caught up with the nonces accepted for \(sender); not pushing there")
                    continue
                }
            }
            if let answer = self.headFromFeed(call, node: candidate.index) { return answer }
            await self.prepareNonceRead(call, plan: plan, node: candidate.index)
            let reply = await connection.call(call)
            trace?.record("sent to \(name): \(PushTrace.outcome(reply))", now: self.clock.now)
            self.countCall(node: candidate.index)
            // A caller that gave up is owed no retry: its call was cancelled, not lost.
            if Task.isCancelled, case .unreachable = reply { return .failed("context canceled") }
            if let dropped = self.secondDrop(reply, of: call, drops: drops, node: name) { return dropped }
            if resent, case .nonce(.tooLow) = ErrorClassifier.classify(reply),
                case .accepted(let bytes, let node) = await self.resolveAmbiguous(call)
            {
                // "Nonce too low" for the very message the pool sent before: that attempt landed.
                self.recordAccepted(call, result: bytes, seedID: plan.seedID, node: node)
                self.observer.callFinished(method: call.method, node: name, succeeded: true)
                return .result(bytes, node: node)
            }
            switch self.judge(reply, of: call, plan: plan, node: candidate.index, name: name) {
            case .answer(let answer):
                return answer
            case .tryNext(let answer):
                last = answer
            case .resolveAmbiguousPush(let answer):
                last = answer
                let resolved = await self.resolveAmbiguous(call, failedNode: candidate.index)
                trace?.record("reply lost, message \(PushTrace.outcome(resolved))", now: self.clock.now)
                switch resolved {
                case .accepted(let bytes, let node):
                    self.recordAccepted(call, result: bytes, seedID: plan.seedID, node: node)
                    self.observer.callFinished(method: call.method, node: name, succeeded: true)
                    return .result(bytes, node: node)
                case .nowhere:
                    resent = true
                    self.observer.callRetried(
                        method: call.method, node: name,
                        reason: Self.logReason(
                            "push reply lost and the message is on no other node: sending the same signed message again", for: reply))
                case .unknown:
                    self.reportNoAnswer(reply, method: call.method, node: name)
                    self.observer.callFinished(method: call.method, node: name, succeeded: false)
                    return .failed(
                        "\(call.method): \(name) may have accepted this push, but its reply was lost; check the sender's nonce before sending it again"
                    )
                }
            }
        }
        self.observer.callFinished(method: call.method, node: nil, succeeded: false)
        return last
    }

    /// A node's connection and its name (for logs and metrics).
    func connectionAndName(of index: Int) -> (any NodeConnection, String) {
        self.state.withLock { ($0.table[index].connection, $0.table[index].endpoint.name) }
    }

    /// What one node's reply means for a call.
    enum Judgement {
        /// The client's answer.
        case answer(PoolReply)
        /// Try the next node (this node's answer is kept in case none does better).
        case tryNext(PoolReply)
        /// A push whose reply was lost: look its message up on the other nodes first.
        case resolveAmbiguousPush(PoolReply)
    }

    /// Judges one node's reply (recorded, reported), for the ordered and the immediate paths.
    func judge(_ reply: NodeReply, of call: PoolCall, plan: CallPlan, node: Int, name: String) -> Judgement {
        if case .result(let bytes) = reply {
            self.recordAccepted(call, result: bytes, seedID: plan.seedID, node: node)
            self.observer.callFinished(method: call.method, node: name, succeeded: true)
            return .answer(.result(bytes, node: node))
        }
        let answer = Self.reply(reply, node: node, name: name)
        switch RetryRule.decide(ErrorClassifier.classify(reply), route: plan.route) {
        case .retryElsewhere(let reason):
            self.observer.callRetried(method: call.method, node: name, reason: Self.logReason(reason, for: reply))
            return .tryNext(answer)
        case .returnAnswer:
            self.reportNoAnswer(reply, method: call.method, node: name)
            self.observer.callFinished(method: call.method, node: name, succeeded: false)
            return .answer(answer)
        case .resolveAmbiguousPush:
            return .resolveAmbiguousPush(answer)
        case .treatAsSuccess:
            // The identical message is already in the mpool: the push did its job.
            self.observer.callFinished(method: call.method, node: name, succeeded: true)
            guard let message = call.facts.signedMessage else { return .answer(answer) }
            self.recordAccepted(call, result: [], seedID: plan.seedID, node: node)
            return .answer(.result(Array("{\"/\":\"\(message.cid)\"}".utf8), node: node))
        }
    }

    /// AllWithFirstSucceed: every node at once, the first success wins, the rest are cancelled.
    func fanOut(_ call: PoolCall, plan: CallPlan) async -> PoolReply {
        let targets = self.state.withLock { state in
            plan.order.map { ($0.index, state.table[$0.index].connection, state.table[$0.index].endpoint.name) }
        }
        return await withTaskGroup(of: (Int, String, NodeReply).self) { group in
            for (index, connection, name) in targets {
                group.addTask { (index, name, await connection.call(call)) }
            }
            var last: PoolReply = .failed("no node available for \(call.method)")
            for await (index, name, reply) in group {
                self.countCall(node: index)
                if case .result(let bytes) = reply {
                    group.cancelAll()
                    return .result(bytes, node: index)
                }
                self.reportNoAnswer(reply, method: call.method, node: name)
                last = Self.reply(reply, node: index, name: name)
            }
            return last
        }
    }

    /// Runs `work`, or answers "timeout" when the API's timeout passes first.
    func withTimeout(_ timeout: GoDuration, method: String, _ work: @escaping @Sendable () async -> PoolReply) async -> PoolReply {
        await self.bounded(.milliseconds(Int(timeout.milliseconds)), timedOut: .failed("\(method): timeout after \(timeout)"), work)
    }

    /// Returns when the nodes change after `generation` (a heartbeat, an operator change) or at
    /// `deadline`; at once if they already changed.
    func waitForNodeChange(until deadline: Duration, after generation: UInt64) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.nextNodeChange(after: generation) }
            group.addTask { try? await self.clock.sleep(for: deadline - self.clock.now) }
            await group.next()
            group.cancelAll()
        }
    }

    var nodeGeneration: UInt64 { self.state.withLock { $0.nodeChanges.generation } }

    private func nextNodeChange(after generation: UInt64) async {
        await self.nextChange(of: \.nodeChanges, after: generation)
    }

    /// Returns when the signal at `signal` moves past `generation`, or when the waiting task is
    /// cancelled, so a wait given up on does not stay registered.
    func nextChange(of signal: WritableKeyPath<State, ChangeSignal> & Sendable, after generation: UInt64) async {
        let id = self.state.withLock { state in
            defer { state.nextWaiterID += 1 }
            return state.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = self.state.withLock { state -> Bool in
                    Task.isCancelled || !state[keyPath: signal].wait(id, after: generation, continuation)
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            self.state.withLock { $0[keyPath: signal].cancel(id) }?.resume()
        }
    }
}
