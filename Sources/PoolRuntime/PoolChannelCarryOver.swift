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
    static func takeForCarryOver(_ state: inout State, ids: [Int]) -> CarryOver? {
        let records = ids.compactMap { id -> PoolChannelRecord? in
            guard let record = state.channels.remove(id) else { return nil }
            state.carryingOver[id] = record
            return record
        }
        guard let node = records.first?.node else { return nil }
        return CarryOver(node: node, records: records, lostBefore: state.beatsStarted)
    }

    /// The head channels of a node whose connection dropped that can be carried over.
    static func carryOverCandidates(_ state: State, node: Int) -> [Int] {
        state.channels.records.values.filter { $0.node == node && $0.link.isResumable }.map(\.id)
    }

    /// Head channels of one node taken out of service by one loss.
    struct CarryOver: Sendable {
        let node: Int
        let records: [PoolChannelRecord]
        /// Heartbeats started at the loss: only a later one's verdict counts.
        let lostBefore: UInt64
    }

    /// Carries the channels taken over to new subscriptions on their daemon, or closes them
    /// towards their clients when that cannot be done.
    func startCarryOver(_ taken: CarryOver?) {
        guard let taken else { return }
        Task { await self.carryOver(taken) }
    }

    /// Waits for the heartbeat that follows the loss (one that judged the node after it): if
    /// the daemon serves again as the same process, each channel gets a new subscription,
    /// spliced in; anything else (killed, restarted, still unreachable, no common ancestor)
    /// closes the channels, one log line per reason.
    private func carryOver(_ taken: CarryOver) async {
        // The old subscriptions' events (their close, once cancelled) no longer reach the clients.
        var pending: [(PoolChannelRecord, epoch: Int, history: ChainNotifyHistory)] = []
        for record in taken.records {
            if let (epoch, history) = record.link.beginCarryOver() {
                pending.append((record, epoch, history))
            } else {
                self.state.withLock { _ = $0.carryingOver.removeValue(forKey: record.id) }
            }
            await record.upstream.cancel()
        }
        guard let session = pending.first?.0.session else { return }
        let limit = self.state.withLock { state in
            Duration.milliseconds(Int(state.settings.heartbeatInterval.milliseconds)) * 2 + .seconds(2)
        }
        let deadline = self.clock.now + limit
        var failures: [String: [PoolChannelRecord]] = [:]
        var carried = 0
        var bridged = 0
        var why = "no heartbeat found the daemon back within \(limit.goText)"
        while true {
            let (generation, judged, serving, sameProcess, connection) = self.state.withLock { state in
                let node = state.table[taken.node]
                return (
                    state.nodeChanges.generation, node.judgedAtBeat > max(taken.lostBefore, node.lostAtBeat),
                    state.table.isServing(taken.node), node.id == session, node.connection
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
                // All at once: a daemon that stops answering now costs each channel one wait
                // for its first value, not one after another.
                let wanted = pending.filter { self.isCarryingOver($0.0.id) }
                pending = []
                await withTaskGroup(of: (PoolChannelRecord, Result<Int, CarryOverFailure>).self) { group in
                    for (record, epoch, history) in wanted {
                        group.addTask { (record, await self.resubscribe(record, epoch: epoch, history: history, on: connection)) }
                    }
                    for await (record, outcome) in group {
                        switch outcome {
                        case .success(let changes):
                            carried += 1
                            bridged = max(bridged, changes)
                        case .failure(let failure):
                            failures[failure.reason, default: []].append(record)
                        }
                    }
                }
                break
            }
            guard self.clock.now < deadline else { break }
            await self.waitForNodeChange(until: deadline, after: generation)
        }
        if !pending.isEmpty { failures[why, default: []] += pending.map(\.0) }
        let name = self.state.withLock { $0.table[taken.node].endpoint.name }
        if carried > 0 { self.observer.channelsCarriedOver(node: name, count: carried, changes: bridged) }
        for (reason, records) in failures.sorted(by: { $0.key < $1.key }) {
            let closed = records.filter { record in self.state.withLock { $0.carryingOver.removeValue(forKey: record.id) } != nil }
            for record in closed { record.closeTowardsClient() }
            if !closed.isEmpty {
                self.observer.channelsClosed(node: name, count: closed.count, reason: "connection lost, not carried over: \(reason)")
            }
        }
    }

    private func isCarryingOver(_ id: Int) -> Bool {
        self.state.withLock { $0.carryingOver[id] != nil }
    }

    /// Why a channel was not carried over.
    struct CarryOverFailure: Error {
        let reason: String
    }

    /// Attempts at splicing a client in while its daemon's head keeps moving under the bridge.
    private static let spliceAttempts = 3

    /// Subscribes the client to its daemon's new head feed and splices it in: the head changes
    /// bridged, or why not.
    private func resubscribe(
        _ record: PoolChannelRecord, epoch: Int, history: ChainNotifyHistory, on connection: any NodeConnection
    ) async -> Result<Int, CarryOverFailure> {
        guard let reader = record.link.chainNotifyReader else { return .failure(CarryOverFailure(reason: "no ChainNotify reader")) }
        guard let feed = await self.headFeed(node: record.node), feed.session == record.session else {
            return .failure(CarryOverFailure(reason: "the new subscription sent no head in time"))
        }
        for _ in 0..<Self.spliceAttempts {
            guard let head = feed.liveHead else { break }
            let bridge = await history.bridge(to: head) { key in
                guard case .success(let raw) = await connection.tipset(key: key) else { return nil }
                return reader.tipset(raw)
            }
            guard let changes = bridge else {
                return .failure(
                    CarryOverFailure(reason: "the daemon's head is not within \(ChainNotifyHistory.depth) tipsets of the client's"))
            }
            switch feed.splice(record.link, epoch: epoch, changes: changes, from: head.key) {
            case .headMoved: continue
            case .ended: return .failure(CarryOverFailure(reason: "the new subscription ended"))
            case .clientGone: return .failure(CarryOverFailure(reason: "the channel closed meanwhile"))
            case .spliced: break
            }
            // Back in service only if still wanted, and the node still serves as the same process.
            let reinstated = self.state.withLock { state -> Bool in
                // A link closed since the splice (the new feed ended) would stay counted open.
                guard state.table.isServing(record.node), state.table[record.node].id == record.session, record.link.isOpen,
                    state.carryingOver.removeValue(forKey: record.id) != nil
                else { return false }
                var carried = record
                carried.upstream = HeadFeedSubscription(feed: feed, link: record.link)
                state.channels.reinstate(carried)
                return true
            }
            guard reinstated else {
                feed.unsubscribe(record.link)
                return .failure(CarryOverFailure(reason: "the daemon stopped serving meanwhile"))
            }
            return .success(changes.count)
        }
        return .failure(CarryOverFailure(reason: "the new subscription's head kept moving or was reverted"))
    }
}
