// A count every client connection draws on, bounded: the bytes of unfinished requests (ten
// clients each sending 90 MB at once no longer take 900 MB; past the budget a body is refused,
// 503, instead of buffered), and the channels open across connections.

import Synchronization

/// Taken and given back by many connections at once; never past `limit`.
final class SharedBudget: Sendable {
    let limit: Int
    private let taken = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Takes `count` bytes from the budget; false (nothing taken) when that would pass it.
    func take(_ count: Int) -> Bool {
        let now = self.taken.add(count, ordering: .relaxed).newValue
        guard now > self.limit else { return true }
        self.taken.subtract(count, ordering: .relaxed)
        return false
    }

    func giveBack(_ count: Int) {
        guard count > 0 else { return }
        self.taken.subtract(count, ordering: .relaxed)
    }

    var held: Int { self.taken.load(ordering: .relaxed) }
}
