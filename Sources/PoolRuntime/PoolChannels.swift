// Client channels (ChainNotify, MpoolSub, …) and closing them when their node is lost.

import Synchronization

/// A client channel served from one node.
struct PoolChannelRecord: Sendable {
    let id: Int
    let node: Int
    /// The node's Session when the channel opened: a restart ends the channel.
    let session: String?
    var upstream: any NodeChannel
    /// The client's side, across carry-overs to a new subscription.
    let link: ChannelLink
    /// The call that opened it, to subscribe again when its connection drops.
    let call: PoolCall

    /// Tells the client the channel is closed (the server sends `xrpc.ch.close`).
    func closeTowardsClient() { self.link.close() }

    /// When the daemon last sent a value (ChainNotify only: a head channel that falls silent
    /// while other heads move is closed, so its client subscribes again elsewhere).
    var activity: ChannelActivity? { self.link.activity }
}

/// The time of a channel's last value, written from whatever thread delivers it.
final class ChannelActivity: Sendable {
    private let milliseconds: Atomic<Int64>

    init(now: Duration) {
        self.milliseconds = Atomic(Self.milliseconds(now))
    }

    func touch(_ now: Duration) { self.milliseconds.store(Self.milliseconds(now), ordering: .relaxed) }
    var lastValue: Duration { .milliseconds(self.milliseconds.load(ordering: .relaxed)) }

    private static func milliseconds(_ time: Duration) -> Int64 {
        time.components.seconds * 1_000 + time.components.attoseconds / 1_000_000_000_000_000
    }
}

/// Why a channel could not be opened: the answer to give the client.
public struct PoolRefusal: Error, Sendable, Equatable {
    /// What to answer the client's request instead of a channel id: the last node's error, or why no node was tried.
    public let reply: PoolReply
}

/// A channel the pool opened for a client.
public struct PoolChannel: Sendable {
    /// The pool's id for the channel, never reused within a pool (it survives carry-overs); pass it to
    /// `Pool.closeChannel(_:)`.
    public let id: Int
    /// The serving node's index.
    public let node: Int
}

/// Holds a channel's events until it is registered, then passes them on in order; drops
/// everything of an attempt the pool gave up on.
final class ChannelGate: Sendable {
    private struct State {
        var open = false
        var discarded = false
        var held: [ChannelEvent] = []
    }

    /// More early values than this means a flood nobody accepted yet: the channel is closed.
    static let maxHeld = 64

    private let state = Mutex(State())
    private let forward: @Sendable (ChannelEvent) -> Void

    init(forward: @escaping @Sendable (ChannelEvent) -> Void) {
        self.forward = forward
    }

    func deliver(_ event: ChannelEvent) {
        // Forwarding under the gate's lock keeps a value arriving during `open` behind the held ones.
        self.state.withLock { state in
            if state.discarded { return }
            if state.open {
                self.forward(event)
            } else if state.held.count < Self.maxHeld {
                state.held.append(event)
            } else if state.held.last != .closed {
                state.held.append(.closed)
            }
        }
    }

    /// Passes the held events on, then every later one; `droppingFirst`: without the first
    /// held (a new subscription's `current`, replaced by the changes that lead to it).
    func open(droppingFirst: Bool = false) {
        self.state.withLock { state in
            state.open = true
            for event in state.held.dropFirst(droppingFirst ? 1 : 0) { self.forward(event) }
            state.held = []
        }
    }

    func discard() {
        self.state.withLock { state in
            state.discarded = true
            state.held = []
        }
    }
}

extension Pool {
    /// Opens a channel method on the node routing picks for it. `events` gets the upstream
    /// values in order (possibly before this returns: a daemon may send at once), then `.closed` exactly once: when the daemon closes it, or when the pool
    /// closes it because its node was disabled, paused, exited or restarted.
    ///
    /// As for reads, an open that no node answered is tried once more over the nodes serving
    /// then, if they changed meanwhile (a socket fpool reset, a redial).
    public func openChannel(_ call: PoolCall, events: @escaping @Sendable (ChannelEvent) -> Void) async -> Result<PoolChannel, PoolRefusal>
    {
        let generation = self.nodeGeneration
        let opened = await self.openChannelRound(call, events: events)
        guard case .failure(let refusal) = opened, case .failed = refusal.reply, self.nodeGeneration != generation, !Task.isCancelled
        else { return opened }
        self.observer.callRetried(method: call.method, node: "every node", reason: "no answer from any node; one more round")
        return await self.openChannelRound(call, events: events)
    }

    /// One round of `openChannel`: the plan's nodes in order.
    private func openChannelRound(_ call: PoolCall, events: @escaping @Sendable (ChannelEvent) -> Void) async -> Result<
        PoolChannel, PoolRefusal
    > {
        let plan: CallPlan
        switch await self.plan(call) {
        case .ready(let made): plan = made
        case .refused(let reply): return .failure(PoolRefusal(reply: reply))
        }
        var lastFailure: PoolReply = .failed("no node available for \(call.method)")
        for candidate in plan.order {
            // A client that gave up (cancel, disconnect) opens nothing more.
            if Task.isCancelled { return .failure(PoolRefusal(reply: .failed("context canceled"))) }
            let (connection, session, name) = self.state.withLock { state in
                (state.table[candidate.index].connection, state.table[candidate.index].id, state.table[candidate.index].endpoint.name)
            }
            // The client sees values until the first close, then nothing; an upstream close also
            // forgets the channel (it no longer counts, and no later loss "closes" it again). A
            // head channel whose connection drops is carried over to the same daemon if it can be.
            let isHead = plan.route.name == "ChainNotify"
            if isHead, let reader = self.chainNotifyReader {
                // Served from the node's head feed: no upstream subscription of its own.
                switch await self.openHeadChannel(call, node: candidate.index, events: events, reader: reader) {
                case .opened(let channel):
                    self.observer.callFinished(method: call.method, node: name, succeeded: true)
                    return .success(channel)
                case .closed:
                    return .failure(PoolRefusal(reply: .failed("\(name) was lost while the channel opened")))
                case .unavailable:
                    break
                }
                if Task.isCancelled { return .failure(PoolRefusal(reply: .failed("context canceled"))) }
                lastFailure = .failed("\(name) sent no head for \(call.method)")
                self.observer.callRetried(method: call.method, node: name, reason: "no head from the daemon's ChainNotify")
                continue
            }
            let link = ChannelLink(
                forward: events, activity: isHead ? ChannelActivity(now: self.clock.now) : nil,
                reader: isHead ? self.chainNotifyReader : nil,
                upstreamClosed: { id in self.state.withLock { _ = $0.channels.remove(id) } },
                interrupted: { id in self.carryOver(id) })
            // Held until the channel is registered: a node given up on while it opened never
            // reaches the client, and a close that comes early still forgets the record.
            let gate = ChannelGate(forward: { link.deliver($0, epoch: 0, now: self.clock.now) })
            switch await connection.openChannel(call, events: { gate.deliver($0) }) {
            case .success(let upstream):
                self.countCall(node: candidate.index)
                // Registered only if the node still serves, as the same process, for a client
                // still waiting: a node lost while the channel opened is never handed out.
                let id = self.state.withLock { state -> Int? in
                    let node = state.table[candidate.index]
                    guard state.table.isServing(candidate.index), node.id == session, !Task.isCancelled else { return nil }
                    return state.channels.register { id in
                        PoolChannelRecord(id: id, node: candidate.index, session: session, upstream: upstream, link: link, call: call)
                    }
                }
                guard let id else {
                    gate.discard()
                    await upstream.cancel()
                    if Task.isCancelled { return .failure(PoolRefusal(reply: .failed("context canceled"))) }
                    self.observer.callRetried(method: call.method, node: name, reason: "node lost while the channel opened")
                    continue
                }
                link.register(id)
                gate.open()
                self.observer.callFinished(method: call.method, node: name, succeeded: true)
                return .success(PoolChannel(id: id, node: candidate.index))
            case .failure(let failure):
                lastFailure = Self.reply(failure.reply, node: candidate.index, name: name)
                // The same retry rules as plain calls (channel methods are reads).
                guard case .retryElsewhere(let reason) = RetryRule.decide(ErrorClassifier.classify(failure.reply), route: plan.route) else {
                    self.reportNoAnswer(failure.reply, method: call.method, node: name)
                    return .failure(PoolRefusal(reply: lastFailure))
                }
                self.observer.callRetried(method: call.method, node: name, reason: Self.logReason(reason, for: failure.reply))
            }
        }
        return .failure(PoolRefusal(reply: lastFailure))
    }

    /// The client cancelled its channel: stop the upstream one (a carry-over under way stops).
    public func closeChannel(_ id: Int) async {
        let record = self.state.withLock { state in state.channels.remove(id) ?? state.carryingOver.removeValue(forKey: id) }
        await record?.upstream.cancel()
    }

    /// Open channels, by node index.
    public var openChannels: [Int: Int] {
        self.state.withLock { $0.channels.countsByNode }
    }

    /// The node index serving each open channel, by channel id: which channels a node's loss
    /// must close (a count cannot tell them from the channels opened there since).
    public var channelNodes: [Int: Int] {
        self.state.withLock { state in state.channels.records.mapValues(\.node) }
    }

    /// ChainNotify channels whose daemon sent nothing for `ChannelSilence` while another node's
    /// head moved after its last value: removed here, closed by the caller outside the lock.
    static func silentChannels(_ state: inout State, now: Duration) -> [PoolChannelRecord] {
        let (table, silence) = (state.table, Self.channelSilence(state))
        return state.channels.removeAll { channel in
            guard let last = channel.activity?.lastValue else { return false }
            return Self.isSilent(node: channel.node, lastValue: last, table: table, silence: silence, now: now)
        }
    }

    static func channelSilence(_ state: State) -> Duration {
        .milliseconds(Int(state.settings.channelSilence.milliseconds))
    }

    /// Whether a head stream of `node` whose last value came at `lastValue` is silent: nothing
    /// for `silence` while another serving node's head moved after that value.
    static func isSilent(node: Int, lastValue last: Duration, table: NodeTable, silence: Duration, now: Duration) -> Bool {
        guard now - last > silence else { return false }
        return table.nodes.contains { other in
            other.index != node && table.isServing(other.index) && (other.headMovedAt ?? .zero) > last
        }
    }

    /// Closes channels towards their clients, then upstream; called outside the lock.
    func close(_ channels: [PoolChannelRecord], reason: String) async {
        guard !channels.isEmpty else { return }
        for channel in channels { channel.closeTowardsClient() }
        for channel in channels { await channel.upstream.cancel() }
        let byNode = Dictionary(grouping: channels, by: \.node)
        let names = self.state.withLock { state in byNode.keys.map { ($0, state.table[$0].endpoint.name) } }
        for (node, name) in names { self.observer.channelsClosed(node: name, count: byNode[node]?.count ?? 0, reason: reason) }
    }

}
