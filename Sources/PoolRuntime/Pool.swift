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
        var table: NodeTable
        var settings: PoolSettings
        var overrides: [String: APIRouteOverride] = [:]
        var seeds = SeedBindings()
        var channels = ChannelTable()
        var unlistedSeen: Set<String> = []
        /// Every node change: calls waiting for a suitable node wake on it.
        var nodeChanges = ChangeSignal()
        /// The heartbeat loop's sleep, ended early by a HeartbeatInterval change or a lost connection.
        var intervalChanges = ChangeSignal()
        var nextWaiterID = 0
        /// Accepted signed messages per sender, for nonce-safe failover.
        var ledger = PushLedger()
        /// Whether the pool was degraded at the last change (reported when it flips).
        var wasDegraded = false
        /// Head channels whose connection dropped, waiting to be carried over (by channel id).
        var carryingOver: [Int: PoolChannelRecord] = [:]
        /// Each serving node's ChainNotify, shared by its head channels (by node index).
        var feeds: [Int: HeadFeed] = [:]
        /// Heartbeats started (each beat's number).
        var beatsStarted: UInt64 = 0
        /// Heartbeats finished: every node judged and what that changed carried out.
        var beatsFinished = ChangeSignal()
        /// Beats left at `Pool.quickBeatDelay` rather than the interval, after a socket closed by
        /// itself: a daemon that dropped it is usually restarting, and its first redial refused.
        var quickBeats = 0
    }

    let state: Mutex<State>
    let observer: any PoolObserver
    let clock: any PoolClock
    let connect: @Sendable (NodeEndpoint) -> any NodeConnection
    let pushReader: (any PushResultReader)?
    /// Reads ChainNotify values, so head channels can be carried over a dropped connection.
    let chainNotifyReader: (any ChainNotifyReader)?
    /// Hedge timers of calls without a task, and hedged attempts.
    let scheduler: any PoolScheduler
    private let apiCounters: [APIVersion: [Counter]]
    /// Calls `startImmediately` sent without a task.
    let immediateStarts = Atomic<Int>(0)
    /// Answer times per method and the hedge budget (no lock shared by every read).
    let latency = LatencyEstimates()
    /// Successful answers of `cache=` methods: a lock of its own, taken once per cacheable call.
    let cache: Mutex<ResultCache>
    /// Identical reads in flight, sharing one upstream call.
    let flights = ReadFlights()
    /// Requests daemons dropped their connection over: a lock of their own, looked at by
    /// every call only while something is quarantined.
    let quarantine = Mutex(RequestQuarantine())

    /// A pool of the environment's daemons; nothing is dialled until the first `heartbeat()`.
    ///
    /// - Parameters:
    ///   - environment: daemons, pool settings and per-API overrides (`PoolEnvironment.load`).
    ///   - connect: makes the connection to a daemon (PoolServer's WebSocket transport, or a fake).
    ///   - observer: hears of node changes, retries, hedges and slow pushes (logs, metrics).
    ///   - clock: drives heartbeats, waits and timeouts (tests inject their own).
    ///   - pushReader: reads the signed message out of a push's result (MpoolPushMessage), so
    ///     failovers can re-push it; without one only MpoolPush'd messages are remembered.
    ///   - chainNotifyReader: without one, a head channel whose connection drops is closed.
    ///   - scheduler: hedge timers for calls started without a task and hedged attempts' tasks
    ///     (a server passes its event loops); by default, plain tasks sleeping on `clock`.
    public init(
        environment: PoolEnvironment, connect: @escaping @Sendable (NodeEndpoint) -> any NodeConnection,
        observer: any PoolObserver = SilentPoolObserver(), clock: any PoolClock = SystemPoolClock(),
        pushReader: (any PushResultReader)? = nil, chainNotifyReader: (any ChainNotifyReader)? = nil,
        scheduler: (any PoolScheduler)? = nil
    ) {
        var state = State(
            table: NodeTable(network: PoolNetwork(expectedName: environment.network), passThrough: !environment.usePool),
            settings: environment.settings)
        state.overrides = environment.apiOverrides
        self.cache = Mutex(ResultCache(capacity: Int(clamping: environment.settings.cacheBytes)))
        self.state = Mutex(state)
        self.observer = observer
        self.clock = clock
        self.connect = connect
        self.pushReader = pushReader
        self.chainNotifyReader = chainNotifyReader
        self.scheduler = scheduler ?? ClockScheduler(clock: clock)
        self.apiCounters = [
            .v0: RouteTable.entries(.v0).map { _ in Counter() }, .v1: RouteTable.entries(.v1).map { _ in Counter() },
        ]
        for endpoint in environment.nodes { self.addNode(endpoint) }
        self.state.withLock { $0.table.rebuild() }
    }

    // MARK: - Nodes

    /// Adds a daemon; it serves calls once a heartbeat finds it healthy. No check: the
    /// environment's daemons join this way (`admitNode` checks an operator's addition).
    @discardableResult
    public func addNode(_ endpoint: NodeEndpoint, sealing: Bool = false) -> Int {
        self.insert(endpoint, connection: self.connect(endpoint), sealing: sealing)
    }

    func insert(_ endpoint: NodeEndpoint, connection: any NodeConnection, sealing: Bool) -> Int {
        let index = self.state.withLock { state in
            let index = state.table.count
            state.table.append(
                NodeRecord(
                    index: index, endpoint: endpoint, id: nil, state: .disabled(.unreachable("not checked yet")), sealing: sealing,
                    health: nil, connection: connection, calls: Counter()))
            return index
        }
        // A closed socket or a failed dial is news at once, not at the next heartbeat.
        connection.watchLoss { [weak self] loss in self?.connectionLost(node: index, loss) }
        return index
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
        let (effects, note) = try self.state.withLock {
            state throws(PoolCommandError) -> (NodeChangeEffects, NodeNote?) in
            let index = try state.table.index(named: node)
            let before = state.table[index].state
            let wasServing = state.table.isServing(index)
            switch change {
            case .pause: state.table[index].state = .paused
            case .exit:
                state.table[index].state = .exited
                state.seeds.unbind(node: index)
            case .resume:
                // Back to the heartbeat's judgement: disabled until the next check passes.
                if before == .paused {
                    state.table[index].state = .disabled(.unreachable("resumed; awaiting heartbeat"))
                }
            case .sealing(let sealing): state.table[index].sealing = sealing
            }
            var note: NodeNote?
            if state.table[index].state != before {
                note = .changed(node: state.table[index].endpoint.name, from: before, to: state.table[index].state)
            }
            var effects = Self.nodesChanged(&state)
            // A node leaving the pool drops its sockets even if it was not serving.
            if case .exit = change, !wasServing { effects.stopped.append(state.table[index].connection) }
            return (effects, note)
        }
        note?.report(to: self.observer)
        effects.wakeWaiters()
        await self.carryOut(effects, reason: "node \(node) \(change)")
    }

    /// What a node change leaves to do outside the lock.
    struct NodeChangeEffects {
        /// Channels whose node can no longer serve them.
        var lostChannels: [PoolChannelRecord] = []
        /// Head channels whose daemon went silent while other heads moved.
        var silentChannels: [PoolChannelRecord] = []
        /// Head feeds of those daemons: stopped, and opened again at the next heartbeat.
        var silentFeeds: [HeadFeed] = []
        /// Connections of nodes that stopped serving and may not answer: dropped so nothing
        /// stays stuck on them (see `dropsSockets`).
        var stopped: [any NodeConnection] = []
        var notes: [NodeNote] = []
        /// The pool moved to another chain (its `PoolNetwork.moves`): cached answers came from
        /// daemons now refused.
        var chainMoved: Int?
        /// Calls waiting for a node change. Resumed once the lock is released (`wakeWaiters`):
        /// a waiter being cancelled holds its task's status lock while its cancellation handler
        /// waits for the pool's lock, and resuming it needs that status lock, so resuming it
        /// under the pool's lock can deadlock the pool.
        var woken: [CheckedContinuation<Void, Never>] = []

        /// Resumes the calls waiting for a node change; called outside the lock, once.
        func wakeWaiters() {
            self.woken.forEach { $0.resume() }
        }
    }

    /// Rebuilds the serving sets and returns what the change leaves to do outside the lock:
    /// calls to wake, channels to close, connections to drop, the degraded state's flip to report.
    static func nodesChanged(_ state: inout State) -> NodeChangeEffects {
        let servedBefore = Set(state.table.all.candidates.byIndex.map(\.index) + state.table.sealing.candidates.byIndex.map(\.index))
        state.table.rebuild()
        var effects = NodeChangeEffects()
        effects.woken = state.nodeChanges.signal()
        let table = state.table
        effects.lostChannels = state.channels.removeAll { channel in
            !table.isServing(channel.node) || table[channel.node].id != channel.session
        }
        for index in servedBefore
        where !state.table.isServing(index) && Self.dropsSockets(state.table[index].state) && !state.table[index].socketsKeptUntilJudged {
            effects.stopped.append(state.table[index].connection)
        }
        let degraded = state.table.all.degraded
        if degraded != state.wasDegraded {
            state.wasDegraded = degraded
            effects.notes.append(.degraded(degraded, detail: Self.degradedDetail(state.table)))
        }
        return effects
    }

    /// Whether a node that stopped serving in `state` has its sockets closed. One that may not
    /// answer (unreachable, silent, on another chain, or taken out by the operator) does: its
    /// calls in flight fail there and reads are retried elsewhere. One that only fails a health
    /// rule (behind, few peers; or a fallback of a degraded pool once a node is healthy again)
    /// still answers: a block submission or a push it has in flight finishes there, as on a
    /// direct connection, and new calls go elsewhere.
    static func dropsSockets(_ state: NodeState) -> Bool {
        guard case .disabled(let reason) = state else { return true }
        switch reason {
        case .syncBehind, .fewMessagePeers, .fewBlockPeers, .behindBestHead: return false
        case .unreachable, .noAnswer, .wrongNetwork: return true
        }
    }

    /// Why the pool is degraded, for the log line and `/healthz`.
    static func degradedDetail(_ table: NodeTable) -> String {
        guard table.all.degraded else { return "every serving node passes the health checks" }
        let reasons = table.all.bestFirst.map { candidate in
            let node = table[candidate.index]
            return "\(node.endpoint.name): \(node.state)"
        }
        return "no node passes the health checks; serving from the reachable nodes, best head first ("
            + reasons.joined(separator: "; ") + ")"
    }

    /// Closes lost channels, drops stopped connections and reports notes, outside the lock.
    func carryOut(_ effects: NodeChangeEffects, reason: String) async {
        if let chain = effects.chainMoved { self.cache.withLock { $0.removeAll(movingTo: chain) } }
        for note in effects.notes { note.report(to: self.observer) }
        await self.close(effects.lostChannels, reason: reason)
        await self.close(effects.silentChannels, reason: "no value from the daemon while other nodes' heads moved (ChannelSilence)")
        for feed in effects.silentFeeds { await feed.stop() }
        for connection in effects.stopped { await connection.reset() }
    }

    /// Counts a call sent to a node (answered or not).
    func countCall(node: Int) {
        _ = self.state.withLock { $0.table[node].calls }.next()
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

    /// A snapshot of the pool-wide settings; later `updateSettings` calls do not change the returned value.
    public var settings: PoolSettings { self.state.withLock { $0.settings } }

    /// Changes the pool-wide settings under the pool's lock: they apply to the next call and
    /// the next heartbeat, and a new heartbeat interval ends the current wait at once. A
    /// `change` that throws leaves every setting as it was.
    public func updateSettings<Failure: Error>(_ change: (inout PoolSettings) throws(Failure) -> Void) throws(Failure) {
        let waiters = try self.state.withLock { state throws(Failure) -> [CheckedContinuation<Void, Never>] in
            var settings = state.settings
            try change(&settings)
            let intervalChanged = settings.heartbeatInterval != state.settings.heartbeatInterval
            if settings.cacheBytes != state.settings.cacheBytes {
                self.cache.withLock { $0.resize(Int(clamping: settings.cacheBytes)) }
            }
            state.settings = settings
            return intervalChanged ? Self.wakeHeartbeat(&state) : []
        }
        // A new interval applies now, not after the sleep the old one started.
        waiters.forEach { $0.resume() }
    }

    /// The routing of one API in force: the operator's or embedder's override, or its route's.
    public func apiSettings(for method: RouteID) -> APIRouteOverride {
        let route = method.route
        return self.state.withLock { $0.overrides[route.name] } ?? APIRouteOverride(route: route)
    }

    /// Changes one API's routing under the pool's lock (two changes of two keys keep both);
    /// applies to the method's v0 and v1 forms alike.
    ///
    /// - Throws: `PoolCommandError` from `change`, or for a hedge on a method that is not a read
    ///   (a push or write is never sent twice), or a policy other than the route's on a push (it
    ///   goes to its sender's bound node, so a policy would silently not apply). Nothing changes then.
    public func updateOverride(
        for method: RouteID, _ change: (inout APIRouteOverride) throws(PoolCommandError) -> Void
    ) throws(PoolCommandError) {
        let route = method.route
        try self.state.withLock { state throws(PoolCommandError) in
            var override = state.overrides[route.name] ?? APIRouteOverride(route: route)
            try change(&override)
            if let hedge = override.hedge, hedge != .off, let refusal = Self.hedgeRefusal(route) { throw refusal }
            if let refusal = Self.policyRefusal(route, policy: override.policy) { throw refusal }
            if let refusal = Self.cacheRefusal(route, cache: override.cache) { throw refusal }
            state.overrides[route.name] = override
        }
    }

    /// Sets one API's routing from typed values (see `updateOverride`).
    public func setOverride(_ override: APIRouteOverride, for method: RouteID) throws(PoolCommandError) {
        try self.updateOverride(for: method) { $0 = override }
    }

    /// Why `route` cannot be cached as `cache` says, or nil when it can: only a plain read's
    /// answer may be served again, and `tipset` needs the TipSetKey that fixes the answer.
    public static func cacheRefusal(_ route: RouteEntry, cache: CacheClass) -> PoolCommandError? {
        guard cache != .none else { return nil }
        guard route.effect == .read, route.result == .plain else {
            return PoolCommandError(
                "\(route.name) is not a plain read (effect \(route.effect.rawValue), result \(route.result.rawValue)): its answers are never cached"
            )
        }
        guard cache != .tipset || route.params.contains(.tipSetKey) else {
            return PoolCommandError(
                "\(route.name) has no TipSetKey param (params \(route.params)): cache=tipset needs one to fix its answer")
        }
        return nil
    }

    /// Why `route` takes no hedge, or nil when it does.
    public static func hedgeRefusal(_ route: RouteEntry) -> PoolCommandError? {
        guard route.effect != .read else { return nil }
        return PoolCommandError(
            "\(route.name) is not a read (effect \(route.effect.rawValue)): only reads are hedged, a \(route.effect.rawValue) is never sent twice"
        )
    }

    /// Why `route` does not take `policy`, or nil when it does. A push goes to its sender's bound
    /// node whatever the policy, except that an already signed message (the same CID on every
    /// daemon) may be broadcast with AllWithFirstSucceed. A push a daemon signs, or picks the
    /// nonce of, may not: every daemon would sign a message of its own.
    public static func policyRefusal(_ route: RouteEntry, policy: PolicyChoice) -> PoolCommandError? {
        guard route.seed != nil, policy != route.policy else { return nil }
        if policy == .fixed(.allWithFirstSucceed) {
            if route.carriesSignedMessages { return nil }
            return PoolCommandError(
                "\(route.name) cannot take AllWithFirstSucceed: each daemon would pick a nonce and sign a message of its own, "
                    + "so one call could spend twice; only already signed pushes (MpoolPush, MpoolBatchPush) are broadcast")
        }
        return PoolCommandError(
            "\(route.name) pushes messages: it goes to its sender's bound node, not by policy"
                + (route.carriesSignedMessages ? " (AllWithFirstSucceed broadcasts it to every daemon)" : ""))
    }
}

/// An operator command that names something that does not exist, or a bad value.
public struct PoolCommandError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The whole message for the operator, naming what was not found and, where there is one, the nearest valid name.
    public let description: String

    /// An error whose message is `description`.
    public init(_ description: String) {
        self.description = description
    }
}
