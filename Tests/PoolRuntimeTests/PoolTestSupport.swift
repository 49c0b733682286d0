// Fakes for the pool's tests: daemons whose answers the test scripts, and a clock it drives.

import FPoolTestSupport
import GeneratedRoutes
import PoolRuntime
import RouteModel
import Synchronization

/// A daemon the test controls: its heartbeat answer, and how it answers calls.
final class FakeNode: NodeConnection {
    struct State {
        var probe: Result<NodeProbe, NodeCallFailure>
        var reply: @Sendable (PoolCall) async -> NodeReply = { _ in .result(Array("\"ok\"".utf8)) }
        var calls: [String] = []
        var channels: [FakeChannel] = []
        var ids: [String: String] = [:]
        /// MpoolGetNonce answers by sender.
        var nonces: [String: UInt64] = [:]
        /// Signed messages pushed by the pool's failover (their JSON as text), in order.
        var repushed: [String] = []
        var repushReply: NodeReply?
        /// Message CIDs this daemon has seen.
        var known: Set<String> = []
        var probes = 0
        var probeWaiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
        var resets = 0
        var stuck: [CheckedContinuation<Void, Never>] = []
        var stuckWatchers: [CheckedContinuation<Void, Never>] = []
        /// Whether calls may start without a task (`start(_:completion:)`), as a server's open socket can.
        var startsImmediately = false
        /// Completions of calls started that way, not answered yet, oldest first, by call number.
        var immediate: [(number: Int, completion: @Sendable (NodeReply) -> Void)] = []
        var nextImmediate = 0
        var abandoned = 0
        /// The chain this daemon follows (`identify`), and how often the pool asked.
        var identity: Result<NetworkIdentity, NodeCallFailure> = .success(FakeNode.testnet)
        var identifications = 0
        var lossHandler: (@Sendable (ConnectionLoss) -> Void)?
        /// MpoolGetNonce gets no answer (until the caller gives up).
        var noncesHang = false
        /// Decides each channel open: a failure, or nil to open it.
        var openFailure: (@Sendable () -> NodeCallFailure?)?
        var probeHangs = false
        /// Probes wait here while held (a heartbeat still in flight when something happens).
        var probesHeld = false
        var heldProbes: [@Sendable () -> Void] = []
    }

    static let testnet = NetworkIdentity(genesis: "bafy-genesis-testnet", name: "testnet")

    let name: String
    let state: Mutex<State>

    init(name: String, head: Int64 = 100) {
        self.name = name
        self.state = Mutex(
            State(
                probe: .success(
                    NodeProbe(session: "session-\(name)", health: NodeHealth(head: head, behind: 0, messagePeers: 5, blockPeers: 5)))))
    }

    func call(_ call: PoolCall) async -> NodeReply {
        let reply = self.state.withLock { state in
            state.calls.append(call.method)
            return state.reply
        }
        return await reply(call)
    }

    func start(_ call: PoolCall, completion: @escaping @Sendable (NodeReply) -> Void) -> (@Sendable () -> Void)? {
        let number = self.state.withLock { state -> Int? in
            guard state.startsImmediately else { return nil }
            state.calls.append(call.method)
            state.nextImmediate += 1
            state.immediate.append((state.nextImmediate, completion))
            return state.nextImmediate
        }
        guard let number else { return nil }
        // Given up: its answer slot resolves with the cancellation (once), as LotusWSClient's does.
        return {
            let completion = self.state.withLock { state -> (@Sendable (NodeReply) -> Void)? in
                guard let position = state.immediate.firstIndex(where: { $0.number == number }) else { return nil }
                state.abandoned += 1
                return state.immediate.remove(at: position).completion
            }
            completion?(.unreachable(.maybeSent, detail: "CancellationError()"))
        }
    }

    /// Answers the oldest call started without a task; false when none waits.
    @discardableResult
    func answerImmediate(_ reply: NodeReply) -> Bool {
        let completion = self.state.withLock { state in state.immediate.isEmpty ? nil : state.immediate.removeFirst().completion }
        completion?(reply)
        return completion != nil
    }

    func openChannel(_ call: PoolCall, events: @escaping @Sendable (ChannelEvent) -> Void) async -> Result<any NodeChannel, NodeCallFailure>
    {
        if let failure = self.state.withLock({ $0.openFailure })?() { return .failure(failure) }
        let channel = FakeChannel(events: events)
        self.state.withLock { $0.channels.append(channel) }
        return .success(channel)
    }

    func probe() async -> Result<NodeProbe, NodeCallFailure> {
        // A daemon that takes the call and never answers: the probe ends only when cancelled.
        if self.state.withLock({ $0.probeHangs }) {
            try? await Task.sleep(for: .seconds(3600))
            return .failure(NodeCallFailure(.unreachable(.maybeSent, detail: "cancelled")))
        }
        // Counted and held under one lock: a test that saw the count can release this probe.
        return await withCheckedContinuation { continuation in
            let (ready, answer) = self.state.withLock { state in
                state.probes += 1
                let answer: @Sendable () -> Void = { [probe = state.probe] in continuation.resume(returning: probe) }
                let ready = state.probeWaiters.filter { $0.count <= state.probes }.map(\.continuation)
                state.probeWaiters.removeAll { $0.count <= state.probes }
                guard state.probesHeld else { return (ready, Optional(answer)) }
                state.heldProbes.append(answer)
                return (ready, nil)
            }
            ready.forEach { $0.resume() }
            answer?()
        }
    }

    /// Probes answer only after `releaseProbes()`.
    func holdProbes() { self.state.withLock { $0.probesHeld = true } }

    func releaseProbes() {
        let held = self.state.withLock { state in
            state.probesHeld = false
            defer { state.heldProbes = [] }
            return state.heldProbes
        }
        held.forEach { $0() }
    }
    /// The latest probe held answers; the others stay held.
    func releaseNewestProbe() {
        self.state.withLock { $0.heldProbes.popLast() }?()
    }
    var probes: Int { self.state.withLock { $0.probes } }

    /// Returns once this node has been probed `count` times in all.
    func waitForProbes(_ count: Int) async {
        await untilCancelled {
            await withCheckedContinuation { continuation in
                let reached = self.state.withLock { state -> Bool in
                    if state.probes >= count { return true }
                    state.probeWaiters.append((count, continuation))
                    return false
                }
                if reached { continuation.resume() }
            }
        }
    }

    func mpoolNonce(_ address: String) async -> Result<UInt64, NodeCallFailure> {
        if self.state.withLock({ $0.noncesHang }) {
            // A daemon gone silent: no answer until the socket's keepalive, an hour here.
            try? await Task.sleep(for: .seconds(3600))
            return .failure(NodeCallFailure(.unreachable(.maybeSent, detail: "silent")))
        }
        return .success(self.state.withLock { $0.nonces[address] ?? 0 })
    }

    /// Re-pushes of the test's messages (`{"nonce":N}`) bump the sender "f01001"'s nonce.
    func push(signedMessage: [UInt8]) async -> NodeReply {
        self.state.withLock { state in
            let text = String(decoding: signedMessage, as: UTF8.self)
            state.repushed.append(text)
            if let reply = state.repushReply { return reply }
            state.nonces["f01001", default: 0] += 1
            return .result(Array("{}".utf8))
        }
    }

    func identify() async -> Result<NetworkIdentity, NodeCallFailure> {
        self.state.withLock { state in
            state.identifications += 1
            return state.identity
        }
    }

    func watchLoss(_ handler: @escaping @Sendable (ConnectionLoss) -> Void) {
        self.state.withLock { $0.lossHandler = handler }
    }

    /// The daemon's socket closes by itself (as when the process dies): the pool is told.
    func loseConnection(_ detail: String = "connection closed") {
        self.state.withLock { $0.lossHandler }?(ConnectionLoss(detail))
    }

    /// Probes get no answer (the daemon is silent), until told otherwise.
    func hangProbes(_ hang: Bool = true) { self.state.withLock { $0.probeHangs = hang } }

    /// Makes this daemon follow another chain.
    func network(_ identity: NetworkIdentity) { self.state.withLock { $0.identity = .success(identity) } }
    var identifications: Int { self.state.withLock { $0.identifications } }

    func knowsMessage(cid: String) async -> Result<Bool, NodeCallFailure> {
        .success(self.state.withLock { $0.known.contains(cid) })
    }

    func reset() async {
        let waiting = self.state.withLock { state in
            state.resets += 1
            defer { state.stuck = [] }
            return state.stuck
        }
        for call in waiting { call.resume() }
    }

    /// Answers calls only when the pool resets the connection (a half-open daemon).
    func hangUntilReset() {
        self.answer { _ in
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
                    state.stuck.append(continuation)
                    defer { state.stuckWatchers = [] }
                    return state.stuckWatchers
                }
                ready.forEach { $0.resume() }
            }
            return .unreachable(.maybeSent, detail: "connection reset")
        }
    }

    /// Returns once a call is stuck on this node.
    func waitForStuckCall() async {
        await untilCancelled {
            await withCheckedContinuation { continuation in
                let now = self.state.withLock { state -> Bool in
                    if !state.stuck.isEmpty { return true }
                    state.stuckWatchers.append(continuation)
                    return false
                }
                if now { continuation.resume() }
            }
        }
    }

    func lookupID(_ address: String) async -> Result<String, NodeCallFailure> {
        self.state.withLock { $0.ids[address] }.map { .success($0) }
            ?? .failure(NodeCallFailure(.error(code: 11, message: "actor not found")))
    }

    // Scripting.
    func answer(_ reply: @escaping @Sendable (PoolCall) async -> NodeReply) { self.state.withLock { $0.reply = reply } }
    func answerAlways(_ reply: NodeReply) { self.answer { _ in reply } }
    /// Holds its call until the test yields `release`, then answers `reply`; `arrived` yields
    /// as the call arrives. For one call at a time (a stream has one reader).
    func answerWhenReleased(_ reply: NodeReply) -> (arrived: AsyncStream<Void>, release: AsyncStream<Void>.Continuation) {
        let (arrived, arrival) = AsyncStream.makeStream(of: Void.self)
        let (released, release) = AsyncStream.makeStream(of: Void.self)
        self.answer { _ in
            arrival.yield()
            for await _ in released { break }
            return reply
        }
        return (arrived, release)
    }
    func health(head: Int64 = 100, behind: UInt64 = 0, messagePeers: UInt64 = 5, blockPeers: UInt64 = 5, session: String? = nil) {
        self.state.withLock { state in
            let current = (try? state.probe.get())?.session ?? "session-\(self.name)"
            state.probe = .success(
                NodeProbe(
                    session: session ?? current,
                    health: NodeHealth(head: head, behind: behind, messagePeers: messagePeers, blockPeers: blockPeers)))
        }
    }
    func unreachable() {
        self.state.withLock { $0.probe = .failure(NodeCallFailure(.unreachable(.notSent, detail: "connection refused"))) }
    }
    var calls: [String] { self.state.withLock { $0.calls } }
    var channels: [FakeChannel] { self.state.withLock { $0.channels } }
    var abandoned: Int { self.state.withLock { $0.abandoned } }
    func startImmediately(_ enabled: Bool = true) { self.state.withLock { $0.startsImmediately = enabled } }
}

final class FakeChannel: NodeChannel {
    let events: @Sendable (ChannelEvent) -> Void
    private let cancelled = Mutex(false)

    init(events: @escaping @Sendable (ChannelEvent) -> Void) {
        self.events = events
    }

    func cancel() async { self.cancelled.withLock { $0 = true } }
    var isCancelled: Bool { self.cancelled.withLock { $0 } }
}

/// Records what the pool reports.
final class RecordingObserver: PoolObserver {
    let events = Mutex<[String]>([])

    func nodeStateChanged(node: String, from: NodeState, to: NodeState) { self.record("\(node): \(from) -> \(to)") }
    func nodeRestarted(node: String, oldSession: String, newSession: String) { self.record("\(node): restarted") }
    func callRetried(method: String, node: String, reason: String) { self.record("retry \(method) after \(node): \(reason)") }
    func callFinished(method: String, node: String?, succeeded: Bool) {}
    func callUnanswered(method: String, node: String, detail: String) { self.record("no answer \(method) from \(node): \(detail)") }
    func unlistedMethod(_ name: String) { self.record("unlisted \(name)") }
    func channelsClosed(node: String, count: Int, reason: String) { self.record("\(node): closed \(count) channels") }
    func senderMoved(sender: String, to node: String, repushed: Int) { self.record("\(sender) moved to \(node), \(repushed) re-pushed") }
    func slowPush(method: String, took: Duration, steps: String) { self.record("slow \(method): \(steps)") }
    func channelsCarriedOver(node: String, count: Int, changes: Int) { self.record("\(node): carried \(count) channels over") }
    func poolDegraded(_ degraded: Bool, detail: String) { self.record(degraded ? "degraded: \(detail)" : "recovered") }
    func hedgeSent(method: String, node: String, delay: Duration) { self.record("hedge \(method) after \(node)") }
    func hedgeWon(method: String, node: String) { self.record("hedge won \(method) on \(node)") }
    func requestQuarantined(method: String, node: String, period: Duration) { self.record("quarantined \(method) after \(node)") }
    func quarantinedRequestRefused(method: String) { self.record("refused quarantined \(method)") }
    func broadcastAnswered(method: String, node: String, answer: String) { self.record("broadcast \(method) to \(node): \(answer)") }
    func poolNetworkChanged(from: String, to: String, holders: Int, nodes: Int) {
        self.record("network moved from \(from) to \(to), \(holders) of \(nodes)")
    }

    private let waiters = Mutex<[(needle: String, continuation: CheckedContinuation<Void, Never>)]>([])

    private func record(_ event: String) {
        self.events.withLock { $0.append(event) }
        let ready = self.waiters.withLock { waiters in
            defer { waiters.removeAll { event.contains($0.needle) } }
            return waiters.filter { event.contains($0.needle) }
        }
        ready.forEach { $0.continuation.resume() }
    }
    var all: [String] { self.events.withLock { $0 } }

    /// Returns once an event containing `needle` was recorded, or when the test is cancelled (its time limit).
    func waitForEvent(containing needle: String) async {
        await untilCancelled {
            await withCheckedContinuation { continuation in
                let seen = self.waiters.withLock { waiters -> Bool in
                    if self.all.contains(where: { $0.contains(needle) }) { return true }
                    waiters.append((needle, continuation))
                    return false
                }
                if seen { continuation.resume() }
            }
        }
    }
}

/// A clock that moves only when the test says so.
final class ManualClock: PoolClock {
    private struct State {
        var now: Duration = .zero
        var sleepers: [(deadline: Duration, length: Duration, continuation: CheckedContinuation<Void, any Error>, id: Int)] = []
        var nextID = 0
        var sleeperWaiters: [(count: Int, length: Duration?, continuation: CheckedContinuation<Void, Never>, id: Int)] = []

        func sleeping(_ length: Duration?) -> Int {
            self.sleepers.filter { length == nil || $0.length == length }.count
        }
    }

    private let state = Mutex(State())

    var now: Duration { self.state.withLock { $0.now } }

    func sleep(for duration: Duration) async throws {
        let id = self.state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let ready = self.state.withLock { state -> [CheckedContinuation<Void, Never>]? in
                    // Cancelled before it slept: the cancellation handler already ran.
                    if Task.isCancelled { return nil }
                    state.sleepers.append((state.now + duration, duration, continuation, id))
                    let snapshot = state
                    let ready = state.sleeperWaiters.filter { $0.count <= snapshot.sleeping($0.length) }.map(\.continuation)
                    state.sleeperWaiters.removeAll { $0.count <= snapshot.sleeping($0.length) }
                    return ready
                }
                guard let ready else {
                    continuation.resume(throwing: CancellationError())
                    return
                }
                ready.forEach { $0.resume() }
            }
        } onCancel: {
            let sleeper = self.state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let position = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: position).continuation
            }
            sleeper?.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward and wakes every sleeper now due.
    func advance(by duration: Duration) {
        let due = self.state.withLock { state in
            state.now += duration
            let due = state.sleepers.filter { $0.deadline <= state.now }
            state.sleepers.removeAll { $0.deadline <= state.now }
            return due.map(\.continuation)
        }
        due.forEach { $0.resume() }
    }

    /// Returns once at least `count` tasks are sleeping on this clock (for `length`, if given),
    /// or when the waiting task is cancelled: a test past its time limit then fails there instead
    /// of hanging the run.
    func waitForSleepers(_ count: Int, lasting length: Duration? = nil) async {
        let id = self.state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready = self.state.withLock { state -> Bool in
                    if Task.isCancelled || state.sleeping(length) >= count { return true }
                    state.sleeperWaiters.append((count, length, continuation, id))
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard let position = state.sleeperWaiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleeperWaiters.remove(at: position).continuation
            }
            waiter?.resume()
        }
    }
}

let testToken = "eyJhbGciOiJIUzI1NiJ9.eyJBbGxvdyI6WyJyZWFkIl19.c2ln"

/// A pool over fake nodes, checked once so they serve. Hedging is off unless a test sets it, so
/// that no hedge timer sleeps on the test's clock. `extra` are daemons `admitNode` may reach by name.
func makePool(
    _ nodes: [FakeNode], settings: (inout PoolSettings) -> Void = { _ in }, observer: RecordingObserver = RecordingObserver(),
    clock: ManualClock = ManualClock(), network: String? = nil, usePool: Bool = true, extra: [String: FakeNode] = [:],
    scheduler: (any PoolScheduler)? = nil
) async -> Pool {
    var environment = PoolEnvironment()
    environment.network = network
    environment.usePool = usePool
    environment.settings.hedgeDelay = .off
    settings(&environment.settings)
    environment.nodes = nodes.enumerated().map { index, node in
        NodeEndpoint(token: testToken, address: try! Multiaddr(parsing: "/ip4/10.0.0.\(index + 1)/tcp/1234/http"), name: node.name)
    }
    let byName = Dictionary(uniqueKeysWithValues: nodes.map { ($0.name, $0) }).merging(extra) { first, _ in first }
    let pool = Pool(environment: environment, connect: { byName[$0.name]! }, observer: observer, clock: clock, scheduler: scheduler)
    await pool.heartbeat()
    return pool
}

/// A call of a v1 method with facts.
func call(_ method: V1Method, sender: String? = nil, height: Int64? = nil) -> PoolCall {
    PoolCall(
        id: .v1(method), method: "Filecoin." + method.route.name, version: .v1, params: Array("[]".utf8),
        facts: CallFacts(sender: sender, height: height))
}

/// The sender's nodes in its binding order (rendezvous ranking over the serving nodes), so that
/// tests name "its primary" and "its next node" without depending on hash values.
func ranking(of sender: String, in pool: Pool) -> [Int] {
    pool.decide(.v1(.mpoolPush), facts: CallFacts(sender: sender))?.map(\.index) ?? []
}

/// An ID address whose pushes are bound to `node` first.
func sender(boundTo node: Int, in pool: Pool) -> String {
    (1000..<100_000).lazy.map { "f0\($0)" }.first { ranking(of: $0, in: pool).first == node }!
}

/// A flag set once from any thread (a channel's close, seen by the test).
final class ClosedFlag: Sendable {
    private let value = Mutex(false)
    func set() { self.value.withLock { $0 = true } }
    var isSet: Bool { self.value.withLock { $0 } }
}

/// A pool over `nodes` (PrimarySeed 0) with a block submission in flight on node 0, held there
/// until `release` is yielded: for what a node change does to a write a node carries.
func submissionHeldOnNodeZero(_ nodes: [FakeNode]) async -> (
    pool: Pool, reply: Task<PoolReply, Never>, release: AsyncStream<Void>.Continuation
) {
    let (entered, release) = nodes[0].answerWhenReleased(.result(Array("null".utf8)))
    let pool = await makePool(nodes)
    let submit = PoolCall(
        id: .v1(.syncSubmitBlock), method: "Filecoin.SyncSubmitBlock", version: .v1, params: Array(#"[{"Header":{}}]"#.utf8))
    let reply = Task { await pool.call(submit) }
    var arrivals = entered.makeAsyncIterator()
    await arrivals.next()
    return (pool, reply, release)
}
