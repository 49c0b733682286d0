// The pool: its nodes, settings, per-API overrides and bindings, behind one lock.

import GeneratedRoutes
import RouteModel
import Synchronization

/// A count shared by concurrent calls without a lock.
final class Counter: Sendable {
    let value = Atomic<UInt64>(0)

    /// Adds one and returns the value before.
    func next() -> UInt64 { self.value.add(1, ordering: .relaxed).oldValue }
    var current: UInt64 { self.value.load(ordering: .relaxed) }
}

/// Routes FullNode calls to healthy daemons (PRODUCT.md §3–§4).
///
/// Concurrency: every method may be called from any task. Routing reads a consistent
/// snapshot under a `Mutex`; counters are atomics; no lock is held across an `await`.
public final class Pool: Sendable {
    struct State {
        var nodes: [NodeRecord] = []
        var settings: PoolSettings
        var overrides: [String: APIRouteOverride] = [:]
        /// `primary set`: seed actor ID → node index (kept across the node's restarts).
        var bindings: [UInt64: Int] = [:]
        /// Seed addresses resolved to actor IDs (`f0…` numbers).
        var seedIDs: [String: UInt64] = [:]
        var channels: [Int: PoolChannelRecord] = [:]
        var nextChannelID = 1
        var unlistedSeen: Set<String> = []
        /// Calls waiting for a suitable node, woken on every node change.
        var nodeWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
        /// Bumped on every node change, so a waiter that looked before a change does not miss it.
        var generation: UInt64 = 0
        var nextWaiterID = 0
        /// The heartbeat loop's sleep, woken early by a HeartbeatInterval change; the
        /// generation lets a loop that read the interval just before a change see it.
        var intervalWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var intervalGeneration: UInt64 = 0
        /// Available candidates in index order, rebuilt on every change (routing reads them
        /// without allocating).
        var available = CandidateSet([])
        var availableSealing = CandidateSet([])
        /// Accepted signed messages per sender, for nonce-safe failover.
        var ledger = PushLedger()
    }

    let state: Mutex<State>
    let observer: any PoolObserver
    let clock: any PoolClock
    let connect: @Sendable (NodeEndpoint) -> any NodeConnection
    let pushReader: (any PushResultReader)?
    private let apiCounters: [APIVersion: [Counter]]
    /// Calls `startImmediately` sent without a task.
    let immediateStarts = Atomic<Int>(0)

    /// - Parameters:
    ///   - connect: makes the connection to a daemon (PoolServer's WebSocket transport, or a fake).
    ///   - clock: drives heartbeats, waits and timeouts (tests inject their own).
    ///   - pushReader: reads the signed message out of a push's result (MpoolPushMessage), so
    ///     failovers can re-push it; without one only MpoolPush'd messages are remembered.
    public init(
        environment: PoolEnvironment, connect: @escaping @Sendable (NodeEndpoint) -> any NodeConnection,
        observer: any PoolObserver = SilentPoolObserver(), clock: any PoolClock = SystemPoolClock(),
        pushReader: (any PushResultReader)? = nil
    ) {
        var state = State(settings: environment.settings)
        state.overrides = environment.apiOverrides
        self.state = Mutex(state)
        self.observer = observer
        self.clock = clock
        self.connect = connect
        self.pushReader = pushReader
        self.apiCounters = [
            .v0: RouteTable.entries(.v0).map { _ in Counter() }, .v1: RouteTable.entries(.v1).map { _ in Counter() },
        ]
        for endpoint in environment.nodes { self.addNode(endpoint) }
    }

    // MARK: - Nodes

    /// Adds a daemon; it serves calls once a heartbeat finds it healthy.
    @discardableResult
    public func addNode(_ endpoint: NodeEndpoint, sealing: Bool = false) -> Int {
        let connection = self.connect(endpoint)
        return self.state.withLock { state in
            let index = state.nodes.count
            state.nodes.append(
                NodeRecord(
                    index: index, endpoint: endpoint, id: nil, state: .disabled(.unreachable("not checked yet")), sealing: sealing,
                    health: nil, connection: connection, calls: Counter()))
            return index
        }
    }

    /// What `node set --key=status` and `--key=sealing` change.
    public enum NodeChange: Sendable {
        case pause, resume, exit
        case sealing(Bool)
    }

    /// Applies an operator change to the node whose id (Session UUID) or name is `node`.
    ///
    /// - Throws: `PoolCommandError` naming the known nodes when `node` matches none.
    public func setNode(_ node: String, _ change: NodeChange) async throws(PoolCommandError) {
        let (closed, dropped, note) = try self.state.withLock {
            state throws(PoolCommandError) -> ([PoolChannelRecord], (any NodeConnection)?, NodeNote?) in
            let index = try Self.nodeIndex(node, in: state)
            let before = state.nodes[index].state
            switch change {
            case .pause: state.nodes[index].state = .paused
            case .exit: state.nodes[index].state = .exited
            case .resume:
                // Back to the heartbeat's judgement: disabled until the next check passes.
                if before == .paused || before == .exited {
                    state.nodes[index].state = .disabled(.unreachable("resumed; awaiting heartbeat"))
                }
            case .sealing(let sealing): state.nodes[index].sealing = sealing
            }
            var dropped: (any NodeConnection)?
            var note: NodeNote?
            if state.nodes[index].state != before {
                note = .changed(node: state.nodes[index].endpoint.name, from: before, to: state.nodes[index].state)
                if before == .running { dropped = state.nodes[index].connection }
            }
            return (Self.nodesChanged(&state), dropped, note)
        }
        note?.report(to: self.observer)
        await self.close(closed, reason: "node \(node) \(change)")
        await dropped?.reset()
    }

    /// Rebuilds the candidate lists, wakes waiting calls, and returns the channels whose node
    /// can no longer serve them (the caller closes them outside the lock).
    static func nodesChanged(_ state: inout State) -> [PoolChannelRecord] {
        state.available = CandidateSet(state.nodes.filter { $0.state.isAvailable }.map(\.candidate))
        state.availableSealing = CandidateSet(state.nodes.filter { $0.state.isAvailable && $0.sealing }.map(\.candidate))
        state.generation &+= 1
        let waiters = state.nodeWaiters
        state.nodeWaiters = [:]
        for (_, waiter) in waiters { waiter.resume() }
        var lost: [PoolChannelRecord] = []
        for (id, channel) in state.channels {
            let node = state.nodes[channel.node]
            if !node.state.isAvailable || node.id != channel.session {
                lost.append(channel)
                state.channels[id] = nil
            }
        }
        return lost
    }

    /// Counts a call sent to a node (answered or not).
    func countCall(node: Int) {
        _ = self.state.withLock { $0.nodes[node].calls }.next()
    }

    /// The next call id of an API (OneByIdRound, `api list` CallId).
    func nextCallID(_ id: RouteID?) -> UInt64 {
        guard let id, let counters = self.apiCounters[id.version] else { return 0 }
        return counters[id.index].next()
    }

    /// The API's call id without counting a call.
    func currentCallID(_ id: RouteID?) -> UInt64 {
        guard let id, let counters = self.apiCounters[id.version] else { return 0 }
        return counters[id.index].current
    }

    /// How many calls each API has had, by name (v0 and v1 together).
    public var callIDs: [String: UInt64] {
        var totals: [String: UInt64] = [:]
        for version in [APIVersion.v0, .v1] {
            for (index, entry) in RouteTable.entries(version).enumerated() {
                let count = self.apiCounters[version]![index].current
                if count > 0 { totals[entry.name, default: 0] += count }
            }
        }
        return totals
    }

    // MARK: - Settings

    public var settings: PoolSettings { self.state.withLock { $0.settings } }

    /// `config set`: takes effect for the next call and the next heartbeat.
    public func setSetting(_ key: String, to value: String) throws(SettingsError) {
        let waiters = try self.state.withLock { state throws(SettingsError) -> [CheckedContinuation<Void, Never>] in
            let before = state.settings.heartbeatInterval
            try state.settings.set(key, to: value)
            guard state.settings.heartbeatInterval != before else { return [] }
            state.intervalGeneration &+= 1
            defer { state.intervalWaiters = [:] }
            return Array(state.intervalWaiters.values)
        }
        // A new interval applies now, not after the sleep the old one started.
        waiters.forEach { $0.resume() }
    }

    /// The settings of one API (its route's, or the operator's override).
    public func apiSettings(_ name: String, version: APIVersion = .v1) throws(PoolCommandError) -> APIRouteOverride {
        guard let route = RouteTable.lookup(version, name: name)?.route else { throw self.unknownAPI(name, version: version) }
        return self.state.withLock { $0.overrides[name] } ?? APIRouteOverride(route: route)
    }

    /// `api set --api=<name> --key=<key> --val=<value>`.
    public func setAPI(_ name: String, key: String, to value: String) throws(PoolCommandError) {
        guard let route = RouteTable.lookup(.v1, name: name)?.route ?? RouteTable.lookup(.v0, name: name)?.route else {
            throw self.unknownAPI(name, version: .v1)
        }
        // A push goes to its sender's bound node; a policy would silently not apply.
        if key == "policy", route.seed != nil {
            throw PoolCommandError(
                "\(name) pushes messages: it goes to its sender's bound node, not by policy; use `fpool primary set --seed=<actor> --nid=<node>` to move a sender"
            )
        }
        do {
            try self.state.withLock { state throws(SettingsError) in
                var override = state.overrides[name] ?? APIRouteOverride(route: route)
                try override.set(key, to: value)
                state.overrides[name] = override
            }
        } catch {
            throw PoolCommandError(error.description)
        }
    }

    func unknownAPI(_ name: String, version: APIVersion) -> PoolCommandError {
        let hint = NameSuggestion.closest(to: name, among: RouteTable.entries(version).map(\.name)).map { "; did you mean \($0)?" } ?? ""
        return PoolCommandError("unknown API '\(name)'\(hint) (`fpool api list` shows them all)")
    }
}

/// An operator command that names something that does not exist, or a bad value.
public struct PoolCommandError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
