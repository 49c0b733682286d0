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
        /// Timestamps of new tipsets and the age of heads come from it.
        var clock: SimClock
        let behindMode: SimBehindMode
        var nextWaiterID = 0
        var nextSubscriptionID = 0
        /// StateWaitMsg calls answered under the lock, resumed by `withState` once it is released:
        /// a waiter's cancellation handler takes the lock while its task's status lock is held,
        /// and resuming a continuation needs that status lock, so resuming one under the lock
        /// could deadlock against a cancel (and stall every cooperative thread behind it).
        var answered: [(continuation: CheckedContinuation<JSON, any Error>, result: Result<JSON, any Error>)] = []
        /// Tests waiting for StateWaitMsg calls to be registered.
        /// Tests waiting for a daemon's StateWaitMsg calls to reach a count (`atLeast`) or drop to it.
        var waiterWatchers: [(daemon: Int, count: Int, atLeast: Bool, watch: SimWatch)] = []

        /// Resumes the watchers of `daemon` whose count is reached (resuming only schedules them).
        mutating func notifyWaiterWatchers(daemon: Int) {
            let waiting = self.daemons[daemon].waiters.count
            let reached: ((daemon: Int, count: Int, atLeast: Bool, watch: SimWatch)) -> Bool = {
                $0.daemon == daemon && ($0.atLeast ? waiting >= $0.count : waiting <= $0.count)
            }
            let ready = self.waiterWatchers.filter(reached)
            self.waiterWatchers.removeAll(where: reached)
            ready.forEach { $0.watch.fire() }
        }
        /// Tests waiting for the number of open channels (all daemons) to reach a value.
        var subscriptionWatchers: [(total: Int, watch: SimWatch)] = []

        var subscriptionTotal: Int { self.daemons.reduce(0) { $0 + $1.subscriptions.count } }

        /// The watchers whose count is reached now (resumed by the caller outside the lock).
        mutating func reachedSubscriptionWatchers() -> [SimWatch] {
            let total = self.subscriptionTotal
            let ready = self.subscriptionWatchers.filter { $0.total == total }.map(\.watch)
            self.subscriptionWatchers.removeAll { $0.total == total }
            return ready
        }
    }

    let state: Mutex<State>
    /// How long a pushed message stays local to its daemon before the network sees it.
    let propagationDelay: Duration
    /// Each daemon's black-hole switch, readable without the lock (channel sends happen
    /// while it is held).
    let blackHoles: [SimSwitch]
    /// The CPU each state read burns, outside the lock.
    let readCost: SimReadCost

    init(
        chain: SimChainState, daemons: [SimDaemonState], clock: SimClock, behindMode: SimBehindMode, propagationDelay: Duration,
        readCost: SimReadCost
    ) {
        self.state = Mutex(State(chain: chain, daemons: daemons, clock: clock, behindMode: behindMode))
        self.propagationDelay = propagationDelay
        self.blackHoles = daemons.map { _ in SimSwitch() }
        self.readCost = readCost
    }

    /// Burns one state read's CPU on the calling thread (the call's own, as in a daemon) and
    /// adds it to `daemon`'s count; the lock is taken only to count.
    func payReadCost(daemon index: Int) {
        let used = self.readCost.burn()
        guard used > .zero else { return }
        self.state.withLock { $0.daemons[index].readCostCPU += used }
    }

    /// Runs `body` under the lock, then resumes the StateWaitMsg calls it answered.
    func withState<T>(_ body: (inout State) -> T) -> T {
        let (value, answered) = self.state.withLock { state in
            let value = body(&state)
            defer { state.answered = [] }
            return (value, state.answered)
        }
        for waiter in answered { waiter.continuation.resume(with: waiter.result) }
        return value
    }

    // MARK: - The chain

    /// Lets `count` block times pass: each publishes what is due and produces a tipset (moving
    /// every daemon's view), unless it is a pending null round. Returns the network height.
    @discardableResult
    func advance(count: Int = 1) -> Int64 {
        var height: Int64 = 0
        // One block time per lock hold, so a long advance never stalls the daemons' calls.
        for _ in 0..<count {
            height = self.withState { state in
                Self.propagateDue(&state, delay: self.propagationDelay, now: .now)
                state.clock.blockTimePassed()
                if state.chain.blockTimePassed(at: state.clock.nowSeconds) != nil {
                    for index in state.daemons.indices { Self.updateView(&state, daemon: index) }
                }
                return state.chain.height
            }
        }
        return height
    }

    /// The next `count` block times produce no tipset.
    func scheduleNullRounds(_ count: Int) {
        self.state.withLock { $0.chain.scheduleNullRounds(count) }
    }

    var networkHeight: Int64 { self.state.withLock { $0.chain.height } }

    func viewHeight(_ daemon: Int) -> Int64 {
        self.state.withLock { $0.daemons[daemon].head }
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
                subscription.send(["Type": 0, "Message": message.json])
            }
        }
    }

    /// Publishes every daemon's local messages that are due (run by the propagation timer).
    func propagate() {
        self.state.withLock { Self.propagateDue(&$0, delay: self.propagationDelay, now: .now) }
    }

    /// Moves the daemon's head (never down, never onto a null round): off an orphaned branch
    /// and up the network's chain. Tells ChainNotify subscribers in one value, as Lotus does:
    /// the orphaned tipsets reverted newest first, then the chain's applied oldest first. Then
    /// answers StateWaitMsg callers whose message is now executed deep enough (resumed by
    /// `withState` after the lock).
    static func updateView(_ state: inout State, daemon index: Int) {
        var changes: [JSON] = []
        func change(_ type: String, _ tipset: SimTipSet) -> JSON {
            ["Type": .string(type), "Val": SimJSON.tipset(state.shown(tipset, daemon: index))]
        }
        // Taken before leaving an orphaned head, so that the head comes back at least as high.
        let view = state.chain.tipset(atOrBelow: state.daemons[index].nextHead(network: state.chain.height)).height
        if let orphaned = state.daemons[index].orphanedHead, state.daemons[index].follows {
            var current = orphaned
            while !state.chain.isOnChain(current), let parent = state.chain.parent(of: current) {
                changes.append(change("revert", current))
                current = parent
            }
            state.daemons[index].orphanedHead = nil
            state.daemons[index].head = current.height
        }
        let old = state.daemons[index].head
        if view > old {
            changes += ((old + 1)...view).compactMap { height in state.chain.tipset(at: height).map { change("apply", $0) } }
            state.daemons[index].head = view
        }
        if !changes.isEmpty {
            for (_, subscription) in state.daemons[index].subscriptions where subscription.kind == .chainNotify {
                subscription.send(.array(changes))
            }
        }
        var stillWaiting: [SimWaiter] = []
        for waiter in state.daemons[index].waiters {
            // Lotus reports the tipset that executed the message: the first one after its inclusion.
            if let inclusion = state.chain.inclusion(of: waiter.cid), let executed = state.chain.tipset(above: inclusion.height),
                executed.height + waiter.confidence <= view
            {
                state.answered.append((waiter.continuation, .success(SimJSON.lookup(inclusion, chain: state.chain))))
            } else {
                stillWaiting.append(waiter)
            }
        }
        state.daemons[index].waiters = stillWaiting
        state.notifyWaiterWatchers(daemon: index)
    }

    // MARK: - Faults

    /// Applies a fault's state change. Network effects (closing listeners and sockets) are the
    /// cluster's job; this returns after the state already reflects the fault.
    func apply(_ fault: SimFault, to index: Int) {
        self.withState { state in
            switch fault {
            case .kill:
                state.daemons[index].running = false
                Self.dropSubscribers(&state, daemon: index)
            case .start:
                // A process started again: new Session; its head catches up from where it died.
                if !state.daemons[index].running { state.daemons[index].session = UUID().uuidString.lowercased() }
                state.daemons[index].running = true
                Self.propagateDue(&state, delay: self.propagationDelay, now: .now)
            case .restart:
                state.daemons[index].session = UUID().uuidString.lowercased()
                state.daemons[index].running = true
                Self.dropSubscribers(&state, daemon: index)
            case .network(let name):
                // Following another chain takes a restarted process, as for a real operator.
                state.daemons[index].network = name == state.chain.network ? nil : name
                state.daemons[index].session = UUID().uuidString.lowercased()
                state.daemons[index].running = true
                Self.dropSubscribers(&state, daemon: index)
            case .pauseSync(let paused):
                state.daemons[index].syncPaused = paused
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
                // The sessions' own teardown ends their channels and cancels their calls.
                break
            case .blackHole(let enabled):
                state.daemons[index].blackHole = enabled
                self.blackHoles[index].set(enabled)
            }
            Self.updateView(&state, daemon: index)
        }
    }

    /// A dead or restarted process has no channels and no waiting calls.
    static func dropSubscribers(_ state: inout State, daemon index: Int) {
        state.daemons[index].subscriptions = [:]
        // Resuming only schedules the watcher, so doing it under the lock is safe.
        state.reachedSubscriptionWatchers().forEach { $0.fire() }
        let waiters = state.daemons[index].waiters
        state.daemons[index].waiters = []
        for waiter in waiters { state.answered.append((waiter.continuation, .failure(LotusClientError.connectionClosed))) }
        state.notifyWaiterWatchers(daemon: index)
    }

    // MARK: - Subscriptions

    /// Registers a channel; ChainNotify gets its `current` value before any other.
    func subscribe(_ kind: SimDaemonState.SubscriptionKind, daemon index: Int, send: @escaping @Sendable (JSON) -> Void) -> Int {
        let (id, ready) = self.state.withLock { state in
            state.nextSubscriptionID += 1
            let id = state.nextSubscriptionID
            state.daemons[index].subscriptions[id] = (kind, send)
            if kind == .chainNotify {
                send([["Type": "current", "Val": SimJSON.tipset(state.shown(state.headTipSet(daemon: index), daemon: index))]])
            }
            return (id, state.reachedSubscriptionWatchers())
        }
        ready.forEach { $0.fire() }
        return id
    }

    /// Returns once exactly `total` channels are open across all daemons.
    func waitForSubscriptions(total: Int) async {
        await SimWatch.wait { watch in
            self.state.withLock { state -> Bool in
                if state.subscriptionTotal == total { return true }
                state.subscriptionWatchers.append((total, watch))
                return false
            }
        }
    }

    /// Removes a channel (the client cancelled it); returns false when it was already gone.
    @discardableResult
    func unsubscribe(_ id: Int, daemon index: Int) -> Bool {
        let (removed, ready) = self.state.withLock { state in
            let removed = state.daemons[index].subscriptions.removeValue(forKey: id) != nil
            return (removed, state.reachedSubscriptionWatchers())
        }
        ready.forEach { $0.fire() }
        return removed
    }

    // MARK: - StateWaitMsg

    /// Returns once `daemon` has at least (`atLeast`) or at most `count` StateWaitMsg calls waiting.
    func waitForWaiters(daemon index: Int, count: Int, atLeast: Bool) async {
        await SimWatch.wait { watch in
            self.state.withLock { state -> Bool in
                let waiting = state.daemons[index].waiters.count
                if atLeast ? waiting >= count : waiting <= count { return true }
                state.waiterWatchers.append((index, count, atLeast, watch))
                return false
            }
        }
    }

    func waitForMessage(cid: String, confidence: Int64, daemon index: Int) async throws -> JSON {
        let id = self.state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                self.withState { state in
                    if Task.isCancelled {
                        state.answered.append((continuation, .failure(CancellationError())))
                        return
                    }
                    state.daemons[index].waiters.append(SimWaiter(id: id, cid: cid, confidence: confidence, continuation: continuation))
                    Self.updateView(&state, daemon: index)
                    state.notifyWaiterWatchers(daemon: index)
                }
            }
        } onCancel: {
            let waiter = self.state.withLock { state -> SimWaiter? in
                guard let position = state.daemons[index].waiters.firstIndex(where: { $0.id == id }) else { return nil }
                defer { state.notifyWaiterWatchers(daemon: index) }
                return state.daemons[index].waiters.remove(at: position)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }
}

/// An on/off switch read without locks.
final class SimSwitch: Sendable {
    private let value = Atomic<Bool>(false)

    var isOn: Bool { self.value.load(ordering: .acquiring) }
    func set(_ on: Bool) { self.value.store(on, ordering: .releasing) }
}
