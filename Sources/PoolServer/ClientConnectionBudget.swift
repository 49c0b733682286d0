// The cap on open client connections: below it a connection is served; at it, the connection
// idle the longest (an HTTP connection between requests, or one that never sent any) is closed
// to make room, as nginx reuses idle keep-alive connections; with none idle, a small reserve
// serves only an operator's /healthz, /metrics and admin calls, and beyond that a new
// connection is closed at once. Descriptors stay free for daemon connections and heartbeats
// however many connections a flood opens.

import NIOCore
import Synchronization

final class ClientConnectionBudget: Sendable {
    enum Admission: Equatable {
        case served
        /// Over the cap, within the reserve: monitoring and admin only.
        case reserve
        case refused
    }

    private struct State {
        var open = 0
        /// Connections waiting for a request, with the turn at which they began to wait.
        var idle: [ObjectIdentifier: (channel: any Channel, turn: UInt64)] = [:]
        /// Turns in the order connections began to wait, the longest-idle first. An entry whose
        /// turn is no longer its connection's is stale and dropped when met: finding the
        /// longest-idle costs no scan of every connection, even during a flood.
        var order = CircularBuffer<(key: ObjectIdentifier, turn: UInt64)>()
        var nextTurn: UInt64 = 0

        mutating func takeLongestIdle() -> (any Channel)? {
            while let oldest = self.order.popFirst() {
                guard let entry = self.idle[oldest.key], entry.turn == oldest.turn else { continue }
                self.idle[oldest.key] = nil
                return entry.channel
            }
            return nil
        }

        mutating func setIdle(_ channel: any Channel, _ waiting: Bool) {
            let key = ObjectIdentifier(channel)
            guard waiting else {
                self.idle[key] = nil
                return
            }
            self.nextTurn += 1
            self.idle[key] = (channel, self.nextTurn)
            self.order.append((key, self.nextTurn))
            // Stale turns are dropped in bulk once they outnumber the live ones.
            if self.order.count > 2 * self.idle.count + 64 {
                self.order = CircularBuffer(self.order.filter { self.idle[$0.key]?.turn == $0.turn })
            }
        }
    }

    let cap: Int
    let reserve: Int
    private let state = Mutex(State())

    init(cap: Int, reserve: Int) {
        self.cap = max(1, cap)
        self.reserve = max(0, reserve)
    }

    /// Counts a new connection in, unless refused; every admitted one must be `release`d. At
    /// the cap the longest-idle connection is closed for it (`evicted`).
    func admit() -> (admission: Admission, evicted: (any Channel)?) {
        self.state.withLock { state in
            state.open += 1
            if state.open <= self.cap { return (.served, nil) }
            if let longestIdle = state.takeLongestIdle() {
                // Counted out when it closes; until then one over the cap, for a moment.
                return (.served, longestIdle)
            }
            if state.open <= self.cap + self.reserve { return (.reserve, nil) }
            state.open -= 1
            return (.refused, nil)
        }
    }

    func release(_ channel: any Channel) {
        self.state.withLock { state in
            state.open -= 1
            state.idle[ObjectIdentifier(channel)] = nil
        }
    }

    /// `channel` waits for a request from now (`waiting`), or no longer (it receives or
    /// answers one, or became a websocket).
    func setIdle(_ channel: any Channel, waiting: Bool) {
        self.state.withLock { $0.setIdle(channel, waiting) }
    }

    var count: Int { self.state.withLock { $0.open } }

    /// Turns kept in the idle order, stale ones included (tests: it stays bounded).
    var waitingTurns: Int { self.state.withLock { $0.order.count } }
}
