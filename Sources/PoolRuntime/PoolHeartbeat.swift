// The heartbeat (PRODUCT.md §3.1): probe every node at once, learn its chain, judge, enable
// or disable; and a lost connection, which is news at once rather than at the next beat.

/// What one heartbeat learned of one node.
struct HeartbeatResult: Sendable {
    var probe: Result<NodeProbe, NodeCallFailure>
    /// Learned when the node was new to the pool or its Session changed; nil when not asked
    /// or when asking failed (`identityFailure` says how).
    var identity: NetworkIdentity?
    var identityFailure: String?
    /// The probe did not finish within the interval: the daemon (or fpool itself, starved)
    /// was too slow, which is no proof that it cannot answer.
    var timedOut = false
}

extension Pool {
    /// One heartbeat: every node not exited is probed concurrently, each probe bounded by the
    /// heartbeat interval so one slow node never delays the others' verdicts. A node reached
    /// for the first time or after a restart is asked which chain it follows. State changes
    /// are reported once (not every beat); a changed Session is a restart; channels on nodes
    /// that can no longer serve them are closed. A node whose connection was lost while it was
    /// probed keeps its verdict until the next beat.
    public func heartbeat() async {
        let (targets, losses, interval, beat) = self.state.withLock { state in
            let probed = state.table.nodes.filter { $0.state != .exited }
            state.beatsStarted += 1
            return (
                probed.map { ($0.index, $0.connection, $0.network == nil ? nil : $0.id) },
                Dictionary(uniqueKeysWithValues: probed.map { ($0.index, $0.connectionLosses) }),
                state.settings.heartbeatInterval, state.beatsStarted
            )
        }
        let limit = Duration.milliseconds(Int(interval.milliseconds))
        let results = await withTaskGroup(of: (Int, HeartbeatResult).self) { group in
            for (index, connection, identifiedSession) in targets {
                group.addTask { (index, await self.check(connection, identifiedSession: identifiedSession, within: limit)) }
            }
            var results: [Int: HeartbeatResult] = [:]
            for await (index, result) in group { results[index] = result }
            return results
        }
        let now = self.clock.now
        let effects = self.state.withLock { state in
            // A probe answered before the connection was lost may be the old process's: judged
            // on it, a node that restarted (even on another chain) would serve again unchecked.
            // Nor does a beat judge a node that a beat begun after it already judged (an
            // operator's beat beside the loop's): its probe is the older news.
            let current = results.filter { index, _ in
                state.table[index].connectionLosses == losses[index] && state.table[index].judgedAtBeat < beat
            }
            var effects = Self.judge(current, in: &state, now: now)
            for index in current.keys { state.table[index].judgedAtBeat = beat }
            // Channels being carried over wait for this beat's verdict, changed or not.
            if !state.carryingOver.isEmpty { effects.woken += state.nodeChanges.signal() }
            return effects
        }
        effects.wakeWaiters()
        await self.carryOut(effects, reason: "heartbeat")
        self.openMissingHeadFeeds()
        self.state.withLock { $0.beatsFinished.signal() }.forEach { $0.resume() }
    }

    /// How many heartbeats have finished: every node judged, and what that changed carried out.
    package var heartbeatsFinished: UInt64 { self.state.withLock { $0.beatsFinished.generation } }

    /// Returns once more than `count` heartbeats have finished, or when the task is cancelled.
    /// A heartbeat's own probes are bounded on the pool's clock for as long as the loop's wait,
    /// so what sleeps on the clock cannot tell a beat in progress from the loop between beats;
    /// this can.
    package func waitForHeartbeats(past count: UInt64) async {
        while !Task.isCancelled {
            let finished = self.heartbeatsFinished
            guard finished <= count else { return }
            await self.nextChange(of: \.beatsFinished, after: finished)
        }
    }

    /// Applies one heartbeat's results: sessions, identities, the pool's network, verdicts.
    static func judge(_ results: [Int: HeartbeatResult], in state: inout State, now: Duration) -> NodeChangeEffects {
        var notes: [NodeNote] = []
        var restarted: [any NodeConnection] = []
        for index in state.table.indices {
            guard let result = results[index] else { continue }
            if case .success(let probe) = result.probe {
                if let old = state.table[index].id, old != probe.session {
                    notes.append(.restarted(node: state.table[index].endpoint.name, oldSession: old, newSession: probe.session))
                    restarted.append(state.table[index].connection)
                    state.table[index].network = nil
                }
                state.table[index].id = probe.session
                if probe.health.head > state.table[index].health?.head ?? .min { state.table[index].headMovedAt = now }
                state.table[index].health = probe.health
                if let identity = result.identity { state.table[index].network = identity }
            }
        }
        let present = state.table.nodes.filter { $0.state != .exited }
        let moved = state.table.network.settle(from: present.compactMap(\.network), of: present.count)
        if let moved {
            notes.append(.networkChanged(moved))
            // What was learned on the chain left behind holds nothing on this one: its
            // accepted messages must not be pushed here again (a native message carries no
            // chain id), and its actor ids may name other actors here.
            state.ledger = PushLedger()
            state.seeds.forgetResolved()
        }
        // Only nodes answering on the pool's chain take part in the cross-node comparison.
        var health: [NodeHealth?] = []
        var failures: [String?] = []
        var refusals: [DisableReason?] = []
        for node in state.table.nodes {
            var refusal: DisableReason?
            var failure: String?
            var measured: NodeHealth?
            switch results[node.index]?.probe {
            case .success(let probe)?:
                if let identity = node.network {
                    refusal = state.table.network.refusal(of: identity)
                    if refusal == nil { measured = probe.health }
                } else {
                    failure = "network unknown: \(results[node.index]?.identityFailure ?? "not identified yet")"
                }
            case .failure(let error)?: failure = error.description
            case nil: failure = "exited"
            }
            health.append(measured)
            failures.append(failure)
            refusals.append(refusal)
        }
        let verdicts = HealthEvaluator.evaluate(health: health, failures: failures, settings: state.settings)
        for index in state.table.indices where results[index] != nil {
            // A probe that ran out of time fails a health rule, not reachability: when every
            // probe does (fpool starved, every daemon slow), the nodes still serve as a fallback.
            let slow = results[index]?.timedOut == true ? DisableReason.noAnswer(failures[index] ?? "") : nil
            let verdict = refusals[index] ?? slow ?? verdicts[index]
            state.table[index].failedChecks = verdict == nil ? 0 : state.table[index].failedChecks + 1
            let before = state.table[index].state
            guard before != .paused && before != .exited else { continue }
            let after: NodeState = verdict.map(NodeState.disabled) ?? .running
            if after != before {
                state.table[index].state = after
                // Reported when the rule changes, not every beat its figures move (null rounds).
                if case .disabled(let was) = before, case .disabled(let now) = after, was.sameRule(as: now) { continue }
                notes.append(.changed(node: state.table[index].endpoint.name, from: before, to: after))
            }
        }
        var effects = Self.nodesChanged(&state)
        // Sockets kept since a loss: the daemon is judged now. Unable to answer, they close;
        // serving again, or only failing a health rule, they were never disturbed.
        for index in state.table.indices where results[index] != nil && state.table[index].socketsKeptUntilJudged {
            state.table[index].socketsKeptUntilJudged = false
            if !state.table.isServing(index) && Self.dropsSockets(state.table[index].state) {
                effects.stopped.append(state.table[index].connection)
            }
        }
        effects.silentChannels = Self.silentChannels(&state, now: now)
        effects.silentFeeds = Self.silentFeeds(&state, now: now)
        effects.notes = notes + effects.notes
        if moved != nil { effects.chainMoved = state.table.network.moves }
        // A restarted daemon's sockets are gone (resetting one also dropped by the rebuild is harmless).
        effects.stopped += restarted
        return effects
    }

    /// Heartbeats on the hot-settable interval until the task is cancelled. A changed
    /// HeartbeatInterval or a lost connection ends the current wait at once.
    public func runHeartbeats() async {
        while !Task.isCancelled {
            // Read before the beat: a loss (or a new interval) during it ends the wait at once,
            // where one read after it would be missed and cost a whole interval.
            let generation = self.state.withLock { $0.intervalChanges.generation }
            await self.heartbeat()
            let wait = self.state.withLock { Self.nextWait(&$0) }
            await self.bounded(wait, timedOut: ()) {
                await self.nextChange(of: \.intervalChanges, after: generation)
            }
        }
    }

    /// How soon the loop looks again after a socket closed by itself: a restarting daemon
    /// refuses its first redial, and would otherwise serve again only a whole interval later.
    static let quickBeatDelay = Duration.milliseconds(500)
    /// How many quick beats one lost socket buys: a daemon still down after them (killed, not
    /// restarting) is looked at once an interval, like any other.
    static let quickBeatsAfterLoss = 4

    /// The wait before the next beat: the interval, or `quickBeatDelay` while a lost socket's
    /// quick beats last and some node is still unreachable.
    static func nextWait(_ state: inout State) -> Duration {
        let interval = Duration.milliseconds(Int(state.settings.heartbeatInterval.milliseconds))
        let waitingForOne = state.table.nodes.contains { node in
            if case .disabled(.unreachable) = node.state { return true }
            return false
        }
        guard state.quickBeats > 0, waitingForOne else {
            state.quickBeats = 0
            return interval
        }
        state.quickBeats -= 1
        return min(interval, Self.quickBeatDelay)
    }

    /// Ends the heartbeat loop's wait now (the caller resumes the returned waiters outside the lock).
    static func wakeHeartbeat(_ state: inout State) -> [CheckedContinuation<Void, Never>] {
        state.intervalChanges.signal()
    }

    /// A node's socket closed or its dial failed by itself: the node is unreachable now (calls
    /// go elsewhere at once) and the next heartbeat runs at once, so a socket that merely
    /// dropped is redialled and serves again within one probe.
    func connectionLost(node index: Int, _ loss: ConnectionLoss) {
        let detail = loss.detail
        // Head channels on the lost socket are carried over rather than closed, if they can be.
        var carried: CarryOver?
        let (effects, note, waiters) = self.state.withLock {
            state -> (NodeChangeEffects, NodeNote?, [CheckedContinuation<Void, Never>]) in
            guard state.table.indices.contains(index) else { return (NodeChangeEffects(), nil, []) }
            // A failed dial leaves no answer of an old process to distrust: the probe that made
            // it is still judged (a killed daemon is then found down at once).
            if !loss.dialFailed {
                state.table[index].connectionLosses &+= 1
                state.table[index].lostAtBeat = state.beatsStarted
                state.quickBeats = Self.quickBeatsAfterLoss
            }
            let before = state.table[index].state
            switch before {
            case .running: break
            case .disabled(let reason) where reason.isHealthRule: break
            case .disabled, .paused, .exited: return (NodeChangeEffects(), nil, [])
            }
            let after = NodeState.disabled(.unreachable("connection lost: \(detail)"))
            state.table[index].state = after
            // One socket's loss is not the daemon's: it may be that socket alone (a daemon
            // that closed it on a request, a keepalive missed on a loaded loop).
            state.table[index].socketsKeptUntilJudged = !loss.dialFailed
            let note = NodeNote.changed(node: state.table[index].endpoint.name, from: before, to: after)
            carried = Self.takeForCarryOver(&state, ids: Self.carryOverCandidates(state, node: index))
            return (Self.nodesChanged(&state), note, Self.wakeHeartbeat(&state))
        }
        self.startCarryOver(carried)
        guard let note else { return }
        note.report(to: self.observer)
        effects.wakeWaiters()
        waiters.forEach { $0.resume() }
        // Channels on the lost socket are closed by the connection itself; this closes the
        // pool's side without waiting (the caller may be on an event loop).
        Task { await self.carryOut(effects, reason: "connection lost") }
    }

    /// Probes a node, and asks for its chain when the pool does not know it for this Session.
    private func check(_ connection: any NodeConnection, identifiedSession: String?, within limit: Duration) async -> HeartbeatResult {
        let timedOut = HeartbeatResult(
            probe: .failure(NodeCallFailure(.unreachable(.maybeSent, detail: "heartbeat timed out after \(limit.goText)"))),
            timedOut: true)
        return await self.bounded(limit, timedOut: timedOut) {
            var result = HeartbeatResult(probe: await connection.probe())
            guard case .success(let probe) = result.probe, probe.session != identifiedSession else { return result }
            switch await connection.identify() {
            case .success(let identity): result.identity = identity
            case .failure(let failure): result.identityFailure = failure.description
            }
            return result
        }
    }
}
