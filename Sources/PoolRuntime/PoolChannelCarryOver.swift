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
            return (record, state.beats.started)
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

    /// Waits for the heartbeat that follows the loss (a beat that started after `beat`): the
    /// daemon serving again as the same process gets a new subscription, spliced in; anything
    /// else (killed, restarted, still unreachable, no common ancestor) closes the channel.
    private func carryOver(_ record: PoolChannelRecord, lostBefore beat: UInt64) async {
        await record.upstream.cancel()
        let limit = self.state.withLock { state in
            Duration.milliseconds(Int(state.settings.heartbeatInterval.milliseconds)) * 2 + .seconds(2)
        }
        let deadline = self.clock.now + limit
        while true {
            let (generation, checked, serving, sameProcess, connection) = self.state.withLock { state in
                let node = state.table[record.node]
                return (
                    state.nodeChanges.generation, state.beats.finished > max(beat, node.lostAtBeat), state.table.isServing(record.node),
                    node.id == record.session, node.connection
                )
            }
            guard sameProcess, self.isCarryingOver(record.id) else { break }
            if checked {
                if serving, await self.resubscribe(record, on: connection) { return }
                break
            }
            guard self.clock.now < deadline else { break }
            await self.waitForNodeChange(until: deadline, after: generation)
        }
        guard self.state.withLock({ $0.carryingOver.removeValue(forKey: record.id) }) != nil else { return }
        record.closeTowardsClient()
        let name = self.state.withLock { $0.table[record.node].endpoint.name }
        self.observer.channelsClosed(node: name, count: 1, reason: "connection lost")
    }

    private func isCarryingOver(_ id: Int) -> Bool {
        self.state.withLock { $0.carryingOver[id] != nil }
    }

    /// Subscribes again and splices the new subscription in; false when it cannot be.
    private func resubscribe(_ record: PoolChannelRecord, on connection: any NodeConnection) async -> Bool {
        guard let reader = record.link.chainNotifyReader, let (epoch, history) = record.link.beginCarryOver() else { return false }
        let first = FirstChannelValue()
        let gate = ChannelGate(forward: { record.link.deliver($0, epoch: epoch, now: self.clock.now) })
        let opened = await connection.openChannel(record.call) { event in
            first.offer(event)
            gate.deliver(event)
        }
        guard case .success(let upstream) = opened else { return false }
        let limit = self.state.withLock { Duration.milliseconds(Int($0.settings.heartbeatInterval.milliseconds)) + .seconds(1) }
        let value = await self.bounded(limit, timedOut: nil) { await first.wait() }
        var changes: [HeadChange]?
        if let value, let head = reader.changes(in: value), head.count == 1, head[0].kind == .current {
            changes = await history.bridge(to: head[0].tipset) { key in
                guard case .success(let raw) = await connection.tipset(key: key) else { return nil }
                return reader.tipset(raw)
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
            return false
        }
        gate.open(droppingFirst: true)
        let name = self.state.withLock { $0.table[record.node].endpoint.name }
        self.observer.channelCarriedOver(node: name, changes: changes.count)
        return true
    }
}
