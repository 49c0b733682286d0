// One client channel's path from its upstream subscription to the client. A head channel
// whose connection dropped under it is carried over to a new subscription (`epoch`), and the
// old subscription's late events are dropped; what the client was told is kept for the splice.

import Synchronization

final class ChannelLink: Sendable {
    private struct State {
        var closed = false
        /// The upstream subscription whose events reach the client; older ones' are dropped.
        var epoch = 0
        /// What the client has been told, for head channels that can be carried over.
        var history: ChainNotifyHistory?
        var id: Int?
    }

    private let state: Mutex<State>
    /// The client's side of the channel.
    private let forward: @Sendable (ChannelEvent) -> Void
    let activity: ChannelActivity?
    private let reader: (any ChainNotifyReader)?
    /// The upstream closed the channel: the pool forgets it.
    private let upstreamClosed: @Sendable (Int) -> Void
    /// The connection under the channel dropped: the pool tries to carry it over.
    private let interrupted: @Sendable (Int) -> Void

    init(
        forward: @escaping @Sendable (ChannelEvent) -> Void, activity: ChannelActivity?, reader: (any ChainNotifyReader)?,
        upstreamClosed: @escaping @Sendable (Int) -> Void, interrupted: @escaping @Sendable (Int) -> Void
    ) {
        self.state = Mutex(State(history: reader == nil ? nil : ChainNotifyHistory()))
        self.forward = forward
        self.activity = activity
        self.reader = reader
        self.upstreamClosed = upstreamClosed
        self.interrupted = interrupted
    }

    func register(_ id: Int) { self.state.withLock { $0.id = id } }

    /// An event of subscription `epoch`, with the pool clock's `now`.
    /// A head feed passes the value's `changes`, read once for all its clients: their histories
    /// then share the tipsets' bytes.
    func deliver(_ event: ChannelEvent, epoch: Int, now: Duration, changes known: [HeadChange]? = nil) {
        enum After { case nothing, forget(Int?), resume(Int) }
        // Forwarding under the lock keeps the client's values in order.
        let after = self.state.withLock { state -> After in
            guard !state.closed, epoch == state.epoch else { return .nothing }
            switch event {
            case .value(let value):
                self.activity?.touch(now)
                if state.history != nil, let changes = known ?? self.reader?.changes(in: value) { state.history?.record(changes) }
                self.forward(event)
                return .nothing
            case .interrupted where state.history?.tipsets.isEmpty == false && state.id != nil:
                return .resume(state.id!)
            case .closed, .interrupted:
                state.closed = true
                self.forward(.closed)
                return .forget(state.id)
            }
        }
        switch after {
        case .nothing, .forget(nil): break
        case .forget(let id?): self.upstreamClosed(id)
        case .resume(let id): self.interrupted(id)
        }
    }

    /// Closes the channel towards the client (once).
    func close() {
        self.state.withLock { state in
            guard !state.closed else { return }
            state.closed = true
            self.forward(.closed)
        }
    }

    /// Starts carrying the channel over: the current subscription's events are dropped from
    /// now on. Returns the new subscription's epoch and what the client was told, or nil when
    /// the channel is closed or cannot be carried over.
    func beginCarryOver() -> (epoch: Int, history: ChainNotifyHistory)? {
        self.state.withLock { state in
            guard !state.closed, let history = state.history, !history.tipsets.isEmpty else { return nil }
            state.epoch += 1
            return (state.epoch, history)
        }
    }

    /// Sends the changes that lead the client to the new subscription's head (none when it is
    /// there already); false when the channel closed meanwhile.
    func splice(_ changes: [HeadChange], epoch: Int, now: Duration) -> Bool {
        guard let reader = self.reader else { return false }
        return self.state.withLock { state in
            guard !state.closed, epoch == state.epoch else { return false }
            guard !changes.isEmpty else { return true }
            state.history?.record(changes)
            self.activity?.touch(now)
            self.forward(.value(reader.value(of: changes)))
            return true
        }
    }

    var isOpen: Bool { self.state.withLock { !$0.closed } }
    var isResumable: Bool { self.state.withLock { !$0.closed && $0.history?.tipsets.isEmpty == false } }
    var chainNotifyReader: (any ChainNotifyReader)? { self.reader }
}
