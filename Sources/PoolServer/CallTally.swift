// Running totals `fpool top` reads back: answered calls per (method, node, outcome) and retries
// per node. Prometheus counters cannot be read back by the process that writes them; these
// are atomics beside them, bumped where the counters are, so the hot path takes no extra lock.

import Synchronization

/// One series' count of answered calls.
final class CallCount: Sendable {
    let value = Atomic<UInt64>(0)

    func increment() { self.value.add(1, ordering: .relaxed) }
    var current: UInt64 { self.value.load(ordering: .relaxed) }
}

/// Retries per node name; a retry is rare next to a call, so a lock is cheap enough.
final class RetryTally: Sendable {
    private let counts = Mutex<[String: UInt64]>([:])

    func record(node: String) { self.counts.withLock { $0[node, default: 0] += 1 } }
    var byNode: [String: UInt64] { self.counts.withLock { $0 } }
}

/// What `FPool.Top` reports of the calls so far: totals, which the CLI turns into rates.
struct CallTotals: Sendable {
    /// Calls answered (any outcome) and errors (an error answer, or no answer), by node index (-1: no node).
    var byNode: [Int: (calls: UInt64, errors: UInt64)] = [:]
    /// The same by method name ("unlisted" for names in no table).
    var byMethod: [String: (calls: UInt64, errors: UInt64)] = [:]
}
