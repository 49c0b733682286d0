// What a request read and not yet answered holds of the shared request budget: its bytes (its
// params are kept for a retry on another node) and the state of its call. Unfinished requests
// were bounded; one finished and waiting on a slow daemon was not, so a client could keep
// thousands of large requests alive at once.

/// The charge of one request held until its answer leaves.
enum HeldRequestCharge {
    /// What a call in flight keeps besides its request (its session entry, task or flight,
    /// upstream entry, closures), rounded up: it makes the byte budget a bound on calls too.
    static let perCall = 2048

    static func of(requestBytes: Int) -> Int { requestBytes + Self.perCall }
}

/// A charge given back to its budget when the last reference to it goes, however the call
/// ended: an HTTP call's answer may be written, dropped with its connection or never made.
final class HeldRequestBytes: Sendable {
    private let budget: SharedBudget
    private let count: Int

    /// Owns `count` already taken from `budget`.
    init(adopting count: Int, of budget: SharedBudget) {
        self.budget = budget
        self.count = count
    }

    deinit { self.budget.giveBack(self.count) }
}
