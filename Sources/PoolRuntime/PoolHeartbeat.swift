// The heartbeat (PRODUCT.md §3.1): probe every node at once, judge, enable or disable.

extension Pool {
    /// One heartbeat: every node not exited is probed concurrently, each probe bounded by the
    /// heartbeat interval so one slow node never delays the others' verdicts. State changes are
    /// reported once (not every beat); a changed Session is a restart; channels on nodes that
    /// can no longer serve them are closed.
    public func heartbeat() async {
        let (targets, interval) = self.state.withLock { state in
            (state.nodes.filter { $0.state != .exited }.map { ($0.index, $0.connection) }, state.settings.heartbeatInterval)
        }
        let limit = Duration.milliseconds(Int(interval.milliseconds))
        let probes = await withTaskGroup(of: (Int, Result<NodeProbe, NodeCallFailure>).self) { group in
            for (index, connection) in targets {
                group.addTask { (index, await self.probe(connection, within: limit)) }
            }
            var results: [Int: Result<NodeProbe, NodeCallFailure>] = [:]
            for await (index, result) in group { results[index] = result }
            return results
        }
        let (lost, dropped, notes) = self.state.withLock { state -> ([PoolChannelRecord], [any NodeConnection], [NodeNote]) in
            var dropped: [any NodeConnection] = []
            var notes: [NodeNote] = []
            var health: [NodeHealth?] = []
            var failures: [String?] = []
            for node in state.nodes {
                switch probes[node.index] {
                case .success(let probe)?:
                    health.append(probe.health)
                    failures.append(nil)
                case .failure(let failure)?:
                    health.append(nil)
                    failures.append(failure.description)
                case nil:
                    health.append(nil)
                    failures.append("exited")
                }
            }
            let verdicts = HealthEvaluator.evaluate(health: health, failures: failures, settings: state.settings)
            for index in state.nodes.indices where probes[index] != nil {
                if case .success(let probe)? = probes[index] {
                    if let old = state.nodes[index].id, old != probe.session {
                        notes.append(.restarted(node: state.nodes[index].endpoint.name, oldSession: old, newSession: probe.session))
                        dropped.append(state.nodes[index].connection)
                    }
                    state.nodes[index].id = probe.session
                    state.nodes[index].health = probe.health
                }
                let before = state.nodes[index].state
                guard before != .paused && before != .exited else { continue }
                let after: NodeState = verdicts[index].map(NodeState.disabled) ?? .running
                if after != before {
                    state.nodes[index].state = after
                    notes.append(.changed(node: state.nodes[index].endpoint.name, from: before, to: after))
                    if before == .running { dropped.append(state.nodes[index].connection) }
                }
            }
            return (Self.nodesChanged(&state), dropped, notes)
        }
        for note in notes { note.report(to: self.observer) }
        await self.close(lost, reason: "heartbeat")
        for connection in dropped { await connection.reset() }
    }

    /// Heartbeats on the hot-settable interval until the task is cancelled. A changed
    /// HeartbeatInterval ends the current wait at once.
    public func runHeartbeats() async {
        while !Task.isCancelled {
            await self.heartbeat()
            let (interval, generation) = self.state.withLock { ($0.settings.heartbeatInterval, $0.intervalGeneration) }
            await self.bounded(.milliseconds(Int(interval.milliseconds)), timedOut: ()) {
                await self.nextChange(of: \.intervalGeneration, after: generation, waiters: \.intervalWaiters)
            }
        }
    }

    private func probe(_ connection: any NodeConnection, within limit: Duration) async -> Result<NodeProbe, NodeCallFailure> {
        let timedOut: Result<NodeProbe, NodeCallFailure> = .failure(
            NodeCallFailure(.unreachable(.maybeSent, detail: "heartbeat timed out after \(limit)")))
        return await self.bounded(limit, timedOut: timedOut) { await connection.probe() }
    }
}
