// Carrying a head channel over when the connection under it drops but its daemon is fine (a
// proxy's idle timeout, a socket a bad request cost): the client keeps its channel, and the
// new subscription's `current` reaches it as the reverts and applies that lead there.

extension Pool {
    /// A channel whose connection dropped under it (its upstream said so).
    func carryOver(_ id: Int) {
        self.startCarryOver(self.state.withLock { Self.takeForCarryOver(&$0, ids: [id]) })
    }

    /// Takes these channels out of service (so the node's loss does not close them), with the
    /// heartbeat count at the loss; under the lock.
    static func takeForCarryOver(_ state: inout State, ids: [Int]) -> [(PoolChannelRecord, UInt64)] {
        ids.compactMap { id in
            guard let record = state.channels.remove(id) else { return nil }
            state.carryingOver[id] = record
            return (record, state.beatsStarted)
        }
    }

    /// The head channels of a node whose connection dropped that can be carried over.
    static func carryOverCandidates(_ state: State, node: Int) -> [Int] {
        state.channels.records.values.filter { $0.node == node && $0.link.isResumable }.map(\.id)
    }

    /// Carries each channel taken over to a new subscription on its daemon, or closes it
    /// towards its client when that cannot be done.
    func startCarryOver(_ taken: [(PoolChannelRecord, UInt64)]) {
        for (record, beat) in taken {
            Task { await self.carryOver(record, lostBefore: beat) }
        }
    }

    /// Waits for the heartbeat that follows the loss (one that judged the node after `beat`):
    /// the daemon serving again as the same process gets a new subscription, spliced in;
    /// anything else (killed, restarted, still unreachable, no common ancestor) closes the
    /// channel, the log saying why.
    private func carryOver(_ record: PoolChannelRecord, lostBefore beat: UInt64) async {
        // The old subscription's events (its close, once cancelled) no longer reach the client.
        guard let (epoch, history) = record.link.beginCarryOver() else {
            self.state.withLock { _ = $0.carryingOver.removeValue(forKey: record.id) }
            return await record.upstream.cancel()
        }
        await record.upstream.cancel()
        let limit = self.state.withLock { state in
            Duration.milliseconds(Int(state.settings.heartbeatInterval.milliseconds)) * 2 + .seconds(2)
        }
        let deadline = self.clock.now + limit
        var why = "no heartbeat found the daemon back within \(limit.goText)"
        while self.isCarryingOver(record.id) {
            let (generation, judged, serving, sameProcess, connection) = self.state.withLock { state in
                let node = state.table[record.node]
                return (
                    state.nodeChanges.generation, node.judgedAtBeat > max(beat, node.lostAtBeat), state.table.isServing(record.node),
                    node.id == record.session, node.connection
                )
            }
            guard sameProcess else {
                why = "the daemon restarted"
                break
            }
            if judged {
                guard serving else {
                    why = "the heartbeat after the loss found the daemon not serving"
                    break
                }
                guard let failure = await self.resubscribe(record, epoch: epoch, history: history, on: connection) else { return }
                why = failure
                break
            }
            guard self.clock.now < deadline else { break }
            await self.waitForNodeChange(until: deadline, after: generation)
        }
        guard self.state.withLock({ $0.carryingOver.removeValue(forKey: record.id) }) != nil else { return }
        record.closeTowardsClient()
        let name = self.state.withLock { $0.table[record.node].endpoint.name }
        self.observer.channelsClosed(node: name, count: 1, reason: "connection lost, not carried over: \(why)")
    }

    private func isCarryingOver(_ id: Int) -> Bool {
        self.state.withLock { $0.carryingOver[id] != nil }
    }

    /// Subscribes again and splices the new subscription in; nil when done, else why not.
    private func resubscribe(
        _ record: PoolChannelRecord, epoch: Int, history: ChainNotifyHistory, on connection: any NodeConnection
    ) async -> String? {
        guard let reader = record.link.chainNotifyReader else { return "no ChainNotify reader" }
        let first = FirstChannelValue()
        let gate = ChannelGate(forward: { record.link.deliver($0, epoch: epoch, now: self.clock.now) })
        let opened = await connection.openChannel(record.call) { event in
            first.offer(event)
            gate.deliver(event)
        }
        guard case .success(let upstream) = opened else { return "subscribing again failed" }
        let limit = self.state.withLock { Duration.milliseconds(Int($0.settings.heartbeatInterval.milliseconds)) + .seconds(1) }
        let value = await self.bounded(limit, timedOut: nil) { await first.wait() }
        var changes: [HeadChange]?
        var why = "the new subscription sent no head within \(limit.goText)"
        if let value {
            why = "the new subscription's first value was not a current head"
            if let head = reader.changes(in: value), head.count == 1, head[0].kind == .current {
                why = "the daemon's head is not within \(ChainNotifyHistory.depth) tipsets of the client's"
                changes = await history.bridge(to: head[0].tipset) { key in
                    guard case .success(let raw) = await connection.tipset(key: key) else { return nil }
                    return reader.tipset(raw)
                }
            }
        }
        // Back in service only if still wanted, and the node still serves as the same process.
        let registered = self.state.withLock { state -> Bool in
            guard changes != nil, state.table.isServing(record.node), state.table[record.node].id == record.session,
                state.carryingOver.removeValue(forKey: record.id) != nil
            else { return false }
            var carried = record
            carried.upstream = upstream
            state.channels.reinstate(carried)
            return true
        }
        guard registered, let changes, record.link.splice(changes, epoch: epoch, now: self.clock.now) else {
            gate.discard()
            await upstream.cancel()
            if registered { self.state.withLock { _ = $0.channels.remove(record.id) } }
            return changes == nil ? why : "the daemon stopped serving meanwhile"
        }
        gate.open(droppingFirst: true)
        let name = self.state.withLock { $0.table[record.node].endpoint.name }
        self.observer.channelCarriedOver(node: name, changes: changes.count)
        return nil
    }
}
