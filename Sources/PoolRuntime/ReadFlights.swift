// Coalesced reads: identical read calls (same API version, method and param bytes) in flight at
// the same time share one upstream call, and each caller gets the answer for its own id. A
// head-relative read (ChainHead) may share too: concurrent callers could have got the same
// answer anyway. A caller that leaves gets "context canceled" alone; the upstream call is given
// up only when every caller has left.

import GeneratedRoutes
import Synchronization

/// The reads in flight, by what they ask. Concurrency: one lock; completions run outside it.
final class ReadFlights: Sendable {
    private struct State {
        var flights: [CallKey: ReadFlight] = [:]
        /// Callers that joined a flight instead of asking a daemon, by route.
        var joined: [RouteID: UInt64] = [:]
    }

    private let state = Mutex(State())

    enum Joining {
        /// Another caller's flight: the answer comes through the completion; the seat leaves it.
        case joined(ReadFlight.Seat)
        /// No flight asked this: the caller leads the new one and starts the upstream call.
        case leads(ReadFlight, leave: ReadFlight.Seat)
    }

    /// Joins the flight asking `key`, or starts one led by this caller.
    func join(_ key: CallKey, _ completion: @escaping @Sendable (PoolReply) -> Void) -> Joining {
        self.state.withLock { state in
            if let flight = state.flights[key], let leave = flight.subscribe(completion) {
                state.joined[key.route, default: 0] += 1
                return .joined(leave)
            }
            let flight = ReadFlight(key: key, flights: self, leader: completion)
            state.flights[key] = flight
            return .leads(flight, leave: ReadFlight.Seat(flight: flight, id: ReadFlight.leaderID))
        }
    }

    /// A flight finished: later callers start a flight of their own.
    fileprivate func ended(_ flight: ReadFlight, key: CallKey) {
        self.state.withLock { state in
            if state.flights[key] === flight { state.flights[key] = nil }
        }
    }

    /// Callers that shared another's upstream call, by route name (v0 and v1 added up).
    var joinedByMethod: [String: UInt64] {
        self.state.withLock { state in
            state.joined.reduce(into: [:]) { counts, entry in counts[entry.key.route.name, default: 0] += entry.value }
        }
    }
}

extension Pool {
    /// Reads answered by sharing another caller's upstream call, by method name (`fpool_coalesced_total`).
    public var coalescedReads: [String: UInt64] { self.flights.joinedByMethod }
}

/// One upstream read and the callers waiting for it.
final class ReadFlight: Sendable {
    typealias Completion = @Sendable (PoolReply) -> Void

    private struct State {
        /// The callers waiting, by id; nearly every flight has one, so it is kept apart and
        /// a flight costs no collection of its own. The others by id: thousands of callers
        /// leaving one by one (a client's calls cancelled, its connections closed) each find
        /// their seat at once, not by a scan that made their leaving quadratic.
        var first: (id: Int, completion: Completion)?
        var others: [Int: Completion] = [:]
        var nextID = 0
        var finished = false
        /// Gives the upstream call up; set once it started.
        var abandon: (any PoolCancellable)?
        var abandoned = false

        var isEmpty: Bool { self.first == nil && self.others.isEmpty }

        mutating func remove(_ id: Int) -> Completion? {
            if let first = self.first, first.id == id {
                self.first = nil
                return first.completion
            }
            return self.others.removeValue(forKey: id)
        }
    }

    private let state: Mutex<State>
    private let key: CallKey
    /// Held until the flight ends (it then leaves the table, which held it): no weak reference
    /// to count on every call.
    private let flights: ReadFlights

    /// The seat of the caller that started the flight.
    static let leaderID = 0

    fileprivate init(key: CallKey, flights: ReadFlights, leader: @escaping Completion) {
        self.key = key
        self.flights = flights
        self.state = Mutex(State(first: (Self.leaderID, leader), nextID: Self.leaderID + 1))
    }

    /// One caller's place in a flight: cancelling it leaves the flight.
    struct Seat: PoolCancellable {
        let flight: ReadFlight
        let id: Int

        func cancel() { self.flight.leave(self.id) }
    }

    /// Adds a caller; nil once the flight has finished (the caller starts another).
    func subscribe(_ completion: @escaping Completion) -> Seat? {
        let id = self.state.withLock { state -> Int? in
            guard !state.finished else { return nil }
            defer { state.nextID += 1 }
            if state.isEmpty {
                state.first = (state.nextID, completion)
            } else {
                state.others[state.nextID] = completion
            }
            return state.nextID
        }
        guard let id else { return nil }
        return Seat(flight: self, id: id)
    }

    /// The upstream call's handle; called at once if every caller already left.
    func started(abandon: any PoolCancellable) {
        let now = self.state.withLock { state -> Bool in
            state.abandon = abandon
            return state.abandoned
        }
        if now { abandon.cancel() }
    }

    /// The upstream answer: every caller still waiting gets it.
    func finish(_ reply: PoolReply) {
        let (first, others) = self.state.withLock { state -> (Completion?, [Int: Completion]) in
            guard !state.finished else { return (nil, [:]) }
            state.finished = true
            defer {
                state.first = nil
                state.others = [:]
            }
            return (state.first?.completion, state.others)
        }
        self.flights.ended(self, key: self.key)
        first?(reply)
        for other in others.values { other(reply) }
    }

    /// A caller gave up: it alone is answered "context canceled". The last one to leave gives
    /// the upstream call up and closes the flight, so a new caller never joins a call given up.
    private func leave(_ id: Int) {
        let (completion, abandon, closed) = self.state.withLock { state -> (Completion?, (any PoolCancellable)?, Bool) in
            guard let completion = state.remove(id) else { return (nil, nil, false) }
            guard state.isEmpty, !state.finished else { return (completion, nil, false) }
            state.abandoned = true
            state.finished = true
            return (completion, state.abandon, true)
        }
        if closed { self.flights.ended(self, key: self.key) }
        completion?(.failed("context canceled"))
        abandon?.cancel()
    }
}
