// A counter that moves on every change of something the pool watches, with the waits for its
// next move: calls waiting for a node, the heartbeat loop waiting for its interval.

/// The waits on one kind of change. A wait names the generation it saw, so a change that came
/// between looking and waiting is never missed.
struct ChangeSignal: Sendable {
    private(set) var generation: UInt64 = 0
    private var waiters: [Int: CheckedContinuation<Void, Never>] = [:]

    /// Moves the generation and hands back every waiter. The caller resumes them once its lock
    /// is released: a waiter being cancelled holds its task while its handler waits for the lock.
    mutating func signal() -> [CheckedContinuation<Void, Never>] {
        self.generation &+= 1
        defer { self.waiters = [:] }
        return Array(self.waiters.values)
    }

    /// Keeps `continuation` until the next change; false (nothing kept) when the generation
    /// already moved past `seen`.
    mutating func wait(_ id: Int, after seen: UInt64, _ continuation: CheckedContinuation<Void, Never>) -> Bool {
        guard self.generation == seen else { return false }
        self.waiters[id] = continuation
        return true
    }

    /// A wait given up (its task cancelled): the caller resumes what this returns.
    mutating func cancel(_ id: Int) -> CheckedContinuation<Void, Never>? {
        self.waiters.removeValue(forKey: id)
    }

    var waiting: Int { self.waiters.count }
}
