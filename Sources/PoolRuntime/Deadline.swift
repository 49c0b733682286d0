// Bounding work that may ignore cancellation (a hung dial, a stuck daemon).

extension Pool {
    /// The work's result, or `timedOut` once `limit` passes, whichever comes first. The caller
    /// returns at the deadline even if the work ignores cancellation (it is cancelled and left to
    /// finish on its own), unlike a task group, which waits for every child.
    func bounded<T: Sendable>(
        _ limit: Duration, timedOut: T, _ work: @escaping @Sendable () async -> T
    ) async -> T {
        let race = Race<T>()
        let workTask = Task { await work() }
        let timer = Task {
            try? await self.clock.sleep(for: limit)
            return Task.isCancelled ? nil : timedOut
        }
        // A caller that gives up (client cancel, disconnect) cancels the work too, so a call to
        // a daemon is cancelled there rather than left running.
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                race.start(continuation: continuation, work: workTask, timer: timer)
            }
        } onCancel: {
            workTask.cancel()
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
