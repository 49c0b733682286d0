// Counts client calls in progress, so a graceful shutdown can wait for them to be answered.

import Synchronization

final class InflightCalls: Sendable {
    private struct Waiters {
        var waiting: [Int: CheckedContinuation<Void, Never>] = [:]
        var next = 0
    }

    /// Every call enters and leaves, from every event loop: an atomic, not a lock they would
    /// all take twice per call. The lock is only for a shutdown's waiters.
    private let calls = Atomic<Int>(0)
    private let waiters = Mutex(Waiters())

    func enter() { self.calls.add(1, ordering: .relaxed) }

    func leave() {
        // Acquire-release: a waiter that found calls in flight registered before this drop
        // to zero, and its registration is seen below.
        guard self.calls.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 else { return }
        self.resumeIfIdle()
    }

    var count: Int { self.calls.load(ordering: .acquiring) }

    /// Resumes every waiter while no call is in flight (checked under the waiters' lock, so a
    /// waiter registering now either sees the count at zero or is resumed here).
    private func resumeIfIdle() {
        let idle = self.waiters.withLock { waiters -> [CheckedContinuation<Void, Never>] in
            guard self.calls.load(ordering: .acquiring) == 0 else { return [] }
            defer { waiters.waiting = [:] }
            return Array(waiters.waiting.values)
        }
        idle.forEach { $0.resume() }
    }

    /// Returns once no call is in progress, or when the waiting task is cancelled.
    func waitUntilIdle() async {
        let id = self.waiters.withLock { waiters in
            defer { waiters.next += 1 }
            return waiters.next
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let done = self.waiters.withLock { waiters -> Bool in
                    // Read under the lock `leave` takes at zero: a drop to zero after this
                    // read finds the continuation registered.
                    if self.calls.load(ordering: .acquiring) == 0 || Task.isCancelled { return true }
                    waiters.waiting[id] = continuation
                    return false
                }
                if done { continuation.resume() }
            }
        } onCancel: {
            self.waiters.withLock { $0.waiting.removeValue(forKey: id) }?.resume()
        }
    }
}
