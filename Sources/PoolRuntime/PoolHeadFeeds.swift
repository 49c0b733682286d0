// The pool's head feeds: one upstream ChainNotify per serving daemon, opened when a heartbeat
// finds the daemon serving. They serve every client ChainNotify on that daemon, move the
// node's head the moment the daemon names a new one, and answer ChainHead without a hop.

import GeneratedRoutes
import RouteModel

extension Pool {
    /// The call a feed subscribes with (ChainNotify takes no params; v0 and v1 send the same values).
    static let headFeedCall = PoolCall(
        id: RouteTable.lookup(.v1, name: "ChainNotify"), method: RouteEntry.wirePrefix + "ChainNotify", version: .v1,
        params: Array("[]".utf8))

    /// The node's live head feed, subscribing first if it has none for the daemon's current
    /// process; nil when the pool reads no ChainNotify values, the node is not identified, or
    /// the daemon sent no head within the heartbeat interval and a second.
    func headFeed(node: Int, replacing stale: HeadFeed? = nil) async -> HeadFeed? {
        guard let reader = self.chainNotifyReader else { return nil }
        enum Found {
            case feed(HeadFeed)
            case open(HeadFeed, any NodeConnection)
            case none
        }
        // A feed's own lock is never taken under the pool's (a feed delivers to clients under
        // its lock, and their channels then take the pool's): an ended feed is replaced after a look.
        let found = self.state.withLock { state -> Found in
            let record = state.table[node]
            guard let session = record.id, state.table.isServing(node) else { return .none }
            if let feed = state.feeds[node], feed.session == session, feed !== stale { return .feed(feed) }
            let feed = HeadFeed(
                node: node, session: session, reader: reader, clock: self.clock,
                headMoved: { [weak self] feed, head, wentLive in self?.feedHeadMoved(feed, head, wentLive: wentLive) },
                ended: { [weak self] feed in self?.feedEnded(feed) })
            state.feeds[node] = feed
            return .open(feed, record.connection)
        }
        let feed: HeadFeed
        switch found {
        case .none: return nil
        case .feed(let existing):
            // Ended, and not forgotten yet: replaced once.
            if existing.phase == .ended { return stale == nil ? await self.headFeed(node: node, replacing: existing) : nil }
            feed = existing
        case .open(let new, let connection):
            feed = new
            // A task of its own: the feed outlives the client that happened to open it.
            Task { await self.openUpstream(for: feed, on: connection) }
        }
        return await self.waitWhileOpening(feed) == .live ? feed : nil
    }

    /// The feed's phase once it is no longer opening, or `.opening` when a heartbeat interval
    /// and a second (as for a probe) passed first or the caller gave up. A feed going live or
    /// ending is a node change: the wait wakes on it.
    private func waitWhileOpening(_ feed: HeadFeed) async -> HeadFeed.Phase {
        let limit = self.state.withLock { Duration.milliseconds(Int($0.settings.heartbeatInterval.milliseconds)) + .seconds(1) }
        let deadline = self.clock.now + limit
        while true {
            let generation = self.nodeGeneration
            let phase = feed.phase
            guard phase == .opening, self.clock.now < deadline, !Task.isCancelled else { return phase }
            await self.waitForNodeChange(until: deadline, after: generation)
        }
    }

    /// Opens a feed's upstream subscription; a feed that sends no head in time is stopped.
    private func openUpstream(for feed: HeadFeed, on connection: any NodeConnection) async {
        switch await connection.openChannel(Self.headFeedCall, events: { feed.deliver($0) }) {
        case .success(let upstream):
            self.countCall(node: feed.node)
            guard feed.attach(upstream) else { return await upstream.cancel() }
        case .failure(let failure):
            let name = self.state.withLock { $0.table[feed.node].endpoint.name }
            self.observer.callRetried(method: Self.headFeedCall.method, node: name, reason: "head feed: \(failure)")
            return await feed.stop()
        }
        if await self.waitWhileOpening(feed) == .opening { await feed.stop() }
    }

    /// Opens a feed on every serving node that has none for its daemon's current process
    /// (after each heartbeat): ChainHead and head changes come from them, clients or not.
    func openMissingHeadFeeds() {
        guard self.chainNotifyReader != nil else { return }
        let missing = self.state.withLock { state in
            state.table.nodes.filter { node in
                guard let session = node.id, state.table.isServing(node.index) else { return false }
                guard let feed = state.feeds[node.index] else { return true }
                return feed.session != session
            }.map(\.index)
        }
        for node in missing { Task { _ = await self.headFeed(node: node) } }
    }

    /// How opening a client head channel on a node's feed went.
    enum HeadChannelOpening {
        case opened(PoolChannel)
        /// The node has no live feed or stopped serving: another node may serve it.
        case unavailable
        /// The channel was closed towards the client meanwhile (its node was lost after it was
        /// registered): the open ends here, since the client has had its close.
        case closed
    }

    /// A client head channel on the node's feed: it gets the feed's head as `current` at
    /// once, then what the daemon sends.
    func openHeadChannel(
        _ call: PoolCall, node: Int, events: @escaping @Sendable (ChannelEvent) -> Void, reader: any ChainNotifyReader
    ) async -> HeadChannelOpening {
        guard let feed = await self.headFeed(node: node) else { return .unavailable }
        let link = ChannelLink(
            forward: events, activity: ChannelActivity(now: self.clock.now), reader: reader,
            upstreamClosed: { id in self.state.withLock { _ = $0.channels.remove(id) } },
            interrupted: { id in self.carryOver(id) })
        // Registered only if the node still serves as the feed's process, for a client still
        // waiting: a node lost meanwhile is never handed out.
        let id = self.state.withLock { state -> Int? in
            guard state.table.isServing(node), state.table[node].id == feed.session, !Task.isCancelled else { return nil }
            return state.channels.register { id in
                PoolChannelRecord(
                    id: id, node: node, session: feed.session, upstream: HeadFeedSubscription(feed: feed, link: link), link: link,
                    call: call)
            }
        }
        guard let id else { return .unavailable }
        link.register(id)
        guard feed.subscribe(link) else {
            self.state.withLock { _ = $0.channels.remove(id) }
            return link.isOpen ? .unavailable : .closed
        }
        return .opened(PoolChannel(id: id, node: node))
    }

    /// A feed's head moved: the node's head moves now, not at the next heartbeat. Calls waiting
    /// for a node (or for this feed to go live) look again, only when something changed for
    /// them: a signal per value would also make every node change look like news to the extra
    /// round of a failed read.
    private func feedHeadMoved(_ feed: HeadFeed, _ head: TipSetFacts, wentLive: Bool) {
        let now = self.clock.now
        let woken = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard state.feeds[feed.node] === feed, state.table[feed.node].id == feed.session else { return [] }
            var raised = false
            if var health = state.table[feed.node].health, head.height > health.head {
                health.head = head.height
                state.table[feed.node].health = health
                state.table[feed.node].headMovedAt = now
                state.table.rebuild()
                raised = true
            }
            return raised || wentLive ? state.nodeChanges.signal() : []
        }
        woken.forEach { $0.resume() }
    }

    /// A feed ended: the pool forgets it (the next heartbeat opens another) and its waiters wake.
    private func feedEnded(_ feed: HeadFeed) {
        let woken = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
            if state.feeds[feed.node] === feed { state.feeds[feed.node] = nil }
            return state.nodeChanges.signal()
        }
        woken.forEach { $0.resume() }
    }

    /// Feeds whose daemon sent nothing for `ChannelSilence` while another node's head moved
    /// after its last value: removed here, stopped by the caller outside the lock.
    static func silentFeeds(_ state: inout State, now: Duration) -> [HeadFeed] {
        let (table, silence) = (state.table, Self.channelSilence(state))
        let silent = state.feeds.values.filter { feed in
            Self.isSilent(node: feed.node, lastValue: feed.activity.lastValue, table: table, silence: silence, now: now)
        }
        for feed in silent { state.feeds[feed.node] = nil }
        return silent
    }

    /// ChainHead answered from the node's feed: the tipset the daemon last named, as it sent
    /// it. No call goes to the node, so none is counted as one in its call metrics. Nil (ask the daemon) for any other call, when the node has no live feed, or when a
    /// heartbeat saw a higher head than the feed did (a feed falling behind is no answer).
    func headFromFeed(_ call: PoolCall, node: Int) -> PoolReply? {
        // Compared, not hashed: every read passes here.
        guard let id = call.id, id == .v1(.chainHead) || id == .v0(.chainHead), Self.isEmptyArray(call.params) else { return nil }
        let (feed, probed) = self.state.withLock { state in
            let feed = state.feeds[node]
            return (feed?.session == state.table[node].id ? feed : nil, state.table[node].health?.head)
        }
        guard let feed, let head = feed.liveHead, head.height >= probed ?? .min else { return nil }
        return .result(head.raw, node: node)
    }

    /// Whether params are `[]` (any whitespace): ChainHead with params is the daemon's to refuse.
    private static func isEmptyArray(_ params: [UInt8]) -> Bool {
        var meaningful = params.lazy.filter { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }.makeIterator()
        return meaningful.next() == UInt8(ascii: "[") && meaningful.next() == UInt8(ascii: "]") && meaningful.next() == nil
    }
}
