// The bytes of unfinished HTTP request bodies fpool holds across all connections, bounded: ten
// clients each sending 90 MB at once no longer take 900 MB; past the budget a body is refused
// (503) instead of buffered.

import Synchronization

final class RequestBodyBudget: Sendable {
    let limit: Int
    private let held = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Takes `count` bytes from the budget; false (nothing taken) when that would pass it.
    func take(_ count: Int) -> Bool {
        let now = self.held.add(count, ordering: .relaxed).newValue
        guard now > self.limit else { return true }
        self.held.subtract(count, ordering: .relaxed)
        return false
    }

    func giveBack(_ count: Int) {
        guard count > 0 else { return }
        self.held.subtract(count, ordering: .relaxed)
    }

    var bytesHeld: Int { self.held.load(ordering: .relaxed) }
}
