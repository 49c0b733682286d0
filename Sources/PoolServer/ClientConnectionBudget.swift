// The cap on open client connections: below it a connection is served; a small reserve above
// it serves only an operator's /healthz, /metrics and admin calls; beyond that a new connection
// is closed at once. Descriptors stay free for daemon connections and heartbeats however many
// connections a flood opens.

import Synchronization

final class ClientConnectionBudget: Sendable {
    enum Admission: Equatable {
        case served
        /// Over the cap, within the reserve: monitoring and admin only.
        case reserve
        case refused
    }

    let cap: Int
    let reserve: Int
    private let open = Atomic<Int>(0)

    init(cap: Int, reserve: Int) {
        self.cap = max(1, cap)
        self.reserve = max(0, reserve)
    }

    /// Counts a new connection in, unless refused; every admitted one must be `release`d.
    func admit() -> Admission {
        let count = self.open.add(1, ordering: .relaxed).newValue
        if count <= self.cap { return .served }
        if count <= self.cap + self.reserve { return .reserve }
        self.open.subtract(1, ordering: .relaxed)
        return .refused
    }

    func release() {
        self.open.subtract(1, ordering: .relaxed)
    }

    var count: Int { self.open.load(ordering: .relaxed) }
}
