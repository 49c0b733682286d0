// One daemon's ChainNotify, shared by every client head channel the daemon serves: the pool
// keeps one upstream subscription per daemon, hands a new client the latest head as its
// `current` at once, then passes on every value the daemon sends, byte for byte.

import Synchronization

final class HeadFeed: Sendable {
    enum Phase: Sendable, Equatable {
        /// Subscribed (or subscribing), waiting for the daemon's `current`.
        case opening
        /// The daemon sent its `current`: the feed knows the head and serves clients.
        case live
        /// The daemon closed it, its connection dropped, or the pool stopped it.
        case ended
    }

    /// How a carried-over client's splice went.
    enum Splice: Sendable, Equatable {
        case spliced
        /// The head moved since the bridge was computed: compute it again.
        case headMoved
        case ended
        /// The client's channel closed meanwhile.
        case clientGone
    }

    private struct Subscriber {
        let link: ChannelLink
        /// The link's subscription epoch (it moves when the client is carried over).
        let epoch: Int
    }

    private struct State {
        var phase = Phase.opening
        var upstream: (any NodeChannel)?
        /// The latest head the daemon named; nil after a revert that no apply followed.
        var head: TipSetFacts?
        /// `head` as a subscription's first value, written once for every client that subscribes at it.
        var current: [UInt8]?
        var subscribers: [ObjectIdentifier: Subscriber] = [:]
    }

    /// The node it follows, and the daemon process (Session) it was opened on: a restart is
    /// another feed.
    let node: Int
    let session: String
    /// When the daemon last sent a value: a feed silent while other heads move is replaced.
    let activity: ChannelActivity
    private let state = Mutex(State())
    private let reader: any ChainNotifyReader
    private let clock: any PoolClock
    /// The feed's head moved (or it went live): the pool updates the node's head at once.
    private let headMoved: @Sendable (HeadFeed, TipSetFacts, _ wentLive: Bool) -> Void
    /// The feed ended: the pool forgets it and wakes whoever waits for it.
    private let ended: @Sendable (HeadFeed) -> Void

    init(
        node: Int, session: String, reader: any ChainNotifyReader, clock: any PoolClock,
        headMoved: @escaping @Sendable (HeadFeed, TipSetFacts, _ wentLive: Bool) -> Void, ended: @escaping @Sendable (HeadFeed) -> Void
    ) {
        self.node = node
        self.session = session
        self.reader = reader
        self.clock = clock
        self.activity = ChannelActivity(now: clock.now)
        self.headMoved = headMoved
        self.ended = ended
    }

    var phase: Phase { self.state.withLock { $0.phase } }

    /// The latest head while the feed is live.
    var liveHead: TipSetFacts? {
        self.state.withLock { $0.phase == .live ? $0.head : nil }
    }

    var subscriberCount: Int { self.state.withLock { $0.subscribers.count } }

    /// One event of the upstream subscription, in order.
    func deliver(_ event: ChannelEvent) {
        let now = self.clock.now
        var moved: TipSetFacts?
        var wentLive = false
        var end = false
        var refused: (any NodeChannel)?
        // Forwarding under the feed's lock keeps every client's values in the daemon's order,
        // and a client subscribing now gets either a value or the head it leads to, never both.
        self.state.withLock { state in
            guard state.phase != .ended else { return }
            switch event {
            case .value(let value):
                self.activity.touch(now)
                let changes = self.reader.changes(in: value) ?? []
                if state.phase == .opening {
                    // A subscription's first value is the daemon's head, as `current`; clients
                    // get their own `current` when they subscribe.
                    guard changes.count == 1, changes[0].kind == .current else {
                        refused = state.upstream
                        end = self.endLocked(&state, .closed)
                        return
                    }
                    state.head = changes[0].tipset
                    state.phase = .live
                    moved = state.head
                    wentLive = true
                    return
                }
                state.current = nil
                for change in changes {
                    switch change.kind {
                    case .current, .apply: state.head = change.tipset
                    case .revert: if state.head?.key == change.tipset.key { state.head = nil }
                    }
                }
                if changes.contains(where: { $0.kind != .revert }) { moved = state.head }
                for subscriber in state.subscribers.values {
                    subscriber.link.deliver(event, epoch: subscriber.epoch, now: now, changes: changes)
                }
            case .closed, .interrupted:
                end = self.endLocked(&state, event)
            }
        }
        if let moved { self.headMoved(self, moved, wentLive) }
        if end { self.ended(self) }
        if let refused { Task { await refused.cancel() } }
    }

    /// Ends the feed: its clients get `event` (an interrupted head channel is carried over by
    /// the pool), and nothing more is delivered.
    private func endLocked(_ state: inout State, _ event: ChannelEvent) -> Bool {
        state.phase = .ended
        let now = self.clock.now
        for subscriber in state.subscribers.values { subscriber.link.deliver(event, epoch: subscriber.epoch, now: now) }
        state.subscribers = [:]
        return true
    }

    /// The upstream subscription, once opened; false when the feed ended meanwhile (the caller
    /// cancels it).
    func attach(_ upstream: any NodeChannel) -> Bool {
        self.state.withLock { state in
            guard state.phase != .ended else { return false }
            state.upstream = upstream
            return true
        }
    }

    /// Adds a new client: it gets `current` (the latest head) now, then every later value.
    /// False when the feed is not live or the client's channel closed meanwhile.
    func subscribe(_ link: ChannelLink) -> Bool {
        let now = self.clock.now
        return self.state.withLock { state in
            guard state.phase == .live, let head = state.head, link.isOpen else { return false }
            let current = [HeadChange(.current, head)]
            let value = state.current ?? self.reader.value(of: current)
            state.current = value
            link.deliver(.value(value), epoch: 0, now: now, changes: current)
            state.subscribers[ObjectIdentifier(link)] = Subscriber(link: link, epoch: 0)
            return true
        }
    }

    /// Adds a client carried over from a lost subscription: it gets `changes` (the bridge from
    /// what it was told to `head`), then every later value.
    func splice(_ link: ChannelLink, epoch: Int, changes: [HeadChange], from head: [String]) -> Splice {
        let now = self.clock.now
        return self.state.withLock { state in
            guard state.phase == .live else { return .ended }
            guard state.head?.key == head else { return .headMoved }
            guard link.splice(changes, epoch: epoch, now: now) else { return .clientGone }
            state.subscribers[ObjectIdentifier(link)] = Subscriber(link: link, epoch: epoch)
            return .spliced
        }
    }

    /// The client's channel closed: nothing more goes to it.
    func unsubscribe(_ link: ChannelLink) {
        _ = self.state.withLock { $0.subscribers.removeValue(forKey: ObjectIdentifier(link)) }
    }

    /// Stops the feed (its node stopped serving, or it fell silent): its clients' channels
    /// close, and the upstream subscription is cancelled.
    func stop() async {
        let (upstream, end) = self.state.withLock { state -> ((any NodeChannel)?, Bool) in
            guard state.phase != .ended else { return (state.upstream, false) }
            return (state.upstream, self.endLocked(&state, .closed))
        }
        if end { self.ended(self) }
        await upstream?.cancel()
    }
}

/// A client's subscription to a head feed, as its channel record's upstream: cancelling it
/// only stops the values to that client; the feed goes on for the others.
struct HeadFeedSubscription: NodeChannel {
    let feed: HeadFeed
    let link: ChannelLink

    func cancel() async {
        self.feed.unsubscribe(self.link)
    }
}
