// One client channel (ChainNotify, MpoolSub, …): holds values that arrive before the channel
// id has been sent, forwards them in order, closes a subscriber that falls 16 values behind
// its socket (as Lotus does), and sends `xrpc.ch.close` exactly once.

import LotusWire
import PoolRuntime
import Synchronization

final class ClientChannel: Sendable {
    /// Why a channel ended, for the session to tidy up.
    enum Ending: Sendable {
        /// The pool closed it (daemon closed it, node lost): nothing upstream is left.
        case byPool
        /// The client stopped reading: the upstream channel must be closed too.
        case clientBehind
    }

    private struct State {
        var idSent = false
        var early: [[UInt8]] = []
        var closed = false
        /// The pool ended it: there is no upstream channel left to close.
        var upstreamGone = false
        var poolID: Int?
        /// The overflow rule closed it: values still on their way to the socket are dropped.
        var behind = false
        /// Values handed to the session and not yet given to the socket (on their way through
        /// the event loop's queue).
        var queued = 0
        /// Values given to the socket and not yet written: the client is not reading them.
        var pending = 0
    }

    /// Lotus drops a subscriber 16 values behind; so does fpool, instead of buffering without
    /// end. Counted at the socket, not on the way to it: a burst of head changes that comes
    /// while the event loop is busy is not a client that stopped reading.
    static let maxPending = 16
    /// Values on their way to the socket: bounds what a channel holds while its loop lags.
    static let maxQueued = 256
    /// Values held before the id is sent.
    static let maxEarlyValues = 64

    /// The session's key for this channel.
    let token: UInt64
    /// The id the client sees in `xrpc.ch.val`.
    let clientID: UInt64
    private let send: @Sendable ([UInt8], ClientChannel?) -> Void
    private let ended: @Sendable (ClientChannel, Ending) -> Void
    private let state = Mutex(State())

    /// - Parameters:
    ///   - send: enqueues a frame; frames of this channel's values name the channel, so the
    ///     writer can report them written.
    ///   - ended: called once when the pool or the overflow rule ends the channel.
    init(
        token: UInt64, clientID: UInt64, send: @escaping @Sendable ([UInt8], ClientChannel?) -> Void,
        ended: @escaping @Sendable (ClientChannel, Ending) -> Void
    ) {
        self.token = token
        self.clientID = clientID
        self.send = send
        self.ended = ended
    }

    /// An upstream event, from the pool (possibly before `activate`).
    func deliver(_ event: ChannelEvent) {
        // Sending under the lock keeps values and the close in order; `send` only enqueues.
        let ending = self.state.withLock { state -> Ending? in
            guard !state.closed else { return nil }
            switch event {
            case .value(let value):
                if !state.idSent {
                    guard state.early.count < Self.maxEarlyValues else { return self.closeLocked(&state, .clientBehind) }
                    state.early.append(value)
                    return nil
                }
                guard state.queued < Self.maxQueued else { return self.closeLocked(&state, .clientBehind) }
                state.queued += 1
                self.send(RawRPCFrames.channelValue(channel: self.clientID, value: value), self)
                return nil
            case .closed, .interrupted:
                state.upstreamGone = true
                return self.closeLocked(&state, .byPool)
            }
        }
        if let ending { self.ended(self, ending) }
    }

    private func closeLocked(_ state: inout State, _ ending: Ending) -> Ending {
        state.closed = true
        state.behind = ending == .clientBehind
        if state.idSent { self.send(RPCFrames.channelClose(channel: self.clientID).encoded(), nil) }
        return ending
    }

    /// Where a channel stands when the pool's open returns.
    enum Attachment: Sendable, Equatable {
        case open
        /// The client's side ended it (cancel, overflow): the opener closes the pool channel.
        case endedByClient
        /// The pool ended it already (its node was lost): nothing to close, nothing to keep.
        case endedByPool
    }

    /// Records the pool's channel.
    func attach(poolID: Int) -> Attachment {
        self.state.withLock { state in
            state.poolID = poolID
            guard state.closed else { return .open }
            return state.upstreamGone ? .endedByPool : .endedByClient
        }
    }

    /// Sends the channel id answer, then the values that came early, then an early close.
    func activate(reply: [UInt8]) {
        self.state.withLock { state in
            self.send(reply, nil)
            state.idSent = true
            for value in state.early {
                state.queued += 1
                self.send(RawRPCFrames.channelValue(channel: self.clientID, value: value), self)
            }
            state.early = []
            if state.closed { self.send(RPCFrames.channelClose(channel: self.clientID).encoded(), nil) }
        }
    }

    /// On the loop, as one of this channel's value frames reaches the socket: true to write
    /// it. False once the client is 16 values behind there (the channel then closes) or was
    /// already; a value that came before any other close is still written, ahead of it.
    func willWrite() -> Bool {
        let (write, ending) = self.state.withLock { state -> (Bool, Ending?) in
            state.queued -= 1
            guard !state.behind else { return (false, nil) }
            guard state.pending < Self.maxPending else {
                return (false, state.closed ? nil : self.closeLocked(&state, .clientBehind))
            }
            state.pending += 1
            return (true, nil)
        }
        if let ending { self.ended(self, ending) }
        return write
    }

    /// One of this channel's value frames given to the socket was written.
    func written() {
        self.state.withLock { $0.pending -= 1 }
    }

    /// One of this channel's value frames was dropped on its way (nothing follows the
    /// connection's close frame).
    func dropped() {
        self.state.withLock { $0.queued -= 1 }
    }

    /// Ends the channel from the client's side (cancel, disconnect); returns the pool channel
    /// to close, if it was still open.
    func close() -> Int? {
        self.state.withLock { state in
            guard !state.closed else { return nil }
            state.closed = true
            if state.idSent { self.send(RPCFrames.channelClose(channel: self.clientID).encoded(), nil) }
            return state.poolID
        }
    }

    /// The pool channel, once attached.
    var poolID: Int? { self.state.withLock { $0.poolID } }
}
