// The shared state of a simulated network: the chain and every daemon, behind one lock.

import Foundation
import LotusWire
import Synchronization

/// Everything the simulated daemons share. Operations are short and run under one `Mutex`;
/// channel values are handed to sinks (which only enqueue) while the lock is held, so every
/// subscriber sees changes in order.
final class SimWorld: Sendable {
    struct State: Sendable {
        var chain: SimChainState
        var daemons: [SimDaemonState]
        var nextWaiterID = 0
        var nextSubscriptionID = 0
    }

    let state: Mutex<State>
    /// How long a pushed message stays local to its daemon before the network sees it.
    let propagationDelay: Duration

    init(chain: SimChainState, daemons: [SimDaemonState], propagationDelay: Duration) {
        self.state = Mutex(State(chain: chain, daemons: daemons))
        self.propagationDelay = propagationDelay
    }

    // MARK: - The chain

    /// Publishes what is due, produces `count` tipsets, and moves every daemon's view.
    @discardableResult
    func advance(count: Int = 1) -> Int64 {
        self.state.withLock { state in
            for _ in 0..<count {
                Self.propagateDue(&state, delay: self.propagationDelay, now: .now)
                _ = state.chain.advance()
                for index in state.daemons.indices { Self.updateView(&state, daemon: index) }
            }
            return state.chain.height
        }
    }

    var networkHeight: Int64 { self.state.withLock { $0.chain.height } }

    func viewHeight(_ daemon: Int) -> Int64 {
        self.state.withLock { $0.daemons[daemon].viewHeight(network: $0.chain.height) }
    }

    /// Moves local messages older than `delay` to the network, for daemons that can publish.
    static func propagateDue(_ state: inout State, delay: Duration, now: ContinuousClock.Instant) {
        for index in state.daemons.indices where state.daemons[index].running && state.daemons[index].messagePeers > 0 {
            for (sender, messages) in state.daemons[index].local {
                for (nonce, entry) in messages where now - entry.at >= delay {
                    self.publish(&state, entry.message, senderID: sender, from: index)
                    state.daemons[index].local[sender]?[nonce] = nil
                }
                if state.daemons[index].local[sender]?.isEmpty == true { state.daemons[index].local[sender] = nil }
            }
        }
    }

    /// The network learns a message; every other daemon's MpoolSub reports it, as Lotus's does
    /// for messages arriving over pubsub.
    static func publish(_ state: inout State, _ message: SimSignedMessage, senderID: String, from origin: Int) {
        guard state.chain.inclusion(of: message.cid) == nil else { return }
        state.chain.publish(message, senderID: senderID)
        for index in state.daemons.indices where index != origin {
            for (_, subscription) in state.daemons[index].subscriptions where subscription.kind == .mpoolSub {
                subscription.sink.send(["Type": 0, "Message": message.json])
            }
        }
    }

    /// Publishes now whatever of `daemon`'s local messages is due (after a propagation timer).
    func propagate() {
        self.state.withLock { Self.propagateDue(&$0, delay: self.propagationDelay, now: .now) }
    }

    /// Tells ChainNotify subscribers about head changes and wakes StateWaitMsg callers.
    static func updateView(_ state: inout State, daemon index: Int) {
        let view = state.daemons[index].viewHeight(network: state.chain.height)
        let old = state.daemons[index].notifiedHeight
        if view != old {
            var changes: [JSON] = []
            if view < old {
                for height in stride(from: old, to: view, by: -1) {
                    changes.append(["Type": "revert", "Val": SimJSON.tipset(state.chain.tipset(at: height)!)])
                }
            } else {
                for height in (old + 1)...view {
                    changes.append(["Type": "apply", "Val": SimJSON.tipset(state.chain.tipset(at: height)!)])
                }
            }
            state.daemons[index].notifiedHeight = view
            for (_, subscription) in state.daemons[index].subscriptions where subscription.kind == .chainNotify {
                subscription.sink.send(.array(changes))
            }
        }
        var stillWaiting: [SimWaiter] = []
        for waiter in state.daemons[index].waiters {
            if let inclusion = state.chain.inclusion(of: waiter.cid), inclusion.height + waiter.confidence <= view {
                waiter.continuation.resume(returning: SimJSON.lookup(inclusion, tipset: state.chain.tipset(at: inclusion.height)!))
            } else {
                stillWaiting.append(waiter)
            }
        }
        state.daemons[index].waiters = stillWaiting
    }

    // MARK: - Faults

    /// Applies a fault's state change. Network effects (closing listeners and sockets) are the
    /// cluster's job; this returns after the state already reflects the fault.
    func apply(_ fault: SimFault, to index: Int) {
        self.state.withLock { state in
            switch fault {
            case .kill:
                state.daemons[index].running = false
                Self.dropSubscribers(&state, daemon: index)
            case .start:
                state.daemons[index].running = true
                Self.propagateDue(&state, delay: self.propagationDelay, now: .now)
            case .restart:
                state.daemons[index].session = UUID().uuidString.lowercased()
                state.daemons[index].running = true
                Self.dropSubscribers(&state, daemon: index)
            case .pauseSync(let paused):
                state.daemons[index].frozenAt = paused ? state.daemons[index].viewHeight(network: state.chain.height) : nil
            case .lag(let epochs):
                state.daemons[index].lag = max(0, epochs)
            case .peers(let message, let block):
                state.daemons[index].messagePeers = max(0, message)
                state.daemons[index].blockPeers = max(0, block)
                Self.propagateDue(&state, delay: self.propagationDelay, now: .now)
            case .failNext(let method, let count, let error):
                state.daemons[index].failNext[method] = count > 0 ? (count, error) : nil
            case .latency(let milliseconds):
                state.daemons[index].latencyMilliseconds = max(0, milliseconds)
            case .dropWebSockets:
                Self.dropSubscribers(&state, daemon: index)
            case .blackHole(let enabled):
                state.daemons[index].blackHole = enabled
            }
            Self.updateView(&state, daemon: index)
        }
    }

    /// A dead or restarted process has no channels and no waiting calls.
    static func dropSubscribers(_ state: inout State, daemon index: Int) {
        let subscriptions = state.daemons[index].subscriptions
        state.daemons[index].subscriptions = [:]
        for (_, subscription) in subscriptions { subscription.sink.close() }
        let waiters = state.daemons[index].waiters
        state.daemons[index].waiters = []
        for waiter in waiters { waiter.continuation.resume(throwing: LotusClientError.connectionClosed) }
    }

    // MARK: - Subscriptions

    /// Registers a channel; ChainNotify gets its `current` value before any other.
    func subscribe(_ kind: SimDaemonState.SubscriptionKind, daemon index: Int, sink: SimChannelSink) -> Int {
        self.state.withLock { state in
            state.nextSubscriptionID += 1
            let id = state.nextSubscriptionID
            state.daemons[index].subscriptions[id] = (kind, sink)
            if kind == .chainNotify {
                let head = state.chain.tipset(at: state.daemons[index].viewHeight(network: state.chain.height))!
                sink.send([["Type": "current", "Val": SimJSON.tipset(head)]])
            }
            return id
        }
    }

    /// Removes a channel (the client cancelled it); returns false when it was already gone.
    @discardableResult
    func unsubscribe(_ id: Int, daemon index: Int) -> Bool {
        self.state.withLock { $0.daemons[index].subscriptions.removeValue(forKey: id) != nil }
    }

    // MARK: - StateWaitMsg

    func waitForMessage(cid: String, confidence: Int64, daemon index: Int) async throws -> JSON {
        let id = self.state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                self.state.withLock { state in
                    if Task.isCancelled {
                        continuation.resume(throwing: CancellationError())
                        return
                    }
                    state.daemons[index].waiters.append(SimWaiter(id: id, cid: cid, confidence: confidence, continuation: continuation))
                    Self.updateView(&state, daemon: index)
                }
            }
        } onCancel: {
            let waiter = self.state.withLock { state -> SimWaiter? in
                guard let position = state.daemons[index].waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.daemons[index].waiters.remove(at: position)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }
}
