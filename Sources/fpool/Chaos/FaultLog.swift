// What the fault injector did and when, shared with the workers while the run goes on: which
// daemons answered at each moment, and how soon each faulted daemon's channels closed.

import Synchronization

/// One fault as it happened.
struct FaultRecord: Sendable {
    let planned: PlannedFault
    var injectedAt: ContinuousClock.Instant?
    var undoneAt: ContinuousClock.Instant?
    /// The pool channels (ids) the daemon served just before the fault.
    var channelsAtInjection: Set<Int> = []
    /// When the last of those channels closed.
    var channelsClosedAt: ContinuousClock.Instant?
    /// The simulator refused the fault or its undoing (a port that could not be bound again).
    var failure: String?
}

/// Concurrency: every method may be called from any task.
final class FaultLog: Sendable {
    private struct State {
        var records: [FaultRecord] = []
        /// Daemons that answer no call now (killed, black-holed, on another network).
        var silent: Set<Int> = []
        /// Since when no daemon has answered, while that lasts.
        var allSilentSince: ContinuousClock.Instant?
        var allSilent: [Range<ContinuousClock.Instant>] = []
    }

    private let state = Mutex(State())
    private let nodes: Int

    init(nodes: Int) {
        self.nodes = nodes
    }

    /// Adds a fault about to be injected; returns its index.
    func begin(_ planned: PlannedFault, channels: Set<Int>, at now: ContinuousClock.Instant) -> Int {
        self.state.withLock { state in
            state.records.append(FaultRecord(planned: planned, injectedAt: now, channelsAtInjection: channels))
            if let daemon = planned.daemon, Self.silences(planned.kind) {
                Self.setSilent(&state, daemon, true, nodes: self.nodes, now: now)
            }
            return state.records.count - 1
        }
    }

    func end(_ index: Int, at now: ContinuousClock.Instant) {
        self.state.withLock { state in
            state.records[index].undoneAt = now
            if let daemon = state.records[index].planned.daemon, Self.silences(state.records[index].planned.kind) {
                Self.setSilent(&state, daemon, false, nodes: self.nodes, now: now)
            }
        }
    }

    func failed(_ index: Int, _ detail: String) {
        self.state.withLock { state in
            if state.records[index].failure == nil { state.records[index].failure = detail }
        }
    }

    /// Faults still waiting for their daemon's channels to close: (record, channel ids).
    var awaitingChannelClose: [(index: Int, channels: Set<Int>)] {
        self.state.withLock { state in
            state.records.indices.compactMap { index in
                let record = state.records[index]
                guard record.planned.kind.channelLoss != nil, !record.channelsAtInjection.isEmpty, record.channelsClosedAt == nil,
                    record.undoneAt == nil
                else { return nil }
                return (index, record.channelsAtInjection)
            }
        }
    }

    func channelsClosed(_ index: Int, at now: ContinuousClock.Instant) {
        self.state.withLock { $0.records[index].channelsClosedAt = now }
    }

    var records: [FaultRecord] { self.state.withLock { $0.records } }

    /// Whether at some moment of `interval` no daemon answered at all.
    func noDaemonAnswered(during interval: ClosedRange<ContinuousClock.Instant>) -> Bool {
        self.state.withLock { state in
            if let since = state.allSilentSince, since <= interval.upperBound { return true }
            return state.allSilent.contains { $0.lowerBound <= interval.upperBound && $0.upperBound >= interval.lowerBound }
        }
    }

    /// Total time no daemon answered.
    var allSilentTime: Duration {
        self.state.withLock { state in state.allSilent.reduce(.zero) { $0 + ($1.upperBound - $1.lowerBound) } }
    }

    /// Kinds after which a daemon answers nothing on the pool's chain.
    private static func silences(_ kind: ChaosFaultKind) -> Bool {
        kind == .kill || kind == .blackHole || kind == .otherNetwork
    }

    private static func setSilent(_ state: inout State, _ daemon: Int, _ silent: Bool, nodes: Int, now: ContinuousClock.Instant) {
        if silent { state.silent.insert(daemon) } else { state.silent.remove(daemon) }
        if state.silent.count == nodes {
            if state.allSilentSince == nil { state.allSilentSince = now }
        } else if let since = state.allSilentSince {
            state.allSilent.append(since..<now)
            state.allSilentSince = nil
        }
    }
}
