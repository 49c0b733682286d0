// Waiting for something with a deadline, even when what is awaited ignores cancellation (an
// EventLoopFuture's `get()` does): a graceful stop must end within its grace.

import Synchronization

enum BoundedWait {
    /// Runs `body` until it returns or `deadline` passes; true when it returned in time. At the
    /// deadline, or when the waiting task is cancelled, `body` is cancelled and left to end on
    /// its own: the caller returns at once.
    static func finished(by deadline: ContinuousClock.Instant, _ body: @escaping @Sendable () async -> Void) async -> Bool {
        let outcome = Outcome()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                outcome.start(
                    continuation,
                    work: Task { await body() },
                    timer: Task { try? await Task.sleep(until: deadline) })
            }
        } onCancel: {
            outcome.decide(false)
        }
    }

    /// Resumes the waiter once, with whichever comes first: the work, the timer or a cancel.
    private final class Outcome: Sendable {
        private struct State {
            var decided: Bool?
            var continuation: CheckedContinuation<Bool, Never>?
            var tasks: [Task<Void, Never>] = []
        }

        private let state = Mutex(State())

        func start(_ continuation: CheckedContinuation<Bool, Never>, work: Task<Void, Never>, timer: Task<Void, Never>) {
            let early = self.state.withLock { state -> Bool? in
                if let decided = state.decided { return decided }
                state.continuation = continuation
                state.tasks = [work, timer]
                return nil
            }
            if let early {
                work.cancel()
                timer.cancel()
                return continuation.resume(returning: early)
            }
            Task {
                await work.value
                self.decide(true)
            }
            Task {
                await timer.value
                self.decide(false)
            }
        }

        func decide(_ finished: Bool) {
            let (continuation, tasks) = self.state.withLock { state -> (CheckedContinuation<Bool, Never>?, [Task<Void, Never>]) in
                guard state.decided == nil else { return (nil, []) }
                state.decided = finished
                defer {
                    state.continuation = nil
                    state.tasks = []
                }
                return (state.continuation, state.tasks)
            }
            tasks.forEach { $0.cancel() }
            continuation?.resume(returning: finished)
        }
    }
}
