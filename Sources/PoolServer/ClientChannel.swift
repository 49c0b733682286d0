// One client channel (ChainNotify, MpoolSub, …): holds values that arrive before the channel
// id has been sent (a daemon may send at once), then forwards them in order, and sends
// `xrpc.ch.close` exactly once.

import LotusWire
import PoolRuntime
import Synchronization

final class ClientChannel: Sendable {
    private struct State {
        var idSent = false
        var early: [[UInt8]] = []
        var closed = false
        var poolID: Int?
    }

    /// Values held before the id is sent; more means the daemon floods a channel nobody has
    /// accepted yet, and the channel is closed rather than grown (Lotus drops at 16 behind).
    static let maxEarlyValues = 64

    let clientID: UInt64
    private let send: @Sendable ([UInt8]) -> Void
    private let state = Mutex(State())

    init(clientID: UInt64, send: @escaping @Sendable ([UInt8]) -> Void) {
        self.clientID = clientID
        self.send = send
    }

    /// An upstream event, from the pool (possibly before `activate`).
    func deliver(_ event: ChannelEvent) {
        // Sending under the lock keeps values and the close in order; `send` only enqueues.
        self.state.withLock { state in
            guard !state.closed else { return }
            switch event {
            case .value(let value):
                if state.idSent {
                    self.send(RawRPCFrames.channelValue(channel: self.clientID, value: value))
                } else if state.early.count < Self.maxEarlyValues {
                    state.early.append(value)
                } else {
                    state.closed = true
                }
            case .closed:
                state.closed = true
                if state.idSent { self.send(RPCFrames.channelClose(channel: self.clientID).encoded()) }
            }
        }
    }

    /// Sends the channel id answer, then the values that came early, then a close that came early.
    func activate(reply: [UInt8], poolID: Int) {
        self.state.withLock { state in
            state.poolID = poolID
            self.send(reply)
            state.idSent = true
            for value in state.early { self.send(RawRPCFrames.channelValue(channel: self.clientID, value: value)) }
            state.early = []
            if state.closed { self.send(RPCFrames.channelClose(channel: self.clientID).encoded()) }
        }
    }

    /// Closes towards the client (client cancel or connection end); returns the pool channel to stop.
    func close() -> Int? {
        self.state.withLock { state in
            if !state.closed, state.idSent { self.send(RPCFrames.channelClose(channel: self.clientID).encoded()) }
            state.closed = true
            return state.poolID
        }
    }
}
