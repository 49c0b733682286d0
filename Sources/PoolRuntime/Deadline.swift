// Bounding work that may ignore cancellation (a hung dial, a stuck daemon).

extension Pool {
    /// The work's result, or `timedOut` once `limit` passes, whichever comes first. The caller
    /// returns at the deadline even if the work ignores cancellation (it is cancelled and left to
    /// finish on its own), unlike a task group, which waits for every child.
    func bounded<T: Sendable>(
        _ limit: Duration, timedOut: T, _ work: @escaping @Sendable () async -> T
    ) async -> T {
        let race = Race<T>()
        return await withCheckedContinuation { continuation in
            race.start(
                continuation: continuation,
                work: Task { await work() },
                timer: Task {
                    try? await self.clock.sleep(for: limit)
                    return Task.isCancelled ? nil : timedOut
                })
        }
    }
}

/// Resumes a continuation with whichever of two tasks finishes first, then cancels the other.
final class Race<T: Sendable>: Sendable {
    private let decided = OnceFlag()

    func start(continuation: CheckedContinuation<T, Never>, work: Task<T, Never>, timer: Task<T?, Never>) {
        Task {
            let value = await work.value
            if self.decided.fire() {
                timer.cancel()
                continuation.resume(returning: value)
            }
        }
        Task {
            guard let value = await timer.value else { return }
            if self.decided.fire() {
                work.cancel()
                continuation.resume(returning: value)
            }
        }
    }
}
