// Waiting for something with a deadline, even when what is awaited ignores cancellation (an
// EventLoopFuture's `get()` does): a graceful stop must end within its grace.

import Synchronization

enum BoundedWait {
    /// Runs `body` until it returns or `deadline` passes; true when it returned in time. At the
    /// deadline `body` is cancelled and left to end on its own: the caller returns at once.
    static func finished(by deadline: ContinuousClock.Instant, _ body: @escaping @Sendable () async -> Void) async -> Bool {
        let outcome = Outcome()
        return await withCheckedContinuation { continuation in
            outcome.start(
                continuation,
                work: Task { await body() },
                timer: Task { try? await Task.sleep(until: deadline) })
        }
    }

    /// Resumes the waiter with whichever task ends first, and cancels the other.
    private final class Outcome: Sendable {
        private let decided = Atomic<Bool>(false)

        func start(_ continuation: CheckedContinuation<Bool, Never>, work: Task<Void, Never>, timer: Task<Void, Never>) {
            Task {
                await work.value
                if self.decide() {
                    timer.cancel()
                    continuation.resume(returning: true)
                }
            }
            Task {
                await timer.value
                if self.decide() {
                    work.cancel()
                    continuation.resume(returning: false)
                }
            }
        }

        private func decide() -> Bool { !self.decided.exchange(true, ordering: .acquiringAndReleasing) }
    }
}
