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
        /// Connections waiting for a request, with when they began to wait.
        var idle: [ObjectIdentifier: (channel: any Channel, since: NIODeadline)] = [:]
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
            if let oldest = state.idle.min(by: { $0.value.since < $1.value.since }) {
                // Counted out when it closes; until then one over the cap, for a moment.
                state.idle[oldest.key] = nil
                return (.served, oldest.value.channel)
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

    /// `channel` waits for a request since `since` (nil: it is busy: receiving, answering, or
    /// a websocket).
    func setIdle(_ channel: any Channel, since: NIODeadline?) {
        self.state.withLock { state in
            state.idle[ObjectIdentifier(channel)] = since.map { (channel, $0) }
        }
    }

    var count: Int { self.state.withLock { $0.open } }
}
